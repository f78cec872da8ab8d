"""The coverage aggregates: one CourseStanding row per person and course, rewritten in the same
transaction as every completion written or revoked, and rebuilt in bulk by `lms rebuild-aggregates`.

Coverage reads these rows joined to today's roster of chairs, so a report for any scope and any
as-of day never reads the completion table. Only published modules count; when a module is
retired or changes kind, its course's rows are rebuilt (see `connect`); a new module published
before anyone began it only clears, in place, the days it undoes. Drafts count for nothing.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql

from lms.catalog.models import Module, ModuleKind, ModuleStatus
from lms.db import VN_TZ, db, upsert, utcnow
from lms.progress import rollup
from lms.progress.models import Completion, CourseStanding, LessonProgress


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


def _lock_row(user_id: int, course_id: int) -> None:
    """Create or touch the row first: this takes its lock, so two completions of one person
    committing at once are counted one after the other instead of one overwriting the other."""
    now = utcnow()
    db.session.execute(
        upsert(CourseStanding)
        .values(user_id=user_id, course_id=course_id, core_done=0, core_dates="", updated_dt=now)
        .on_conflict_do_update(index_elements=["user_id", "course_id"], set_={"updated_dt": now})
    )


def refresh(user_id: int, course_id: int) -> None:
    """Recompute one person's row in one course from their standing completions (3 statements)."""
    _lock_row(user_id, course_id)
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
    # Every completion reaches the roll-ups: the dashboard's funnel counts each module's day,
    # even when neither of the targets' two days moves.
    rollup.mark_chair(db.session(), user_id, course_id)


def refresh_for(user_id: int, module: Module) -> None:
    """Keep the aggregates in step after a completion of this module was written or revoked."""
    refresh(user_id, module.course_id)


def vn_day_of(moment: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """The Vietnam calendar day of a UTC timestamp column, computed by the database (Vietnam
    has kept UTC+7, without summer time, since 1975)."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone("Asia/Ho_Chi_Minh", moment), sa.Date)
    # SQLite keeps UTC as text. The fraction is cut off, or 16:59:59.9999 would round to 17:00.
    return sa.func.date(sa.func.substr(moment, 1, 19), "+7 hours")


def _all_done(days: sa.ColumnElement, needed: int) -> sa.ColumnElement:
    """The last of the days once `needed` modules are done (none when the course has none)."""
    if not needed:
        return sa.null()
    return sa.case((sa.func.count(days) == needed, sa.func.max(days)))


def rebuild_course(course_id: int, session: orm.Session | None = None) -> int:
    """Rewrite every row of one course from the completion table, in one INSERT ... SELECT
    that gives the same figures as `standing_values`; returns the rows written."""
    session = session or db.session()
    rollup.mark_course(session, course_id)  # counted again before the transaction ends
    session.execute(
        sa.delete(CourseStanding).where(CourseStanding.course_id == course_id),
        execution_options={"synchronize_session": False},
    )
    kinds = dict(
        session.execute(sa.select(Module.id, Module.kind).where(_counted(course_id))).all()
    )
    if not kinds:
        return 0
    dialect = session.get_bind().dialect.name
    day = vn_day_of(Completion.completed_dt, dialect).label("day")
    done = (
        sa.select(Completion.user_id, Module.kind, day)
        .join(Module, Module.id == Completion.module_id)
        .where(
            rollup.completions_of(course_id, session).in_(list(kinds)),
            Completion.revoked_dt.is_(None),
        )
    )
    if dialect != "postgresql":
        done = done.order_by(Completion.user_id, "day")  # group_concat keeps the rows' order
    done = done.subquery()
    aware_days = sa.case((done.c.kind == ModuleKind.AWARENESS, done.c.day))
    core_days = sa.case((done.c.kind == ModuleKind.CORE, done.c.day))
    if dialect == "postgresql":
        in_order = postgresql.aggregate_order_by(sa.literal(","), done.c.day)
        listed = sa.func.string_agg(sa.cast(core_days, sa.String), in_order)
    else:
        listed = sa.func.group_concat(core_days, ",")
    counted = list(kinds.values())
    rows = sa.select(
        done.c.user_id,
        sa.literal(course_id, sa.Integer),
        _all_done(aware_days, counted.count(ModuleKind.AWARENESS)),
        _all_done(core_days, counted.count(ModuleKind.CORE)),
        sa.func.min(done.c.day),
        sa.func.count(core_days),
        sa.func.coalesce(listed, ""),
        sa.literal(utcnow(), CourseStanding.updated_dt.type),
    ).group_by(done.c.user_id)
    columns = ["user_id", "course_id", "awareness_on", "core_all_on", "first_on", "core_done",
               "core_dates", "updated_dt"]  # fmt: skip
    session.execute(sa.insert(CourseStanding).from_select(columns, rows))
    written = sa.select(sa.func.count()).where(CourseStanding.course_id == course_id)
    return session.scalar(written) or 0


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


def _before(obj: Module, name: str) -> object:
    """The value the flush replaced, or the current one when it did not change."""
    replaced = sa.inspect(obj).attrs[name].history.deleted
    return replaced[0] if replaced else getattr(obj, name)


RECOUNT = None  # a course's modules changed in a way only a rebuild counts


def _changed_courses(session: orm.Session) -> dict[int, list[Module] | None]:
    """Courses whose counted modules this flush changes, each with the modules that start
    counting, or RECOUNT when one stops counting or a published one changes kind or course.
    A draft created, edited or taken back changes no figure, so it rewrites nothing."""
    courses: dict[int, list[Module] | None] = {}
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Module):
            continue
        counts_now = obj.status == ModuleStatus.PUBLISHED
        if obj in session.new:
            counted = False
            course_id, kind = obj.course_id, obj.kind
        else:
            counted = _before(obj, "status") == ModuleStatus.PUBLISHED
            course_id, kind = _before(obj, "course_id"), _before(obj, "kind")
        moved = course_id != obj.course_id or kind != obj.kind
        if counted and (moved or not counts_now):
            courses[course_id] = RECOUNT
            if counts_now:
                courses[obj.course_id] = RECOUNT
        elif counts_now and not counted:
            starting = courses.setdefault(obj.course_id, [])
            if starting is not RECOUNT:
                starting.append(obj)
    return courses


def _start_counting(session: orm.Session, course_id: int, modules: list[Module]) -> bool:
    """Count modules that nobody has begun (no completion, no lesson opened, as when a new
    module is published) without a rebuild: they change one thing, that nobody has done every
    awareness (or every core) module of the course any more. That day is cleared in place,
    here and in the roll-ups: at XL 0,7-0,9 s on SQLite and 1,6-3,2 s on PostgreSQL, where a
    rebuild held learners' writes back for 8-12 s and 18-23 s (they wait 5 s). False when
    someone began one of them (a module published again, say), or when the course counted no
    module before (its first one builds the course's roll-ups): the course must be rebuilt."""
    ids = [module.id for module in modules]
    counted_before = sa.exists().where(_counted(course_id), Module.id.not_in(ids))
    begun = sa.or_(
        sa.exists().where(Completion.module_id.in_(ids)),
        sa.exists().where(LessonProgress.module_id.in_(ids)),
    )
    if not session.scalar(sa.select(sa.and_(counted_before, sa.not_(begun)))):
        return False
    kinds = {module.kind for module in modules}
    days = [column for column, kind in ((CourseStanding.awareness_on, ModuleKind.AWARENESS),
                                        (CourseStanding.core_all_on, ModuleKind.CORE))
            if kind in kinds]  # fmt: skip
    session.execute(
        sa.update(CourseStanding)
        .where(CourseStanding.course_id == course_id, sa.or_(*(d.is_not(None) for d in days)))
        .values({d.key: None for d in days} | {"updated_dt": utcnow()}),
        execution_options={"synchronize_session": False},
    )
    rollup.forget_done(
        session,
        course_id,
        aware=ModuleKind.AWARENESS in kinds,
        trained=ModuleKind.CORE in kinds,
    )
    return True


def _after_flush(session: orm.Session, _context: object) -> None:
    pending = session.info.setdefault("standing_courses", {})
    for course_id, starting in _changed_courses(session).items():
        if starting is RECOUNT or pending.get(course_id, []) is RECOUNT:
            pending[course_id] = RECOUNT
        else:
            pending.setdefault(course_id, []).extend(starting)


def _after_flush_postexec(session: orm.Session, _context: object) -> None:
    # Counted here, once the module rows are written, inside the same transaction.
    for course_id, starting in sorted(session.info.pop("standing_courses", {}).items()):
        if starting is RECOUNT or not _start_counting(session, course_id, starting):
            rebuild_course(course_id, session)


def connect() -> None:
    """Watch module changes on every session (called once by the app factory)."""
    if not sa.event.contains(orm.Session, "after_flush", _after_flush):
        sa.event.listen(orm.Session, "after_flush", _after_flush)
        sa.event.listen(orm.Session, "after_flush_postexec", _after_flush_postexec)
