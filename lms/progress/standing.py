"""The coverage aggregates: one CourseStanding row per person and course, rewritten in the same
transaction as every completion written or revoked, and rebuilt in bulk by `lms rebuild-aggregates`.

Coverage reads these rows joined to today's roster of chairs, so a report for any scope and any
as-of day never reads the completion table. Only published modules count; when a module is
published, retired or changes kind, its course's rows are rebuilt (see `connect`).
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite

from lms.catalog.models import Module, ModuleKind, ModuleStatus
from lms.db import VN_TZ, db, utcnow
from lms.progress import rollup
from lms.progress.models import Completion, CourseStanding

BATCH = 5000


def vn_day(moment: datetime) -> date:
    """The Vietnam calendar day of a UTC timestamp (COMP-06: 23:30 in Hanoi is that day)."""
    return moment.astimezone(VN_TZ).date()


def standing_values(kinds: dict[int, ModuleKind], done: dict[int, datetime]) -> dict:
    """The row's figures from the counted modules' kinds and the completion time of each done."""
    awareness = [m for m, kind in kinds.items() if kind == ModuleKind.AWARENESS]
    core = [m for m, kind in kinds.items() if kind == ModuleKind.CORE]
    aware_days = [vn_day(done[m]) for m in awareness if m in done]
    core_days = sorted(vn_day(done[m]) for m in core if m in done)
    all_days = [vn_day(t) for m, t in done.items() if m in kinds]
    all_aware = bool(awareness) and len(aware_days) == len(awareness)
    return {
        "awareness_on": max(aware_days) if all_aware else None,
        "core_all_on": core_days[-1] if core and len(core_days) == len(core) else None,
        "first_on": min(all_days) if all_days else None,
        "core_done": len(core_days),
        "core_dates": ",".join(d.isoformat() for d in core_days),
    }


def _counted(course_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(Module.course_id == course_id, Module.status == ModuleStatus.PUBLISHED)


def _lock_row(user_id: int, course_id: int) -> tuple[date | None, date | None]:
    """Create or touch the row first: this takes its lock, so two completions of one person
    committing at once are counted one after the other instead of one overwriting the other.
    Returns the row's two days as they stand before this change."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    row = db.session.execute(
        insert(CourseStanding)
        .values(user_id=user_id, course_id=course_id, core_done=0, core_dates="", updated_dt=now)
        .on_conflict_do_update(index_elements=["user_id", "course_id"], set_={"updated_dt": now})
        .returning(CourseStanding.awareness_on, CourseStanding.core_all_on)
    ).one()
    return row[0], row[1]


def refresh(user_id: int, course_id: int) -> None:
    """Recompute one person's row in one course from their standing completions (3 statements)."""
    previous = _lock_row(user_id, course_id)
    rows = db.session.execute(
        sa.select(Module.id, Module.kind, Completion.completed_dt)
        .outerjoin(
            Completion,
            sa.and_(
                Completion.module_id == Module.id,
                Completion.user_id == user_id,
                Completion.revoked_dt.is_(None),
            ),
        )
        .where(_counted(course_id))
    ).all()
    kinds = {module_id: kind for module_id, kind, _ in rows}
    done = {module_id: when for module_id, _, when in rows if when is not None}
    values = standing_values(kinds, done)
    db.session.execute(
        sa.update(CourseStanding)
        .where(CourseStanding.user_id == user_id, CourseStanding.course_id == course_id)
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    # Only the two days reach the roll-ups: most completions change neither.
    if (values["awareness_on"], values["core_all_on"]) != previous:
        rollup.mark_chair(db.session(), user_id, course_id)


def refresh_for(user_id: int, module: Module) -> None:
    """Keep the aggregates in step after a completion of this module was written or revoked."""
    refresh(user_id, module.course_id)


def _course_rows(session: orm.Session, course_id: int) -> Iterator[dict]:
    kinds = dict(
        session.execute(sa.select(Module.id, Module.kind).where(_counted(course_id))).all()
    )
    if not kinds:
        return
    completions = session.execute(
        sa.select(Completion.user_id, Completion.module_id, Completion.completed_dt)
        .where(Completion.module_id.in_(list(kinds)), Completion.revoked_dt.is_(None))
        .order_by(Completion.user_id)
        .execution_options(yield_per=BATCH)
    )
    now = utcnow()
    for user_id, group in groupby(completions, key=lambda row: row[0]):
        done = {module_id: when for _, module_id, when in group}
        values = standing_values(kinds, done)
        yield {"user_id": user_id, "course_id": course_id, "updated_dt": now, **values}


def rebuild_course(course_id: int, session: orm.Session | None = None) -> int:
    """Rewrite every row of one course from the completion table; returns the rows written."""
    session = session or db.session()
    rollup.mark_course(session, course_id)  # counted again before the transaction ends
    session.execute(
        sa.delete(CourseStanding).where(CourseStanding.course_id == course_id),
        execution_options={"synchronize_session": False},
    )
    written = 0
    for batch in _batches(_course_rows(session, course_id)):
        session.execute(sa.insert(CourseStanding), batch)
        written += len(batch)
    return written


def _batches(rows: Iterable[dict]) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def rebuild_all() -> int:
    """Rewrite the aggregates of every course (`lms rebuild-aggregates`); returns the rows."""
    from lms.catalog.models import Course

    db.session.execute(sa.delete(CourseStanding), execution_options={"synchronize_session": False})
    ids = db.session.scalars(sa.select(Course.id).order_by(Course.id)).all()
    rows = sum(rebuild_course(course_id) for course_id in ids)
    rollup.mark_everything(db.session())  # the unions are counted again too
    rollup.settle()
    return rows


# ---- modules that start or stop counting ---------------------------------------------------

_WATCHED = ("status", "kind", "course_id")


def _changed_courses(session: orm.Session) -> set[int]:
    """Courses whose set of counted modules this flush changes (published, retired, new kind)."""
    courses: set[int] = set()
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Module):
            continue
        state = sa.inspect(obj)
        if obj in session.new or any(state.attrs[name].history.has_changes() for name in _WATCHED):
            courses.add(obj.course_id)
    return courses


def _after_flush(session: orm.Session, _context: object) -> None:
    courses = _changed_courses(session)
    if courses:
        session.info.setdefault("standing_courses", set()).update(courses)


def _after_flush_postexec(session: orm.Session, _context: object) -> None:
    # Rebuilt here, once the module rows are written, inside the same transaction.
    for course_id in sorted(session.info.pop("standing_courses", ())):
        rebuild_course(course_id, session)


def connect() -> None:
    """Watch module changes on every session (called once by the app factory)."""
    if not sa.event.contains(orm.Session, "after_flush", _after_flush):
        sa.event.listen(orm.Session, "after_flush", _after_flush)
        sa.event.listen(orm.Session, "after_flush_postexec", _after_flush_postexec)
