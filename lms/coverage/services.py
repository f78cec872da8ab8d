"""Coverage figures by DESIGN.md §6: the four targets for a scope and an as-of day, the units
behind them, and the JSON contract. Reads only; nothing here writes."""

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.catalog.models import Course
from lms.coverage import queries
from lms.coverage.queries import Filters, Terms
from lms.db import db, fold, slices, vn_today
from lms.orgs import services as orgs
from lms.orgs.models import Organization, Sector
from lms.progress import rollup
from lms.progress.models import core_done_by

PER_PAGE = 500  # the JSON's page (DESIGN.md §7)
# The dashboard's page: 100 rows of the unit table are about 70 KB of HTML and a few
# milliseconds to render; 500 were 360 KB, too heavy for a phone on slow mobile data.
PAGE_ON_SCREEN = 100
# The printable report lists at most this many units (about 170 A4 pages). The federation's
# 130.000 took 28 s and 39 MB of HTML at XL (a worker at 383 MB), and no one would print them:
# the page then says so and points to the files.
PRINT_LIMIT = 5000
TARGETS = ("awareness", "trained_non_state", "trained_by_district", "trained_by_province")
STATUSES = ("done", "in_progress", "not_started", "vacant")
SORTS = ("name", "code", "members", "status")


class CoverageError(ValueError):
    """A report that cannot be made as asked; `status` is the HTTP answer (404 or 400)."""

    def __init__(self, code: str, status: int = 400, **params: object) -> None:
        super().__init__(code)
        self.code, self.status, self.params = code, status, params


MESSAGES = {
    "no_course": _l("There is no course to report on yet."),
    "unknown_course": _l("There is no course “%(value)s”."),
    "unknown_org": _l("There is no unit “%(value)s” in the part of the organisation you manage."),
    "bad_date": _l("“%(value)s” is not a date: write it as dd/mm/yyyy (or yyyy-mm-dd)."),
    "bad_filter": _l("“%(value)s” is not a choice this report knows."),
}


def message(error: CoverageError) -> str:
    text = str(MESSAGES[error.code])
    return text % error.params if error.params else text


def percent(done: int, eligible: int) -> float:
    """0-100 with one decimal, halves rounded up; 0.0 when nobody is eligible."""
    if not eligible:
        return 0.0
    value = Decimal(100 * done) / Decimal(eligible)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# ---- what a report is about ------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """What the caller asked for, as typed (query string or command-line options)."""

    course: str = ""
    org: str = ""
    as_of: str = ""
    sector: str = ""
    responsible: str = ""
    status: str = ""
    q: str = ""
    sort: str = "name"
    page: int = 1


@dataclass(frozen=True)
class Context:
    course: Course
    root: Organization | None
    as_of: date
    filters: Filters = field(default_factory=Filters)

    @property
    def terms(self) -> Terms:
        return Terms(self.course, self.as_of)


def parse_day(value: str) -> date:
    text = (value or "").strip()
    for parse in (date.fromisoformat, _parse_vn):
        try:
            return parse(text)
        except ValueError:
            continue
    raise CoverageError("bad_date", value=text)


def _parse_vn(text: str) -> date:
    day, month, year = text.split("/")
    return date(int(year), int(month), int(day))


def find_course(slug: str = "") -> Course:
    """The course by slug, or by default the newest published one."""
    stmt = sa.select(Course)
    if slug:
        stmt = stmt.where(Course.slug == slug.strip())
    else:
        stmt = stmt.where(Course.published.is_(True)).order_by(Course.year.desc(), Course.id.desc())
    course = db.session.scalars(stmt.limit(1)).first()
    if course is None:
        raise CoverageError("unknown_course" if slug else "no_course", 404, **_value(slug))
    return course


def _value(text: str) -> dict:
    return {"value": text} if text else {}


def find_root(actor: User | None, code: str = "") -> Organization | None:
    """The scope: the actor's subtree (None = everything, for admins and the command line),
    narrowed to `code` when given and inside it."""
    if not code:
        return orgs.scope_root(actor) if actor is not None else None
    found = orgs.get_org_in_scope(actor, code) if actor else orgs.get_org_by_code(code)
    if found is None:
        raise CoverageError("unknown_org", 404, value=code)
    return found


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    if value and value not in allowed:
        raise CoverageError("bad_filter", value=value)
    return value


def resolve(actor: User | None, params: Params) -> Context:
    """Check what was asked and load the scope and course (two statements at most)."""
    filters = Filters(
        sector=_choice(params.sector, tuple(s.value for s in Sector)),
        responsible=_choice(params.responsible, ("district", "province")),
        status=_choice(params.status, STATUSES),
    )
    _choice(params.sort, SORTS)
    as_of = parse_day(params.as_of) if params.as_of else vn_today()
    root = find_root(actor, params.org)
    return Context(find_course(params.course), root, as_of, filters)


# ---- the figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    eligible: int
    done: int

    @property
    def percent(self) -> float:
        return percent(self.done, self.eligible)

    def to_json(self) -> dict:
        return {"eligible": self.eligible, "done": self.done, "percent": self.percent}


def rollup_scope(ctx: Context) -> int | None:
    """The roll-ups' scope of the context's report, or None for a single union (counted
    directly: the roll-ups hold organisations above the unions)."""
    if ctx.root is None:
        return rollup.FEDERATION
    return None if ctx.root.is_grassroots else ctx.root.id


def targets(ctx: Context) -> dict[str, Target]:
    """The four targets of DESIGN.md §6 for the context's scope and day (one statement). Above
    the unions they are summed from the roll-ups; a single union is counted directly."""
    scope = rollup_scope(ctx)
    if scope is not None:
        row = rollup.figures(ctx.course.id, scope, ctx.as_of)
    else:
        row = queries.figures(ctx.terms, ctx.root)
    return {key: Target(row[2 * i], row[2 * i + 1]) for i, key in enumerate(TARGETS)}


@dataclass(frozen=True)
class Unit:
    org_id: int
    code: str
    name: str
    sector: Sector
    member_count: int | None
    responsible: str
    chair: dict | None
    phone: str | None
    activated: bool
    awareness_done: bool
    core_modules_done: int
    trained: bool | None
    status: str
    officers: tuple[int, int, int] = (0, 0, 0)

    @property
    def criteria_met(self) -> bool:
        """The yearly grading criterion: the chair did what their union's sector requires."""
        return self.awareness_done and self.trained is not False

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "sector": self.sector.value,
            "member_count": self.member_count,
            "responsible": self.responsible,
            "chair": self.chair,
            "awareness_done": self.awareness_done,
            "core_modules_done": self.core_modules_done,
            "trained": self.trained,
            "status": self.status,
            "grading": {
                "criteria_met": self.criteria_met,
                "officers": self.officers[0],
                "officers_awareness_done": self.officers[1],
                "officers_all_done": self.officers[2],
            },
        }


def _unit(row: sa.Row, ctx: Context, officers: tuple[int, int, int]) -> Unit:
    sector = Sector(row.sector)
    aware = row.awareness_on is not None and row.awareness_on <= ctx.as_of
    trained = row.core_all_on is not None and row.core_all_on <= ctx.as_of
    members = row.member_count or 0
    return Unit(
        org_id=row.org_id,
        code=row.code,
        name=row.name,
        sector=sector,
        member_count=row.member_count,
        responsible="province" if members >= ctx.course.split_members else "district",
        chair={"username": row.username, "full_name": row.full_name} if row.user_id else None,
        phone=row.phone,
        activated=bool(row.activated),
        awareness_done=aware,
        core_modules_done=core_done_by(row.core_dates or "", ctx.as_of),
        trained=None if sector == Sector.STATE else trained,
        status=row.status,
        officers=officers,
    )


@dataclass
class UnitPage:
    units: list[Unit]
    total: int
    page: int
    pages: int


def unit_page(ctx: Context, *, q: str = "", sort: str = "name", page: int = 1,
              per_page: int | None = PER_PAGE) -> UnitPage:  # fmt: skip
    """The units matching the filters and the name search, one page (None: all of them)."""
    terms, matched = ctx.terms, search(ctx, q, sort)
    total = (
        len(matched) if matched is not None else queries.count_units(terms, ctx.root, ctx.filters)
    )
    pages = max(1, math.ceil(total / per_page)) if per_page else 1
    page = min(max(1, page), pages)
    offset = (page - 1) * per_page if per_page else 0
    if matched is None:
        rows = queries.units(terms, ctx.root, ctx.filters, sort=sort, limit=per_page, offset=offset)
    else:  # the page is cut from the matches, in order: only its unions are bound
        chosen = matched[offset : offset + per_page] if per_page else matched
        rows = [row for ids in slices(chosen, queries.IN_LIMIT) for row in
                queries.units(terms, ctx.root, ctx.filters, sort=sort, ids=ids)]  # fmt: skip
    officers = queries.officer_counts(terms, [r.org_id for r in rows])
    units = [_unit(r, ctx, officers.get(r.org_id, (0, 0, 0))) for r in rows]
    return UnitPage(units, total, page, pages)


def search(ctx: Context, q: str, sort: str) -> list[int] | None:
    """The ids of the units whose name holds `q` (marks and case ignored), in the report's
    order; None when there is nothing to search for."""
    wanted = fold(q)
    if not wanted:
        return None
    names = queries.unit_names(ctx.terms, ctx.root, ctx.filters, sort)
    return [org_id for org_id, name in names if wanted in fold(name)]


def unit_ids(ctx: Context, *, q: str = "", sort: str = "name") -> list[int]:
    """The ids of every unit of the report (the name search's matches if any), in order."""
    ids = search(ctx, q, sort)
    if ids is None:
        names = queries.unit_names(ctx.terms, ctx.root, ctx.filters, sort)
        ids = [org_id for org_id, _name in names]
    return ids


def printable_ids(ctx: Context, *, q: str = "", sort: str = "name") -> tuple[list[int] | None, int]:
    """The ids of every unit of the report, in order, when a print may list them (PRINT_LIMIT
    at most; None otherwise), and how many units there are. Without a name search the unions
    are counted first: a national print is not listed only to be counted (1 s at XL)."""
    if not fold(q):
        total = queries.count_units(ctx.terms, ctx.root, ctx.filters)
        if total > PRINT_LIMIT:
            return None, total
    ids = unit_ids(ctx, q=q, sort=sort)
    return (ids if len(ids) <= PRINT_LIMIT else None), len(ids)


def every_unit(ctx: Context, *, q: str = "", sort: str = "name",
               ids: list[int] | None = None) -> Iterator[Unit]:  # fmt: skip
    """Every unit of the report in order (or those of `ids`, from unit_ids), for the files:
    the matching unions' ids first, in the report's order (one narrow query), then their rows
    IN_LIMIT at a time, each batch's officers counted in one more query. Sorting the ids alone
    is the cheap part: one sort of 130.000 joined rows took SQLite 3,6 s, against 2,2 s for the
    batches' lookups."""
    if ids is None:
        ids = unit_ids(ctx, q=q, sort=sort)
    for chosen in slices(ids, queries.IN_LIMIT):
        rows = queries.units(ctx.terms, ctx.root, ctx.filters, sort=sort, ids=chosen)
        officers = queries.officer_counts(ctx.terms, [r.org_id for r in rows])
        for row in rows:
            yield _unit(row, ctx, officers.get(row.org_id, (0, 0, 0)))


def scope_json(root: Organization | None) -> dict:
    if root is None:
        return {"code": None, "name": _("Whole federation")}
    return {"code": root.code, "name": root.name}


def report_json(ctx: Context, found: dict[str, Target], units: UnitPage | None) -> dict:
    """The JSON contract of DESIGN.md §6 (plus paging keys)."""
    data = {
        "as_of": ctx.as_of.isoformat(),
        "course": ctx.course.slug,
        "scope": scope_json(ctx.root),
        "targets": {key: target.to_json() for key, target in found.items()},
    }
    if units is not None:
        data["units"] = [u.to_json() for u in units.units]
        data["page"], data["pages"], data["units_total"] = units.page, units.pages, units.total
    return data
