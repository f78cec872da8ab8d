"""Coverage roll-ups: the four targets of every organisation above the unions, per day, so that a
province or national report sums a few hundred rows instead of visiting 130.000 unions.

UnitStanding holds what each union adds (its chair's two days, its sector and size, its path,
and the modules the chair started and completed), and beside it what the dashboard's chairs to
contact read of the chair (CHAIR_COLUMNS: counted with the union, written by visits and submits
in lms.progress.activity and by a password set, `mark_account`); CoverageRollup holds the sums
per scope (each ancestor, and 0 for the whole federation) and day, ModuleRollup the funnel's
per module today.

Whatever can change a union's contribution marks the union in the session: a completion of its
chair written or revoked (standing.refresh), a union created, moved, resized or re-sectored, a
chair appointed or ended (ORM changes and bulk inserts of officers, watched by `connect`), a
course's split changed (every union of the course). Before the transaction commits, and before a
roll-up is read in it, `settle` recounts the marked unions, compares each with what it added so
far and adds the difference to every ancestor's rows. Very large batches (a national roster) and
module changes rebuild the course instead, except a new module published before anyone began it,
which only clears the days it undoes (forget_done). A chair opening a module (mark_opened)
changes one thing only, and adds that module to the union's started ones without counting it
again.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from itertools import chain, islice

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql

from lms.accounts.models import User
from lms.catalog.models import Course, Module, ModuleStatus
from lms.db import bulk_insert, db, upsert
from lms.orgs.models import GRASSROOTS, Officer, Organization, Position, Sector
from lms.progress.models import (
    EVER,
    Completion,
    CourseStanding,
    CoverageRollup,
    LearnerActivity,
    LessonProgress,
    ModuleRollup,
    UnitStanding,
)

FEDERATION = 0
COUNTS = ("units", "units_non_state", "units_non_state_large", "aware", "trained_small",
          "trained_large")  # fmt: skip
MODULE_COUNTS = ("started", "done", "started_non_state", "done_non_state")
REBUILD_ABOVE = 20_000  # marked unions beyond which rebuilding the course costs less
SCAN_ABOVE = 1 / 25  # share of the completions beyond which a rebuild scans the table (SQLite)
LOCK_EACH_UP_TO = 200  # PostgreSQL: a lock per union up to this many, then the whole table
LOCK_CLASS = 0x726F6C6C  # "roll": the advisory locks of unions being recounted
CHUNK = 5000

# A union's contribution: (path, non_state, large, aware_on, trained_on, modules started,
# modules done), the modules as ordered ids ("21,22"); then what the chairs to contact read of
# its chair (CHAIR_COLUMNS), which adds nothing to the sums.
Contribution = tuple[str, bool, bool, date | None, date | None, str, str,
                     int | None, bool, bool, date | None, date | None]  # fmt: skip
CHAIR_COLUMNS = ("chair_id", "chair_activated", "chair_failed", "chair_seen_on", "chair_core_on")
# Of those, the ones the person's own writes keep (a visit, a graded quiz, a password set,
# outside the unions' recount locks): a recount of the union writes them only for a new chair,
# so that one that read the person's activity before such a write committed (PostgreSQL) does
# not put the older value back. A rebuild writes them all.
KEPT_BY_THE_PERSON = ("chair_activated", "chair_failed", "chair_seen_on")
UNIT_FIGURES = ("path", "non_state", "large", "aware_on", "trained_on", "modules_started",
                "modules_done")  # fmt: skip
Key = tuple[int, int, date]  # course, scope, day
ModuleKey = tuple[int, int, int]  # course, scope, module


class Deltas:
    """Differences to add to the two roll-up tables."""

    def __init__(self) -> None:
        self.figures: dict[Key, list[int]] = defaultdict(lambda: [0] * len(COUNTS))
        self.modules: dict[ModuleKey, list[int]] = defaultdict(lambda: [0] * len(MODULE_COUNTS))


# ---- what needs recounting (kept in session.info until settled) -----------------------------


def _pending(session: orm.Session) -> dict:
    return session.info.setdefault(
        "rollup",
        {"units": set(), "chairs": set(), "opened": set(), "courses": set(), "all": False,
         "accounts": set()},  # fmt: skip
    )


def mark_units(session: orm.Session, org_ids: Iterable[int | None]) -> None:
    _pending(session)["units"].update(i for i in org_ids if i is not None)


def mark_chair(session: orm.Session, user_id: int, course_id: int) -> None:
    """The person's standing in the course changed: the unions they chair are recounted."""
    _pending(session)["chairs"].add((course_id, user_id))


def mark_opened(session: orm.Session, user_id: int, module_id: int) -> None:
    """The person opened the module's first lesson: the funnel counts it if they chair."""
    _pending(session)["opened"].add((module_id, user_id))


def mark_account(session: orm.Session, user_id: int) -> None:
    """The person set a password (or lost it): the unions they chair copy whether they did."""
    _pending(session)["accounts"].add(user_id)


def mark_course(session: orm.Session, course_id: int) -> None:
    _pending(session)["courses"].add(course_id)


def mark_everything(session: orm.Session) -> None:
    _pending(session)["all"] = True


# ---- settling ------------------------------------------------------------------------------


def settle(session: orm.Session | None = None) -> None:
    """Bring the roll-ups in step with everything marked in this transaction so far."""
    session = session or db.session()
    session.flush()  # changes not yet flushed are marked by the flush
    while _has_pending(session):
        pending = session.info.pop("rollup")
        if pending["all"] or pending["courses"] or pending["units"] or pending["chairs"]:
            _settle_marked(session, pending)
        if pending["opened"]:
            # After any recount above, which has then counted these visits already.
            _add_opened(session, pending["opened"])
        if pending["accounts"]:
            _copy_activated(session, sorted(pending["accounts"]))
        session.flush()


def _settle_marked(session: orm.Session, pending: dict) -> None:
    courses = list(session.scalars(sa.select(Course.id).order_by(Course.id)))
    whole = set(courses) if pending["all"] else pending["courses"] & set(courses)
    if len(pending["units"]) > REBUILD_ABOVE:
        whole = set(courses)
    if whole:
        rebuild_courses(sorted(whole), session)
    marked: dict[int, set[int]] = {c: set(pending["units"]) for c in courses if c not in whole}
    chairs = [(c, u) for c, u in pending["chairs"] if c in marked]
    for course_id, org_id in _chaired(session, chairs):
        marked[course_id].add(org_id)
    if any(marked.values()):
        _recount(session, {c: ids for c, ids in marked.items() if ids})


def _has_pending(session: orm.Session) -> bool:
    pending = session.info.get("rollup")
    return bool(pending) and any(pending.values())


def _add_opened(session: orm.Session, opened: set[tuple[int, int]]) -> None:
    """A chair's first visit of a module adds the module to what the union started, and only
    that: the rest of its contribution cannot have changed, so nothing is counted again. This
    runs on a learner's first visit of every module, where a recount would cost four more
    statements, inside SQLite's write lock."""
    found = _not_yet_started(session, opened)
    if found and _dialect(session) == "postgresql":
        _lock_units(session, sorted({org_id for _, org_id in found}))
        found = _not_yet_started(session, opened)  # again, now that no other recount runs
    deltas = Deltas()
    changed = []
    for (course_id, org_id), (path, non_state, started, new) in sorted(found.items()):
        changed.append({"c": course_id, "o": org_id, "ids": _ordered(f"{started},{new}")})
        _add_modules(deltas.modules, course_id, (path, non_state, new, ""), +1)
    if changed:
        table = UnitStanding.__table__
        session.execute(
            table.update()
            .where(table.c.course_id == sa.bindparam("c"), table.c.org_id == sa.bindparam("o"))
            .values(modules_started=sa.bindparam("ids")),
            changed,
        )
        _apply(session, deltas)


def _copy_activated(session: orm.Session, user_ids: list[int]) -> None:
    """Whether each of these people activated their account, onto the unions they chair."""
    unit = UnitStanding.__table__.c
    activated = sa.select(User.password_hash.is_not(None)).where(User.id == unit.chair_id)
    for chunk in _chunks(user_ids):
        session.execute(
            UnitStanding.__table__.update()
            .where(unit.chair_id.in_(chunk))
            .values(chair_activated=activated.scalar_subquery())
        )


def _not_yet_started(session: orm.Session, opened: set[tuple[int, int]]) -> dict:
    """The unions whose chair today opened a counted module that their modules started do not
    list yet: (course, union) → (path, non-state, modules started, the new ones)."""
    found: dict[tuple[int, int], tuple] = {}
    modules = sorted({m for m, _ in opened})
    for users in _chunks(sorted({u for _, u in opened})):
        chairs = Officer.user_id.in_(users)
        if _dialect(session) == "sqlite":
            # Without the hint SQLite starts from the module and walks every union of its
            # course (unit_standing by course_id) looking for the chair: 80-100 ms at XL on a
            # first visit. Told that few officers match, it starts from them.
            chairs = sa.func.likelihood(chairs, sa.literal_column("0.000001"))
        rows = session.execute(
            sa.select(
                UnitStanding.course_id,
                UnitStanding.org_id,
                UnitStanding.path,
                UnitStanding.non_state,
                UnitStanding.modules_started,
                Module.id,
                Officer.user_id,
            )
            .join(UnitStanding, UnitStanding.org_id == Officer.org_id)
            .join(Module, Module.course_id == UnitStanding.course_id)
            .where(
                chairs,
                Officer.position == Position.CHAIR,
                Officer.ended_on.is_(None),
                Module.id.in_(modules),
                Module.status == ModuleStatus.PUBLISHED,
            )
        )
        for course_id, org_id, path, non_state, started, module_id, user_id in rows:
            if (module_id, user_id) not in opened or str(module_id) in started.split(","):
                continue
            key = (course_id, org_id)
            new = found[key][3] + f",{module_id}" if key in found else str(module_id)
            found[key] = (path, bool(non_state), started, _ordered(new))
    return found


def _chaired(session: orm.Session, chairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(course, union) for each union the given people chair today."""
    users = sorted({u for _, u in chairs})
    found: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(users):
        for user_id, org_id in session.execute(
            sa.select(Officer.user_id, Officer.org_id).where(
                Officer.user_id.in_(chunk),
                Officer.position == Position.CHAIR,
                Officer.ended_on.is_(None),
            )
        ):
            found[user_id].append(org_id)
    return [(c, org_id) for c, u in chairs for org_id in found.get(u, ())]


def _recount(session: orm.Session, marked: dict[int, set[int]]) -> None:
    """Count the marked unions again and apply each difference to their ancestors' rows."""
    org_ids = sorted(set(chain.from_iterable(marked.values())))
    _lock_units(session, org_ids)
    old, new = {}, {}
    for chunk in _chunks(org_ids):
        old.update(_stored(session, list(marked), chunk))
        new.update((k, v) for k, v in _counted(session, list(marked), chunk))
    deltas = Deltas()
    gone, changed = [], []
    for key in sorted(set(old) | set(new)):
        course_id, org_id = key
        if org_id not in marked[course_id] or old.get(key) == new.get(key):
            continue
        if key in old:
            _add(deltas, course_id, old[key], -1)
        if key in new:
            _add(deltas, course_id, new[key], +1)
            changed.append(_unit_row(course_id, org_id, new[key]))
        else:
            gone.append(key)
    _write_units(session, gone, changed)
    _apply(session, deltas)


def _stored(session: orm.Session, course_ids: list[int], org_ids: list[int]) -> dict:
    rows = session.execute(
        sa.select(
            UnitStanding.course_id,
            UnitStanding.org_id,
            UnitStanding.path,
            UnitStanding.non_state,
            UnitStanding.large,
            UnitStanding.aware_on,
            UnitStanding.trained_on,
            UnitStanding.modules_started,
            UnitStanding.modules_done,
            *(getattr(UnitStanding, name) for name in CHAIR_COLUMNS),
        ).where(UnitStanding.course_id.in_(course_ids), UnitStanding.org_id.in_(org_ids))
    )
    return {(r[0], r[1]): (*r[2:7], _ordered(r[7]), _ordered(r[8]), *r[9:]) for r in rows}


def _sources(
    course_ids: list[int], dialect: str, *, rebuild: orm.Session | None = None
) -> sa.Select:
    """Each union of the courses with what it adds: today's chair, the chair's standing and the
    counted modules the chair started and completed. A few unions look their chairs' modules up
    one chair at a time; every union of a course (the rebuild) takes them from one grouped pass
    over the course's lessons seen and completions (at XL: twice as fast on PostgreSQL, the same
    on SQLite); `rebuild` is then the rebuild's session."""
    chair = orm.aliased(Officer)
    if rebuild is not None:
        (course_id,) = course_ids  # a course at a time: SQLite sorts all of them on disk
        lists = _module_lists(course_id, dialect, completions_of(course_id, rebuild))
        started, done = lists.c.started, lists.c.done
    else:
        started, done = _looked_up_lists(chair, dialect)
    query = (
        sa.select(
            Course.id,
            Organization.id,
            Organization.path,
            sa.case((Organization.sector == Sector.NON_STATE, True), else_=False),
            sa.func.coalesce(Organization.member_count, 0) >= Course.split_members,
            CourseStanding.awareness_on,
            CourseStanding.core_all_on,
            sa.func.coalesce(started, ""),
            sa.func.coalesce(done, ""),
            chair.user_id,
            sa.case((User.password_hash.is_not(None), True), else_=False),
            sa.case((LearnerActivity.failed_quizzes > 0, True), else_=False),
            LearnerActivity.last_seen_on,
            _last_core_day(dialect),
        )
        .select_from(Organization)
        .join(Course, Course.id.in_(course_ids))
        .outerjoin(
            chair,
            sa.and_(
                chair.org_id == Organization.id,
                chair.position == Position.CHAIR,
                chair.ended_on.is_(None),
            ),
        )
        .outerjoin(
            CourseStanding,
            sa.and_(
                CourseStanding.user_id == chair.user_id, CourseStanding.course_id == Course.id
            ),
        )
        .outerjoin(User, User.id == chair.user_id)
        .outerjoin(
            LearnerActivity,
            sa.and_(
                LearnerActivity.user_id == chair.user_id, LearnerActivity.course_id == Course.id
            ),
        )
        .where(Organization.kind == GRASSROOTS)
    )
    if rebuild is not None:
        query = query.outerjoin(lists, lists.c.user_id == chair.user_id)
    return query


def _last_core_day(dialect: str) -> sa.ColumnElement:
    """The day of the chair's latest core module: core_dates is sorted, its last ten characters
    are that day (SQLite keeps a date as that same text)."""
    dates = CourseStanding.core_dates
    day = sa.func.nullif(sa.func.substr(dates, sa.func.length(dates) - 9), "")
    return sa.cast(day, sa.Date) if dialect == "postgresql" else sa.type_coerce(day, sa.Date)


def _looked_up_lists(chair: orm.util.AliasedClass, dialect: str) -> tuple[sa.ScalarSelect, ...]:
    """The chair's started and completed modules, as subqueries run for each union."""
    counted = sa.and_(Module.course_id == Course.id, Module.status == ModuleStatus.PUBLISHED)
    done = (
        sa.select(Completion.module_id.label("m"))
        .join(Module, Module.id == Completion.module_id)
        .where(Completion.user_id == chair.user_id, Completion.revoked_dt.is_(None), counted)
        .correlate(chair, Course)  # read from within subqueries, which do not correlate alone
    )
    opened = (
        sa.select(LessonProgress.module_id.label("m"))
        .join(Module, Module.id == LessonProgress.module_id)
        .where(LessonProgress.user_id == chair.user_id, counted)
        .correlate(chair, Course)
    )
    return _id_list(sa.union(opened, done).subquery(), dialect), _id_list(done.subquery(), dialect)


def _module_lists(course_id: int, dialect: str, done_module: sa.ColumnElement) -> sa.Subquery:
    """Everyone's started and completed counted modules of the course: (user_id, started,
    done), from one pass over the lessons seen and the completions."""
    counted = sa.select(Module.id).where(
        Module.course_id == course_id, Module.status == ModuleStatus.PUBLISHED
    )
    seen = sa.select(
        LessonProgress.user_id, LessonProgress.module_id.label("m"), sa.literal(0).label("d")
    ).where(LessonProgress.module_id.in_(counted))
    done = sa.select(Completion.user_id, Completion.module_id, sa.literal(1)).where(
        done_module.in_(counted), Completion.revoked_dt.is_(None)
    )
    both = sa.union_all(seen, done).subquery()
    per_module = sa.select(both.c.user_id, both.c.m, sa.func.max(both.c.d).label("d")).group_by(
        both.c.user_id, both.c.m
    )
    if dialect != "postgresql":
        per_module = per_module.order_by(both.c.user_id, both.c.m)  # group_concat keeps it
    per_module = per_module.subquery()
    done_ids = sa.case((per_module.c.d == 1, per_module.c.m))
    return (
        sa.select(
            per_module.c.user_id,
            _joined(per_module.c.m, dialect).label("started"),
            _joined(done_ids, dialect).label("done"),
        )
        .group_by(per_module.c.user_id)
        .subquery()
    )


def completions_of(course_id: int, session: orm.Session | None = None) -> sa.ColumnElement:
    """`Completion.module_id`, as a rebuild filters a course's completions by it. SQLite has no
    statistics and always goes through the module index, then looks every row up in the table:
    at XL, one course of five (410.000 of 2.000.000 rows) took 1,7 s that way against 0,3 s for
    reading the whole table in order. Past a twenty-fifth of the table (where the two costs
    meet), `+ 0` hides the index; a course with few completions keeps it. PostgreSQL chooses
    from its own statistics (hiding the index there gave no faster rebuild, and a row estimate
    eight times too low)."""
    session = session or db.session()
    if _dialect(session) != "sqlite":
        return Completion.module_id
    counted = sa.select(Module.id).where(
        Module.course_id == course_id, Module.status == ModuleStatus.PUBLISHED
    )
    mine = session.scalar(sa.select(sa.func.count()).where(Completion.module_id.in_(counted)))
    every = session.scalar(sa.select(sa.func.max(Completion.id))) or 0  # without a count
    if mine and mine > every * SCAN_ABOVE:
        return Completion.module_id + 0
    return Completion.module_id


def _joined(ids: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """The ids of a group as one text "21,22" (NULLs left out), in order."""
    if dialect == "postgresql":
        return sa.func.string_agg(sa.cast(ids, sa.String), postgresql.aggregate_order_by(",", ids))
    return sa.func.group_concat(ids, ",")


def _id_list(ids: sa.Subquery, dialect: str) -> sa.ScalarSelect:
    """The subquery's module ids as one ordered text: "21,22" (NULL when none)."""
    m = ids.c.m
    if dialect != "postgresql":
        # SQLite joins the rows in the order they come, which the ordered subquery gives.
        m = sa.select(m).order_by(m).subquery().c.m
    return sa.select(_joined(m, dialect)).scalar_subquery()


def _ordered(ids: str | None) -> str:
    """A list of ids in the one spelling that compares equal: "22,21" → "21,22"."""
    return ",".join(sorted(filter(None, (ids or "").split(",")), key=int))


def _counted(session: orm.Session, course_ids: list[int], org_ids: list[int]):  # type: ignore[no-untyped-def]
    stmt = _sources(course_ids, _dialect(session)).where(Organization.id.in_(org_ids))
    for row in session.execute(stmt):
        yield (row[0], row[1]), (row[2], bool(row[3]), bool(row[4]), row[5], row[6],
                                 _ordered(row[7]), _ordered(row[8]), row[9], bool(row[10]),
                                 bool(row[11]), row[12], row[13])  # fmt: skip


@lru_cache(maxsize=4096)  # a rebuild asks for each district's a few hundred times
def _scopes(path: str) -> tuple[int, ...]:
    """The federation and every ancestor of the union at `path` (the union itself excluded)."""
    return (FEDERATION, *(int(p) for p in path.strip("/").split("/")[:-1] if p.isdigit()))


def _add(deltas: Deltas, course_id: int, unit: Contribution, weight: int) -> None:
    path, non_state, large, aware_on, trained_on, started, done = unit[:7]
    _add_figures(deltas.figures, course_id, (path, non_state, large, aware_on, trained_on), weight)
    _add_modules(deltas.modules, course_id, (path, non_state, started, done), weight)


def _add_modules(deltas: dict, course_id: int, unit: tuple, weight: int) -> None:
    path, non_state, started, done = unit
    for column, ids in ((0, started), (1, done)):
        for module_id in filter(None, ids.split(",")):
            for scope in _scopes(path):
                row = deltas[(course_id, scope, int(module_id))]
                row[column] += weight
                row[column + 2] += weight if non_state else 0


def _add_figures(deltas: dict, course_id: int, unit: tuple, weight: int) -> None:
    path, non_state, large, aware_on, trained_on = unit
    for scope in _scopes(path):
        ever = deltas[(course_id, scope, EVER)]
        ever[0] += weight
        if non_state:
            ever[1] += weight
            ever[2] += weight if large else 0
        if aware_on is not None:
            deltas[(course_id, scope, aware_on)][3] += weight
        if non_state and trained_on is not None:
            deltas[(course_id, scope, trained_on)][5 if large else 4] += weight


def _unit_row(course_id: int, org_id: int, unit: Contribution) -> dict:
    return {"course_id": course_id, "org_id": org_id,
            **dict(zip(UNIT_FIGURES + CHAIR_COLUMNS, unit, strict=True))}  # fmt: skip


def _write_units(session: orm.Session, gone: list, changed: list[dict]) -> None:
    for course_id, org_id in gone:
        session.execute(
            sa.delete(UnitStanding).where(
                UnitStanding.course_id == course_id, UnitStanding.org_id == org_id
            )
        )
    if changed:
        table = UnitStanding.__table__
        stmt = upsert(table, session)
        same_chair = table.c.chair_id == stmt.excluded.chair_id
        stmt = stmt.on_conflict_do_update(
            index_elements=["course_id", "org_id"],
            set_={
                c: sa.case((same_chair, table.c[c]), else_=stmt.excluded[c])
                if c in KEPT_BY_THE_PERSON
                else stmt.excluded[c]
                for c in UNIT_FIGURES + CHAIR_COLUMNS
            },
        )
        for chunk in _chunks(changed):
            session.execute(stmt, chunk)


def _rows(deltas: Deltas, *, keep_empty: bool = False) -> tuple[list[dict], list[dict]]:
    """The roll-up rows of both tables, sorted, so that concurrent writers lock rows in order."""
    figures = [
        {"course_id": c, "scope_id": s, "day": d, **dict(zip(COUNTS, counts, strict=True))}
        for (c, s, d), counts in sorted(deltas.figures.items())
        if keep_empty or any(counts)
    ]
    modules = [
        {"course_id": c, "scope_id": s, "module_id": m,
         **dict(zip(MODULE_COUNTS, counts, strict=True))}
        for (c, s, m), counts in sorted(deltas.modules.items())
        if keep_empty or any(counts)
    ]  # fmt: skip
    return figures, modules


def _apply(session: orm.Session, deltas: Deltas) -> None:
    """Add the differences to the rows."""
    figures, modules = _rows(deltas)
    for model, rows, counts in ((CoverageRollup, figures, COUNTS),
                                (ModuleRollup, modules, MODULE_COUNTS)):  # fmt: skip
        if not rows:
            continue
        table = model.__table__
        stmt = upsert(table, session)
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key.columns],
            set_={c: table.c[c] + stmt.excluded[c] for c in counts},
        )
        for chunk in _chunks(rows):
            session.execute(stmt, chunk)


def _dialect(session: orm.Session) -> str:
    return session.get_bind().dialect.name


def _lock_units(session: orm.Session, org_ids: list[int]) -> None:
    """PostgreSQL: one recount of a union at a time, so that two transactions never both apply
    a difference from the same old contribution. (SQLite has one writer at a time anyway.)"""
    if _dialect(session) != "postgresql":
        return
    if len(org_ids) > LOCK_EACH_UP_TO:
        _lock_every_unit(session)
        return
    # This mode does not block other recounts; it waits for a whole-table one (and makes it wait).
    session.execute(sa.text("LOCK TABLE unit_standing IN ROW EXCLUSIVE MODE"))
    for org_id in org_ids:  # in order: two recounts of overlapping unions cannot deadlock
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_CLASS, org_id)))


def _lock_every_unit(session: orm.Session) -> None:
    """PostgreSQL: no union recounted by anyone else until this transaction ends (reports still
    read); for a rebuild, a large batch, or days cleared course-wide."""
    if _dialect(session) == "postgresql":
        session.execute(sa.text("LOCK TABLE unit_standing IN EXCLUSIVE MODE"))


def _chunks(items: list, size: int = CHUNK):  # type: ignore[no-untyped-def]
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


# ---- rebuilding ------------------------------------------------------------------------------


def rebuild_course(course_id: int, session: orm.Session | None = None) -> None:
    rebuild_courses([course_id], session)


def rebuild_courses(course_ids: list[int], session: orm.Session | None = None) -> None:
    """Count every union of the courses again, from today's roster, the standing rows and the
    chairs' lessons and completions."""
    session = session or db.session()
    _lock_every_unit(session)
    for model in (UnitStanding, CoverageRollup, ModuleRollup):
        session.execute(sa.delete(model).where(model.course_id.in_(course_ids)))
    # A course at a time, its sums written before the next is counted: at XL the five
    # courses' sums held together peaked at 449 MB, more than a roster import may use.
    for course_id in course_ids:
        _rebuild_one(session, course_id)


_UNIT_COLUMNS = ["course_id", "org_id", *UNIT_FIGURES, *CHAIR_COLUMNS]


def _rebuild_one(session: orm.Session, course_id: int) -> None:
    sources = _sources([course_id], _dialect(session), rebuild=session)
    session.execute(sa.insert(UnitStanding).from_select(_UNIT_COLUMNS, sources))
    deltas = Deltas()
    deltas.figures[(course_id, FEDERATION, EVER)] = [0] * len(COUNTS)  # a row even with no unions
    # Unions under the same parent that add the same are counted once, weighted: the database
    # groups them (at XL a course's 130.000 unions make 70.000 groups, 36.000 with modules).
    unit = UnitStanding.__table__.c
    one = sa.literal_column("1")  # inline: GROUP BY must repeat the parent's expression exactly
    own_id = sa.func.length(sa.cast(unit.org_id, sa.String))  # the path's last part
    parent = sa.func.substr(unit.path, one, sa.func.length(unit.path) - own_id - one)
    mine = unit.course_id == course_id
    figures = (parent, unit.non_state, unit.large, unit.aware_on, unit.trained_on)
    for *unit_figures, n in session.execute(
        sa.select(*figures, sa.func.count()).where(mine).group_by(*figures)
    ):  # the parent of "/1/2/36/736/" is "/1/2/36/"
        _add_figures(deltas.figures, course_id, _under(*unit_figures), n)
    # Then per module, so that each is spread to the ancestors once per parent and sector.
    started_by: Counter[tuple] = Counter()
    done_by: Counter[tuple] = Counter()
    lists = (parent, unit.non_state, unit.modules_started, unit.modules_done)
    for parent_path, non_state, started, done, n in session.execute(
        sa.select(*lists, sa.func.count())
        .where(mine, unit.modules_started != "")
        .group_by(*lists)
    ):
        for counter, ids in ((started_by, started), (done_by, done)):
            for module_id in filter(None, ids.split(",")):
                counter[(parent_path, bool(non_state), module_id)] += n
    for (parent_path, non_state, module_id), n in started_by.items():
        _add_modules(deltas.modules, course_id, _under(parent_path, non_state, module_id, ""), n)
    for (parent_path, non_state, module_id), n in done_by.items():
        _add_modules(deltas.modules, course_id, _under(parent_path, non_state, "", module_id), n)
    figure_rows, module_rows = _rows(deltas, keep_empty=True)
    bulk_insert(CoverageRollup.__table__, figure_rows, session)
    bulk_insert(ModuleRollup.__table__, module_rows, session)


def forget_done(session: orm.Session, course_id: int, *, aware: bool, trained: bool) -> None:
    """Modules nobody has begun start counting (standing._start_counting): no chair has met
    awareness (`aware`) or the core modules (`trained`) any more, and nothing else changed.
    Every union of the course and every sum forgets those days, in place."""
    unit = UnitStanding.__table__.c
    days = [column for column, wanted in ((unit.aware_on, aware), (unit.trained_on, trained))
            if wanted]  # fmt: skip
    sums = [name for name, wanted in (("aware", aware), ("trained_small", trained),
                                      ("trained_large", trained)) if wanted]  # fmt: skip
    if not days:
        return
    _lock_every_unit(session)  # as a rebuild: no union recounted meanwhile
    session.execute(
        sa.update(UnitStanding.__table__)
        .where(unit.course_id == course_id, sa.or_(*(day.is_not(None) for day in days)))
        .values({day.name: None for day in days})
    )
    total = CoverageRollup.__table__.c
    session.execute(
        sa.update(CoverageRollup.__table__)
        .where(total.course_id == course_id, sa.or_(*(total[name] != 0 for name in sums)))
        .values({name: 0 for name in sums})
    )
    # A day that no longer adds anything goes, as a rebuild would not write it.
    session.execute(
        sa.delete(CoverageRollup.__table__).where(
            total.course_id == course_id,
            total.day > EVER,
            *(total[name] == 0 for name in ("aware", "trained_small", "trained_large")),
        )
    )


def _under(parent_path: str, *rest: object) -> tuple:
    """A contribution placed under the parent: the path of a child of it, so that its scopes are
    the parent and the parent's ancestors."""
    return (f"{parent_path}0/", *rest)


# ---- reading -------------------------------------------------------------------------------


def figures(course_id: int, scope_id: int, as_of: date) -> tuple[int, ...]:
    """The four targets' (eligible, done) pairs, in the order of coverage.queries.figures."""
    settle()
    total = sa.func.sum
    r = CoverageRollup
    row = db.session.execute(
        sa.select(
            total(r.units),
            total(r.aware),
            total(r.units_non_state),
            total(r.trained_small + r.trained_large),
            total(r.units_non_state - r.units_non_state_large),
            total(r.trained_small),
            total(r.units_non_state_large),
            total(r.trained_large),
        ).where(r.course_id == course_id, r.scope_id == scope_id, r.day <= as_of)
    ).one()
    return tuple(int(value or 0) for value in row)


def funnel(course_id: int, scope_id: int) -> dict[int, tuple[int, int, int, int]]:
    """Per module, the chairs who have started and completed it: (started, done) among all
    unions, then among the non-state ones."""
    settle()
    r = ModuleRollup
    rows = db.session.execute(
        sa.select(r.module_id, r.started, r.done, r.started_non_state, r.done_non_state)
        .where(r.course_id == course_id, r.scope_id == scope_id)
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def timeline(course_id: int, scope_id: int, as_of: date) -> list[tuple[date, int, int]]:
    """Per day up to as_of: chairs who reached awareness, and non-state chairs fully trained.
    The roll-up rows of the scope are those days already (a few hundred rows at most)."""
    settle()
    r = CoverageRollup
    rows = db.session.execute(
        sa.select(r.day, r.aware, r.trained_small + r.trained_large)
        .where(r.course_id == course_id, r.scope_id == scope_id, r.day > EVER, r.day <= as_of)
        .order_by(r.day)
    )
    return [(day, int(aware), int(trained)) for day, aware, trained in rows]


# ---- watching the roster ---------------------------------------------------------------------

_ORG_FIELDS = ("kind", "sector", "member_count", "path", "parent_id")
_OFFICER_FIELDS = ("org_id", "user_id", "position", "ended_on")


def _changed(obj: object, fields: tuple[str, ...]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _old_values(obj: object, name: str) -> list:
    return list(sa.inspect(obj).attrs[name].history.deleted or ())


def _after_flush(session: orm.Session, _context: object) -> None:
    for obj in chain(session.new, session.dirty, session.deleted):
        fresh = obj in session.new or obj in session.deleted
        if isinstance(obj, Organization) and (fresh or _changed(obj, _ORG_FIELDS)):
            if not fresh and obj.kind != GRASSROOTS and _changed(obj, ("path",)):
                mark_everything(session)  # an upper level moved: its unions' ancestors change
            mark_units(session, [obj.id])
        elif isinstance(obj, Officer) and (fresh or _changed(obj, _OFFICER_FIELDS)):
            positions = [obj.position, *_old_values(obj, "position")]
            if Position.CHAIR in positions:
                mark_units(session, [obj.org_id, *_old_values(obj, "org_id")])
        elif isinstance(obj, Course) and not fresh and _changed(obj, ("split_members",)):
            mark_course(session, obj.id)
        elif isinstance(obj, LessonProgress) and obj in session.new:
            mark_opened(session, obj.user_id, obj.module_id)  # a first visit of the lesson
        elif isinstance(obj, User) and not fresh and _changed(obj, ("password_hash",)):
            mark_account(session, obj.id)


def _on_execute(state: orm.ORMExecuteState) -> None:
    """Officers and unions written in bulk (the roster import) bypass the flush: the unions they
    touch are found from the statement's rows, or from its WHERE clause before it runs."""
    if state.is_select or state.bind_mapper is None:
        return
    entity = state.bind_mapper.class_
    if entity not in (Officer, Organization):
        return
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    session = state.session
    if entity is Organization and state.is_update and rows and "id" in rows[0]:
        mark_units(session, (row["id"] for row in rows))  # updates by primary key
    elif entity is Officer and state.is_insert:
        mark_units(session, (row.get("org_id") for row in rows))
    elif entity is Officer and state.is_update and rows and "id" in rows[0]:
        ids = [row["id"] for row in rows]
        mark_units(session, session.scalars(sa.select(Officer.org_id).where(Officer.id.in_(ids))))
        mark_units(session, (row.get("org_id") for row in rows))
    elif entity is Officer and state.is_update and "org_id" not in _values(state.statement):
        where = state.statement.whereclause  # e.g. positions closed by id
        found = sa.select(Officer.org_id).where(where) if where is not None else None
        if found is None:
            mark_everything(session)
        else:
            mark_units(session, session.scalars(found))
    elif not (entity is Organization and state.is_insert):
        mark_everything(session)  # anything else written in bulk: count everything again
    # Unions inserted in bulk have no path yet; the update that gives them one marks them.


def _values(statement: object) -> set[str]:
    return {str(getattr(k, "key", k)) for k in (getattr(statement, "_values", None) or {})}


def _before_commit(session: orm.Session) -> None:
    settle(session)


def connect() -> None:
    """Watch every session (called once by the app factory)."""
    listeners = (
        ("after_flush", _after_flush),
        ("do_orm_execute", _on_execute),
        ("before_commit", _before_commit),
    )
    for name, listener in listeners:
        if not sa.event.contains(orm.Session, name, listener):
            sa.event.listen(orm.Session, name, listener)
