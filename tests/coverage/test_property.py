"""COMP-03 on random data: the aggregates equal a recount straight from the completion table,
done never exceeds eligible, and the units (and the districts) add up to the totals."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lms.accounts.models import Role
from lms.coverage import services
from lms.coverage.services import Params
from lms.db import VN_TZ, db
from lms.orgs.models import GRASSROOTS, Officer, Organization, Position, Sector
from lms.orgs.services import subtree_clause
from lms.progress import services as progress
from lms.progress.models import Completion, CompletionSource
from tests.factories import make_course, make_module, make_org, make_user

START = datetime(2021, 10, 1, tzinfo=UTC)
KINDS = ("awareness", "core", "core")

units_strategy = st.lists(
    st.tuples(
        st.sampled_from(["state", "non_state"]),
        st.sampled_from([None, 0, 999, 1000, 1001, 5000]),
        st.booleans(),  # has a chair
        st.booleans(),  # has a vice-chair (whose completions never count)
        st.integers(0, 1),  # which district
    ),
    min_size=1,
    max_size=7,
)
events_strategy = st.lists(
    st.tuples(
        st.integers(0, 13),  # whose (an index into the people made)
        st.integers(0, len(KINDS) - 1),  # which module
        st.integers(0, 20),  # which day
        # the time in UTC: around 17:00 UTC the Vietnamese day turns (COMP-06)
        st.sampled_from([(0, 0), (9, 0), (16, 30), (16, 59), (17, 0), (17, 30), (23, 59)]),
        st.sampled_from(list(CompletionSource)),
        st.booleans(),  # revoked afterwards
    ),
    min_size=2,
    max_size=25,
)


def build(units, events):  # type: ignore[no-untyped-def]
    province = make_org("PX", kind="province")
    districts = [make_org(f"DX{n}", kind="district", parent=province) for n in (0, 1)]
    course = make_course("ngau-nhien", year=2031)
    modules = [make_module(course, f"m{n}", kind=k, position=n) for n, k in enumerate(KINDS)]
    people = []
    for n, (sector, members, chair, vice, district) in enumerate(units):
        org = make_org(f"GX{n}", kind="grassroots", parent=districts[district], sector=sector,
                       members=members)  # fmt: skip
        for position, present in (("chair", chair), ("vice_chair", vice)):
            if present:
                people.append(make_user(org=org, position=position, password=None))
    admin = make_user(role=Role.ADMIN, password=None)
    for who, module, day, (hour, minute), source, revoked in events:
        if not people:
            break
        user = people[who % len(people)]
        done = progress.record_completion(
            user,
            modules[module],
            source,
            when=START + timedelta(days=day, hours=hour, minutes=minute),
        )
        if revoked and done.revoked_dt is None:
            progress.revoke_completion(done, admin, "Ghi nhầm")
    return province, districts, course, admin


def recount(root: Organization, course, as_of: date) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """The targets computed from raw rows: organisations, positions, completions."""
    from lms.catalog.models import Module

    kinds = dict(db.session.execute(
        sa.select(Module.id, Module.kind).where(Module.course_id == course.id)).all())  # fmt: skip
    done: dict[int, set[int]] = defaultdict(set)
    for user_id, module_id, when in db.session.execute(
        sa.select(Completion.user_id, Completion.module_id, Completion.completed_dt).where(
            Completion.revoked_dt.is_(None), Completion.module_id.in_(list(kinds))
        )
    ):
        if when.astimezone(VN_TZ).date() <= as_of:
            done[user_id].add(module_id)
    chairs = dict(db.session.execute(
        sa.select(Officer.org_id, Officer.user_id)
        .where(Officer.position == Position.CHAIR, Officer.ended_on.is_(None))).all())  # fmt: skip
    aware = {m for m, k in kinds.items() if k == "awareness"}
    core = {m for m, k in kinds.items() if k == "core"}
    counts = {key: [0, 0] for key in services.TARGETS}
    orgs = db.session.scalars(
        sa.select(Organization).where(Organization.kind == GRASSROOTS, subtree_clause(root))
    )
    for org in orgs:
        has = done.get(chairs.get(org.id, -1), set())
        keys = [("awareness", aware <= has)]
        if org.sector == Sector.NON_STATE:
            split = (
                "trained_by_province" if (org.member_count or 0) >= 1000 else "trained_by_district"
            )
            keys += [("trained_non_state", core <= has), (split, core <= has)]
        for key, ok in keys:
            counts[key][0] += 1
            counts[key][1] += int(ok)
    return {key: (e, d) for key, (e, d) in counts.items()}


def figures(actor, code: str, as_of: date) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    ctx = services.resolve(actor, Params(org=code, as_of=as_of.isoformat()))
    return {k: (t.eligible, t.done) for k, t in services.targets(ctx).items()}


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(units=units_strategy, events=events_strategy, pick=st.integers(0, 1000))
# Always tried: awareness at 00:30 in Vietnam on day 1 (17:30 UTC on day 0), reported on day 0.
@example(
    units=[("state", 10, True, False, 0)],
    events=[(0, 0, 0, (17, 30), CompletionSource.ONLINE, False)],
    pick=1,  # the days tried are -1, 0, 1 and 21: day 0
).via("COMP-06")
def test_aggregates_equal_a_recount_from_the_completions(app, units, events, pick) -> None:
    savepoint = db.session.begin_nested()
    try:
        province, districts, course, admin = build(units, events)
        # The interesting days are those of the completions and their neighbours.
        days = sorted({e[2] + shift for e in events for shift in (-1, 0, 1)} | {-1, 21})
        as_of = (START + timedelta(days=days[pick % len(days)])).date()
        total = figures(admin, "PX", as_of)
        assert total == recount(province, course, as_of)
        parts = [figures(admin, d.code, as_of) for d in districts]
        for key, (eligible, done) in total.items():
            assert 0 <= done <= eligible
            assert sum(p[key][0] for p in parts) == eligible
            assert sum(p[key][1] for p in parts) == done
        split = [total["trained_by_district"], total["trained_by_province"]]
        assert tuple(map(sum, zip(*split, strict=True))) == total["trained_non_state"]
        ctx = services.resolve(admin, Params(org="PX", as_of=as_of.isoformat()))
        listed = services.unit_page(ctx).units
        assert sum(u.awareness_done for u in listed) == total["awareness"][1]
        assert sum(bool(u.trained) for u in listed) == total["trained_non_state"][1]
        assert len(listed) == total["awareness"][0]
    finally:
        savepoint.rollback()
