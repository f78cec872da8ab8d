"""The staff dashboard beyond the figures: who to chase, the per-module funnel and the chart."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.catalog.models import Module, ModuleKind, ModuleStatus
from lms.coverage import queries
from lms.coverage.services import Context, Target, percent, rollup_scope
from lms.db import VN_TZ, db, vn_today
from lms.progress import rollup

STALLED_DAYS = 14
LAGGARDS_SHOWN = 20  # on the dashboard; the whole list is paged on its own page
LAGGARDS_PER_PAGE = 100

REASONS = {
    "not_activated": _l("Has not activated the account yet"),
    "failed_quiz": _l("Failed a quiz twice"),
    "not_started": _l("Has not started"),
    "stalled": _l("No progress for more than 14 days"),
}


def counted_modules(ctx: Context) -> list[Module]:
    """The course's published modules, in order: the ones coverage counts."""
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.course_id == ctx.course.id, Module.status == ModuleStatus.PUBLISHED)
            .order_by(Module.position, Module.id)
        )
    )


def end_of_day(day: date) -> datetime:
    """The UTC instant at which `day` ends in Vietnam (COMP-06)."""
    return datetime.combine(day + timedelta(days=1), time(0), VN_TZ).astimezone(UTC)


@dataclass(frozen=True)
class Laggard:
    unit_code: str
    unit_name: str
    full_name: str
    username: str
    phone: str | None
    reason: str
    last_seen: date | None

    @property
    def reason_label(self) -> str:
        return str(REASONS[self.reason])


@dataclass(frozen=True)
class LaggardPage:
    people: list[Laggard]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _reason(row: sa.Row) -> str:
    """Why to call: the first that holds of not activated, a quiz failed twice, never started
    (no visit, no completion), stalled. The query keeps only chairs for whom one holds."""
    if not row.activated:
        return "not_activated"
    if row.failed:
        return "failed_quiz"
    if row.last_seen is None and row.first_on is None:
        return "not_started"
    return "stalled"


def laggards(ctx: Context, *, page: int = 1, per_page: int = LAGGARDS_SHOWN) -> LaggardPage:
    """Chairs in scope whose requirement is not met today, with the reason to call them: the
    first `per_page` by unit name from `page` on, and how many there are in all. Stalled means
    neither a lesson visit nor a completion in the last 14 days (Vietnam days)."""
    since = vn_today() - timedelta(days=STALLED_DAYS)
    page = max(1, page)
    rollup.settle()  # the unions' rows say who to call: counted first, as any roll-up read
    rows, total = queries.laggards(
        ctx.terms, ctx.root, since, per_page, offset=(page - 1) * per_page
    )
    if not rows and total:  # past the end (the list got shorter): the last page, as units do
        page = -(-total // per_page)
        rows, total = queries.laggards(
            ctx.terms, ctx.root, since, per_page, offset=(page - 1) * per_page
        )
    return LaggardPage([_laggard(row) for row in rows], total, page, per_page)


def every_laggard(ctx: Context, batch: int) -> Iterator[Laggard]:
    """Every chair to contact in scope, in the same order, read `batch` rows at a time."""
    since = vn_today() - timedelta(days=STALLED_DAYS)
    rollup.settle()
    for row in queries.every_laggard(ctx.terms, ctx.root, since, batch):
        yield _laggard(row)


def _laggard(row: sa.Row) -> Laggard:
    return Laggard(row.code, row.name, row.full_name, row.username, row.phone, _reason(row),
                   row.last_seen)  # fmt: skip


@dataclass(frozen=True)
class FunnelRow:
    module: Module
    eligible: int
    started: int
    done: int

    @property
    def percent(self) -> float:
        return percent(self.done, self.eligible)


def funnel(ctx: Context, found: dict[str, Target], modules: list[Module]) -> list[FunnelRow]:
    """For each module, of the chairs who must complete it: how many started, how many did.
    An awareness module counts every union's chair, a core module the non-state ones'."""
    counts = _module_counts(ctx, modules)
    rows = []
    for module in modules:
        started, done, started_non_state, done_non_state = counts.get(module.id, (0, 0, 0, 0))
        if module.kind == ModuleKind.AWARENESS:
            rows.append(FunnelRow(module, found["awareness"].eligible, started, done))
        else:
            eligible = found["trained_non_state"].eligible
            rows.append(FunnelRow(module, eligible, started_non_state, done_non_state))
    return rows


def _module_counts(ctx: Context, modules: list[Module]) -> dict[int, tuple[int, int, int, int]]:
    """Per module: (started, done) of all chairs, then of the non-state ones. Today, above the
    unions, from the roll-ups (a row per module, not a probe per chair and module); a past day
    or a single union counted from the chairs. Nothing is recorded after today (class dates in
    the future are refused), so today's roll-ups hold every later as-of day too."""
    scope = rollup_scope(ctx)
    if scope is not None and ctx.as_of >= vn_today():
        return rollup.funnel(ctx.course.id, scope)
    live = queries.funnel(ctx.terms, ctx.root, [m.id for m in modules], end_of_day(ctx.as_of))
    counts = {}
    for module in modules:
        state = live.get((module.id, "state"), (0, 0))
        non_state = live.get((module.id, "non_state"), (0, 0))
        counts[module.id] = (state[0] + non_state[0], state[1] + non_state[1], *non_state)
    return counts


# ---- the chart: cumulative share of each target over time, as SVG points --------------------

WIDTH, HEIGHT, PAD = 600, 220, 50


@dataclass(frozen=True)
class Series:
    key: str
    points: str
    final: float


@dataclass(frozen=True)
class Chart:
    start: date
    end: date
    series: list[Series]
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


def chart(ctx: Context, found: dict[str, Target]) -> Chart:
    """Step lines of the share of chairs done (awareness; non-state training) by day."""
    by_kind: dict[str, dict[date, int]] = {"awareness": {}, "trained": {}}
    for day, aware, trained in _timeline(ctx):
        for kind, n in (("awareness", aware), ("trained", trained)):
            if n:
                by_kind[kind][day] = by_kind[kind].get(day, 0) + n
    days = [d for series in by_kind.values() for d in series]
    start = min(days, default=ctx.as_of - timedelta(days=30))
    start = min(start, ctx.as_of - timedelta(days=1))
    eligible = {"awareness": found["awareness"].eligible,
                "trained": found["trained_non_state"].eligible}  # fmt: skip
    series = [_series(kind, by_kind[kind], eligible[kind], start, ctx.as_of) for kind in by_kind]
    return Chart(start, ctx.as_of, series)


def _timeline(ctx: Context) -> list[tuple[date, int, int]]:
    """(day, chairs aware, non-state chairs trained) up to the as-of day: from the roll-ups
    above the unions, as the figures are, so the lines end on the figures."""
    scope = rollup_scope(ctx)
    if scope is not None:
        return rollup.timeline(ctx.course.id, scope, ctx.as_of)
    return queries.timeline(ctx.terms, ctx.root)


def _series(kind: str, counts: dict[date, int], eligible: int, start: date, end: date) -> Series:
    span = max((end - start).days, 1)

    def xy(day: date, share: float) -> str:
        x = PAD + (WIDTH - 2 * PAD) * (day - start).days / span
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * share
        return f"{x:.1f},{y:.1f}"

    points, done = [xy(start, 0.0)], 0
    for day in sorted(counts):
        before = done / eligible if eligible else 0.0
        done += counts[day]
        after = done / eligible if eligible else 0.0
        points += [xy(day, before), xy(day, after)]
    points.append(xy(end, done / eligible if eligible else 0.0))
    return Series(kind, " ".join(points), percent(done, eligible))
