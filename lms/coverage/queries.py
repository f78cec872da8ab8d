"""Read-only SQL for the coverage reports.

Every query starts from the grassroots unions of a subtree (a range of materialised paths),
joins today's chair of each (at most one, by a unique index) and that person's CourseStanding
row, so a scoped report reads neither the whole tree nor the completion table.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm

from lms.accounts.models import User
from lms.catalog.models import Course, Module
from lms.db import db, slices
from lms.orgs.models import GRASSROOTS, Officer, Organization, Position, Sector
from lms.orgs.services import subtree_clause
from lms.progress.models import Completion, CourseStanding, LessonProgress, UnitStanding

Chair = orm.aliased(Officer, name="chair")
Standing = CourseStanding
Unit = UnitStanding


@dataclass(frozen=True)
class Filters:
    sector: str = ""  # state | non_state
    responsible: str = ""  # district | province
    status: str = ""  # done | in_progress | not_started | vacant


class Terms:
    """The SQL expressions of one report: a course (its split) and an as-of day."""

    def __init__(self, course: Course, as_of: date) -> None:
        self.course, self.as_of = course, as_of
        self.non_state = Organization.sector == Sector.NON_STATE
        self.large = sa.func.coalesce(Organization.member_count, 0) >= course.split_members
        self.aware = Standing.awareness_on <= as_of
        self.trained = Standing.core_all_on <= as_of
        self.status = sa.case(
            (Chair.id.is_(None), "vacant"),
            (sa.and_(self.aware, sa.or_(~self.non_state, self.trained)), "done"),
            (Standing.first_on <= as_of, "in_progress"),
            else_="not_started",
        )

    def unions(self, root: Organization | None) -> sa.Select:
        """The grassroots unions of the scope, nothing joined."""
        return (
            sa.select()
            .select_from(Organization)
            .where(Organization.kind == GRASSROOTS, _scope(root))
        )

    def units(self, root: Organization | None) -> sa.Select:
        """The grassroots unions of the scope with their current chair and standing: at most one
        row per union (uq_officer_current_chair, uq_course_standing_user_course)."""
        return (
            self.unions(root)
            .outerjoin(
                Chair,
                sa.and_(
                    Chair.org_id == Organization.id,
                    Chair.position == Position.CHAIR,
                    Chair.ended_on.is_(None),
                ),
            )
            .outerjoin(
                Standing,
                sa.and_(Standing.user_id == Chair.user_id, Standing.course_id == self.course.id),
            )
        )

    def filtered(
        self, root: Organization | None, filters: Filters, *, joined: bool = True
    ) -> sa.Select:
        """The units matching the filters; `joined=False` leaves out the chair and standing
        when no filter needs them (a status filter does)."""
        stmt = self.units(root) if joined or filters.status else self.unions(root)
        if filters.sector:
            stmt = stmt.where(Organization.sector == Sector(filters.sector))
        if filters.responsible:
            stmt = stmt.where(self.large if filters.responsible == "province" else ~self.large)
        if filters.status:
            stmt = stmt.where(self.status == filters.status)
        return stmt


def _scope(root: Organization | None) -> sa.ColumnElement[bool]:
    return subtree_clause(root) if root is not None else sa.true()


def figures(terms: Terms, root: Organization | None) -> sa.Row:
    """The four targets' eligible and done counts, in one statement."""
    count, ns = sa.func.count, terms.non_state
    small = ~terms.large
    return db.session.execute(
        terms.units(root).add_columns(
            count(),
            count().filter(terms.aware),
            count().filter(ns),
            count().filter(sa.and_(ns, terms.trained)),
            count().filter(sa.and_(ns, small)),
            count().filter(sa.and_(ns, small, terms.trained)),
            count().filter(sa.and_(ns, terms.large)),
            count().filter(sa.and_(ns, terms.large, terms.trained)),
        )
    ).one()


UNIT_COLUMNS = (
    Organization.id.label("org_id"),
    Organization.code,
    Organization.name,
    Organization.sector,
    Organization.member_count,
    User.id.label("user_id"),
    User.username,
    User.full_name,
    User.phone,
    User.password_hash.is_not(None).label("activated"),
    Standing.awareness_on,
    Standing.core_all_on,
    Standing.core_dates,
)

# Values bound in one IN (...) list at most: SQLite refuses more than 32.766 in a statement,
# PostgreSQL more than 65.535, and a national name search can match 130.000 unions.
IN_LIMIT = 5000

STATUS_ORDER = {"vacant": 0, "not_started": 1, "in_progress": 2, "done": 3}

SORTS = {
    "name": (Organization.name, Organization.id),
    "code": (Organization.code,),
    "members": (Organization.member_count.desc(), Organization.name, Organization.id),
}


def _order(terms: Terms, sort: str) -> tuple:
    by_status = sa.case(STATUS_ORDER, value=terms.status)
    return (by_status, Organization.name) if sort == "status" else SORTS.get(sort, SORTS["name"])


def unit_names(
    terms: Terms, root: Organization | None, filters: Filters, sort: str = "name"
) -> list[sa.Row]:
    """Id and name of every unit matching the filters, in the report's order (for a name
    search done in Python, whose page is then cut from this list)."""
    stmt = terms.filtered(root, filters, joined=sort == "status")
    stmt = stmt.add_columns(Organization.id, Organization.name).order_by(*_order(terms, sort))
    return list(db.session.execute(stmt).all())


def count_units(terms: Terms, root: Organization | None, filters: Filters, ids=None) -> int:  # type: ignore[no-untyped-def]
    # A union has one row in `units` at most, so unless the status is filtered the unions
    # alone are counted: a range scan of the path index (1 ms for 5,564 unions, not 8).
    stmt = terms.filtered(root, filters, joined=False).add_columns(sa.func.count())
    if ids is not None:
        stmt = stmt.where(Organization.id.in_(ids))
    return db.session.scalar(stmt) or 0


def _units_statement(  # type: ignore[no-untyped-def]
    terms: Terms, root: Organization | None, filters: Filters, *, sort: str = "name", ids=None
) -> sa.Select:
    """Every unit matching the filters (or only the unions `ids`), in the report's order: the
    union, its chair (or none) and the chair's standing."""
    stmt = (
        terms.filtered(root, filters)
        .add_columns(*UNIT_COLUMNS, terms.status.label("status"))
        .outerjoin(User, User.id == Chair.user_id)
        .order_by(*_order(terms, sort))
    )
    return stmt if ids is None else stmt.where(Organization.id.in_(ids))


def units(  # type: ignore[no-untyped-def]
    terms: Terms,
    root: Organization | None,
    filters: Filters,
    *,
    sort: str = "name",
    ids=None,
    limit: int | None = None,
    offset: int = 0,
) -> list[sa.Row]:
    """One page of units (or the unions `ids`, a page already chosen)."""
    stmt = _units_statement(terms, root, filters, sort=sort, ids=ids)
    if limit is None or sort == "status" or filters.status or ids is not None:
        stmt = stmt.offset(offset) if offset else stmt
        return list(db.session.execute(stmt if limit is None else stmt.limit(limit)).all())
    # The page's unions are chosen from the unions alone, then only they are joined to their
    # chair and standing: a district of 5,564 unions is sorted on its names, not on 5,564
    # joined rows (XXL, a page of 500: 33 → 17 ms).
    page = terms.filtered(root, filters, joined=False).add_columns(Organization.id)
    page = page.order_by(*_order(terms, sort)).offset(offset).limit(limit).correlate(None)
    return list(db.session.execute(stmt.where(Organization.id.in_(page))).all())


def officer_counts(terms: Terms, org_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Per union: its current officers, how many completed awareness, how many every module.
    Asked IN_LIMIT unions at a time (bound values have a ceiling: 32.766 on SQLite)."""
    if len(org_ids) > IN_LIMIT:
        counts: dict[int, tuple[int, int, int]] = {}
        for chunk in slices(org_ids, IN_LIMIT):
            counts |= officer_counts(terms, list(chunk))
        return counts
    if not org_ids:
        return {}
    person = Officer.user_id
    rows = db.session.execute(
        sa.select(
            Officer.org_id,
            sa.func.count(sa.distinct(person)),
            sa.func.count(sa.distinct(sa.case((terms.aware, person)))),
            sa.func.count(sa.distinct(sa.case((sa.and_(terms.aware, terms.trained), person)))),
        )
        .outerjoin(
            Standing,
            sa.and_(Standing.user_id == person, Standing.course_id == terms.course.id),
        )
        .where(Officer.org_id.in_(org_ids), Officer.ended_on.is_(None))
        .group_by(Officer.org_id)
    ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def _laggards(terms: Terms, root, stalled_before: date) -> sa.Select:  # type: ignore[no-untyped-def]
    """The unions of the scope whose chair's requirement is not met and who needs a call: not
    activated, failed a quiz twice (never passed it), or neither a lesson visit nor a completion
    since `stalled_before` (never started included). Read from each union's row of the course,
    which keeps those facts about its chair (UnitStanding.chair_*): one probe per union of the
    scope, where reading the chair's officer row, account, standing and activity took four."""
    never = sa.literal(date(1, 1, 1), sa.Date)
    unmet = sa.or_(Unit.aware_on.is_(None), sa.and_(Unit.non_state, Unit.trained_on.is_(None)))
    stalled = sa.and_(
        sa.func.coalesce(Unit.aware_on, never) < stalled_before,
        sa.func.coalesce(Unit.chair_core_on, never) < stalled_before,
        sa.func.coalesce(Unit.chair_seen_on, never) < stalled_before,
    )
    # Joined as an outer join so that SQLite, which keeps no statistics, starts from the scope's
    # unions (a range of the path index) and not from every union of the course (the course's
    # rows of unit_standing by its key: 50 against 20 ms for the worst district at XL). The
    # chair's condition below makes it an inner join again; PostgreSQL plans it as one.
    return (
        terms.unions(root)
        .outerjoin(Unit, sa.and_(Unit.course_id == terms.course.id, Unit.org_id == Organization.id))
        .add_columns(
            Organization.id.label("org_id"),
            Organization.code,
            Organization.name,
            Unit.chair_id,
            Unit.chair_activated.label("activated"),
            Unit.chair_failed.label("failed"),
            Unit.chair_seen_on.label("last_seen"),
        )
        .where(
            Unit.chair_id.is_not(None),
            unmet,
            sa.or_(sa.not_(Unit.chair_activated), Unit.chair_failed, stalled),
        )
    )


def _with_chairs(terms: Terms, found: sa.Subquery, *extra: sa.ColumnElement) -> sa.Select:
    """The found unions, by name, with their chair's name and contact and first completion:
    joined after the unions are chosen, for the rows shown only."""
    return (
        sa.select(
            found.c.code, found.c.name, found.c.activated, found.c.failed, found.c.last_seen,
            User.username, User.full_name, User.phone, Standing.first_on, *extra,
        )  # fmt: skip
        .select_from(found)
        .join(User, User.id == found.c.chair_id)
        .outerjoin(
            Standing,
            sa.and_(Standing.user_id == found.c.chair_id, Standing.course_id == terms.course.id),
        )
        .order_by(found.c.name, found.c.org_id)
    )


def laggards(  # type: ignore[no-untyped-def]
    terms: Terms, root, stalled_before: date, limit: int, offset: int = 0
) -> tuple[list[sa.Row], int]:
    """A page of the chairs to contact (see `_laggards`), the total riding on the shown rows
    as a window count."""
    page = (
        _laggards(terms, root, stalled_before)
        .add_columns(sa.func.count().over().label("total"))
        .order_by(Organization.name, Organization.id)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    rows = db.session.execute(_with_chairs(terms, page, page.c.total)).all()
    if rows or not offset:
        return list(rows), (rows[0].total if rows else 0)
    # A page past the end: the count still says how many there are.
    everyone = _laggards(terms, root, stalled_before).subquery()
    return [], db.session.scalar(sa.select(sa.func.count()).select_from(everyone)) or 0


def every_laggard(terms: Terms, root, stalled_before: date, batch: int) -> Iterator[sa.Row]:  # type: ignore[no-untyped-def]
    """All the chairs to contact in one pass, fetched `batch` rows at a time (a server-side
    cursor on PostgreSQL): a national call list costs one sort, not one per page."""
    found = _laggards(terms, root, stalled_before).subquery()
    stmt = _with_chairs(terms, found).execution_options(yield_per=batch)
    yield from db.session.execute(stmt)


def funnel(
    terms: Terms, root: Organization | None, module_ids: list[int], before: datetime
) -> dict[tuple[int, str], tuple[int, int]]:
    """Per module and sector: the scope's chairs who started it (opened it online or completed
    it anywhere) and who completed it, by `before`. Driven by the chairs, one index probe each."""
    if not module_ids:
        return {}
    completed = sa.exists().where(
        Completion.user_id == Chair.user_id,
        Completion.module_id == Module.id,
        Completion.revoked_dt.is_(None),
        Completion.completed_dt < before,
    )
    opened = sa.exists().where(
        LessonProgress.user_id == Chair.user_id,
        LessonProgress.module_id == Module.id,
        LessonProgress.first_seen_dt < before,
    )
    rows = db.session.execute(
        terms.units(root)
        .join(Module, Module.id.in_(module_ids))
        .add_columns(
            Module.id,
            Organization.sector,
            sa.func.count().filter(sa.or_(opened, completed)),
            sa.func.count().filter(completed),
        )
        .group_by(Module.id, Organization.sector)
    ).all()
    return {(module_id, Sector(sector).value): (n, d) for module_id, sector, n, d in rows}


def timeline(terms: Terms, root: Organization | None) -> list[tuple[date, int, int]]:
    """Per day: chairs who reached awareness, and non-state chairs fully trained, counted live
    (a single union's report; above the unions the roll-ups hold these days)."""
    base = terms.units(root)
    aware = (
        base.add_columns(sa.literal("awareness"), Standing.awareness_on, sa.func.count())
        .where(terms.aware)
        .group_by(Standing.awareness_on)
    )
    trained = (
        base.add_columns(sa.literal("trained"), Standing.core_all_on, sa.func.count())
        .where(terms.non_state, terms.trained)
        .group_by(Standing.core_all_on)
    )
    by_day: dict[date, list[int]] = {}
    for kind, day, n in db.session.execute(sa.union_all(aware, trained)):
        by_day.setdefault(day, [0, 0])[0 if kind == "awareness" else 1] += n
    return [(day, aware, trained) for day, (aware, trained) in sorted(by_day.items())]
