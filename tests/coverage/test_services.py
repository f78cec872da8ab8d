"""The figures of DESIGN.md §6 for the hand-built district, its units and its scope."""

import re

import pytest

from lms.coverage import queries, services
from lms.coverage.services import Params
from tests.coverage.conftest import AS_OF, EXPECTED, EXPECTED_LATER


def figures(actor, **params) -> dict:  # type: ignore[no-untyped-def]
    ctx = services.resolve(actor, Params(**params))
    return {key: t.to_json() for key, t in services.targets(ctx).items()}


def test_district_figures_match_the_hand_count(scenario) -> None:
    assert figures(scenario["staff_a"], as_of=AS_OF) == EXPECTED


def test_a_later_day_counts_the_later_completions(scenario) -> None:
    assert figures(scenario["staff_a"], as_of="10/11/2021") == EXPECTED_LATER


def test_before_anything_nobody_is_done(scenario) -> None:
    found = figures(scenario["staff_a"], as_of="2021-09-30")
    assert [t["done"] for t in found.values()] == [0, 0, 0, 0]
    assert [t["eligible"] for t in found.values()] == [7, 5, 3, 2]


def test_admin_sees_both_districts_and_org_narrows(scenario) -> None:
    everything = figures(scenario["admin"], as_of=AS_OF)
    assert everything["awareness"] == {"eligible": 8, "done": 4, "percent": 50.0}
    assert figures(scenario["admin"], as_of=AS_OF, org="A") == EXPECTED
    only_b = figures(scenario["admin"], as_of=AS_OF, org="B")
    assert only_b["trained_by_district"] == {"eligible": 1, "done": 1, "percent": 100.0}


def test_staff_cannot_reach_another_district(scenario) -> None:
    """AC-03: ?org=B (or a unit of B) from district A is 'no such unit', never B's figures."""
    for code in ("B", "B-1", "P"):
        with pytest.raises(services.CoverageError) as caught:
            services.resolve(scenario["staff_a"], Params(org=code))
        assert caught.value.status == 404
    assert figures(scenario["staff_b"], as_of=AS_OF)["awareness"]["eligible"] == 1


def test_units_list_every_union_with_vacancies(scenario) -> None:
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF))
    page = services.unit_page(ctx, sort="code")
    units = {u.code: u for u in page.units}
    assert list(units) == ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7"]
    assert units["A-5"].chair is None and units["A-6"].chair is None
    assert units["A-6"].to_json()["trained"] is False and units["A-5"].trained is None
    a3 = units["A-3"].to_json()
    assert a3["chair"] == {"username": "0912000003", "full_name": "Lê Văn Cường"}
    assert (a3["awareness_done"], a3["core_modules_done"], a3["trained"]) == (True, 1, False)
    assert (a3["responsible"], units["A-4"].responsible) == ("district", "province")
    assert units["A-7"].core_modules_done == 0  # the revoked completion does not count
    assert units["A-1"].officers == (2, 2, 1)  # chair and vice-chair; the chair did it all
    assert [u.status for u in page.units] == [
        "done",
        "done",
        "in_progress",
        "not_started",
        "vacant",
        "vacant",
        "not_started",
    ]
    assert units["A-4"].activated is False and units["A-1"].activated is True


def test_units_add_up_to_the_totals(scenario) -> None:
    """COMP-03 on the scenario: the units reproduce each target."""
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF))
    units = services.unit_page(ctx).units
    assert sum(u.awareness_done for u in units) == EXPECTED["awareness"]["done"]
    assert sum(bool(u.trained) for u in units) == EXPECTED["trained_non_state"]["done"]
    assert sum(u.trained is not None for u in units) == EXPECTED["trained_non_state"]["eligible"]


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"sector": "state"}, ["A-2", "A-5"]),
        ({"responsible": "province"}, ["A-1", "A-4"]),
        ({"status": "vacant"}, ["A-5", "A-6"]),
        ({"status": "in_progress"}, ["A-3"]),
        ({"q": "duong"}, ["A-3"]),
        ({"q": "DƯƠNG minh"}, ["A-3"]),
    ],
)
def test_filters_and_accent_free_search(scenario, params, codes) -> None:
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF, **params))
    page = services.unit_page(ctx, q=params.get("q", ""), sort="code")
    assert [u.code for u in page.units] == codes
    assert page.total == len(codes)


def test_units_are_paged(scenario) -> None:
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF))
    pages = [services.unit_page(ctx, sort="code", page=n, per_page=3) for n in (1, 2, 3)]
    assert [p.pages for p in pages] == [3, 3, 3]
    assert [len(p.units) for p in pages] == [3, 3, 1]
    assert pages[2].units[0].code == "A-7"


@pytest.mark.parametrize(
    ("filters", "joined"),
    [({}, False), ({"sector": "non_state", "responsible": "district"}, False),
     ({"status": "vacant"}, True)],
)  # fmt: skip
def test_units_are_counted_from_the_unions_alone_unless_the_status_is_filtered(
    scenario, count_statements, filters, joined
) -> None:
    """A union has one row at most with its chair and standing joined, so the count leaves
    them out unless the status needs them; it still equals the number of rows listed."""
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF, **filters))
    with count_statements() as counter:
        total = queries.count_units(ctx.terms, ctx.root, ctx.filters)
    assert total == len(queries.units(ctx.terms, ctx.root, ctx.filters)) > 0
    [statement] = counter.statements
    assert ("course_standing" in statement) is joined


@pytest.mark.parametrize("sort", ["name", "code", "members", "status"])
@pytest.mark.parametrize(("filters", "q"), [({}, ""), ({"sector": "non_state"}, ""), ({}, "a")])
def test_pages_are_slices_of_the_whole_list(scenario, sort, filters, q) -> None:
    """A page's unions are chosen before the chair and standing are joined (except for the
    status): page by page, the same units in the same order as the whole list."""
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF, **filters))
    whole = [u.code for u in services.unit_page(ctx, q=q, sort=sort, per_page=None).units]
    paged = [u.code for n in (1, 2, 3) for u in
             services.unit_page(ctx, q=q, sort=sort, page=n, per_page=2).units]  # fmt: skip
    assert paged == whole[:6] and len(whole) >= 3


@pytest.mark.parametrize("sort", ["name", "code", "members", "status"])
def test_a_name_search_binds_only_a_slice_of_its_matches(
    scenario, count_statements, monkeypatch, sort
) -> None:
    """A national search can match 130.000 unions, far past the values a statement may bind
    (32.766 on SQLite: it was refused, a 503). The matches are listed in the report's order
    and only a page of them, IN_LIMIT at most, is bound at a time; the order is kept."""
    monkeypatch.setattr(queries, "IN_LIMIT", 2)
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF))
    unsearched = [u.code for u in services.unit_page(ctx, sort=sort, per_page=None).units]
    with count_statements() as counter:
        found = services.unit_page(ctx, q="đơn vị", sort=sort, per_page=None)
        files = [u.code for u in services.every_unit(ctx, q="don vi", sort=sort)]
        page = services.unit_page(ctx, q="don vi", sort=sort, page=2, per_page=2)
    expected = [code for code in unsearched if code != "A-3"]  # "Công đoàn Công ty Dương Minh"
    assert [u.code for u in found.units] == files == expected and found.total == 6
    assert [u.code for u in page.units] == expected[2:4]
    bound = [len(re.findall(r"\?|%\(", values)) for st in counter.statements
             for values in re.findall(r"IN \(((?:[^()]|\([^()]*\))*)\)", st)]  # fmt: skip
    assert bound and max(bound) <= 2


def test_the_files_read_the_units_a_batch_at_a_time(
    scenario, count_statements, monkeypatch
) -> None:
    """EXP-06: the units for the CSV, XLSX and printable report: their ids sorted once (no
    OFFSET sorting the scope again for each page), then IN_LIMIT units at a time, each batch
    with its officers counted in one more query; the same units and figures as the pages."""
    monkeypatch.setattr(queries, "IN_LIMIT", 3)
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF))
    with count_statements() as counter:
        units = list(services.every_unit(ctx, sort="code"))
    assert [u.code for u in units] == [f"A-{n}" for n in range(1, 8)]
    selects = [st.lstrip()[:40] for st in counter.statements]
    listed = [st for st in selects if st.startswith("SELECT organization.id AS org_id")]
    counted = [st for st in selects if st.startswith("SELECT officer.org_id")]
    assert len(listed) == len(counted) == 3 and len(selects) == 1 + 3 + 3
    assert not any("OFFSET" in st.upper() for st in counter.statements)
    by_page = [
        (u.code, u.officers, u.status)
        for n in (1, 2, 3)
        for u in services.unit_page(ctx, sort="code", page=n, per_page=3).units
    ]
    assert [(u.code, u.officers, u.status) for u in units] == by_page


def test_a_page_past_the_end_shows_the_last_one(scenario) -> None:
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF))
    past = services.unit_page(ctx, sort="code", page=9, per_page=3)
    assert (past.page, past.pages, past.total) == (3, 3, 7)
    assert [u.code for u in past.units] == ["A-7"]
    nothing = services.unit_page(ctx, q="khong co don vi nay", page=2, per_page=3)
    assert (nothing.page, nothing.pages, nothing.total, nothing.units) == (1, 1, 0, [])


def test_district_figures_cost_at_most_three_statements(scenario, count_statements) -> None:
    staff = scenario["staff_a"]
    staff_id = staff.id
    from lms.accounts.models import User
    from lms.db import db

    db.session.expire_all()
    staff = db.session.get(User, staff_id)
    with count_statements() as counter:
        ctx = services.resolve(staff, Params(as_of=AS_OF))
        found = services.targets(ctx)
    assert found["awareness"].done == 3
    assert counter.count <= 3, counter.statements
    assert not any("completion" in s.lower().split("from", 1)[-1] for s in counter.statements)


@pytest.mark.parametrize(
    ("done", "eligible", "expected"),
    [(0, 0, 0.0), (1, 3, 33.3), (2, 3, 66.7), (1, 8, 12.5), (1, 16, 6.3), (5, 5, 100.0)],
)
def test_percent_has_one_decimal(done: int, eligible: int, expected: float) -> None:
    assert services.percent(done, eligible) == expected


@pytest.mark.parametrize("value", ["2021-13-01", "31/02/2021", "hôm qua", "3.11.2021"])
def test_a_bad_day_is_refused(scenario, value: str) -> None:
    with pytest.raises(services.CoverageError) as caught:
        services.resolve(scenario["staff_a"], Params(as_of=value))
    assert caught.value.code == "bad_date" and caught.value.status == 400


def test_defaults_are_the_newest_course_and_today(scenario) -> None:
    from lms.db import vn_today
    from tests.factories import make_course

    ctx = services.resolve(scenario["staff_a"], Params())
    assert (ctx.course.slug, ctx.as_of, ctx.root.code) == ("chu-de-2021", vn_today(), "A")
    make_course("chu-de-2022", year=2022)
    assert services.resolve(scenario["staff_a"], Params()).course.slug == "chu-de-2022"
    with pytest.raises(services.CoverageError):
        services.resolve(scenario["staff_a"], Params(course="khong-co"))


def test_funnel_counts_who_started_and_who_completed_each_module(scenario) -> None:
    from lms.coverage import dashboard
    from lms.db import db
    from lms.progress.models import LessonProgress
    from tests.coverage.conftest import utc
    from tests.factories import make_lesson

    lesson = make_lesson(scenario["modules"]["tien-luong"], "bai-1")
    opened = LessonProgress(
        user_id=scenario["chairs"]["A-4"].id,
        lesson_id=lesson.id,
        module_id=lesson.module_id,
        first_seen_dt=utc("2021-10-20T00:00:00"),
    )
    db.session.add(opened)
    db.session.flush()
    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF))
    found = services.targets(ctx)
    rows = dashboard.funnel(ctx, found, dashboard.counted_modules(ctx))
    assert [(r.module.slug, r.eligible, r.started, r.done) for r in rows] == [
        ("nhan-thuc", 7, 3, 3),
        ("tien-luong", 5, 3, 2),  # A-4's chair opened it online; A-7's was revoked
        ("thuong-luong", 5, 1, 1),  # A-3's chair completed it after the as-of day
    ]


def test_chart_steps_reach_the_figures(scenario) -> None:
    from lms.coverage import dashboard

    ctx = services.resolve(scenario["staff_a"], Params(as_of=AS_OF))
    chart = dashboard.chart(ctx, services.targets(ctx))
    finals = {s.key: s.final for s in chart.series}
    assert finals == {"awareness": 42.9, "trained": 20.0}
    assert str(chart.start) == "2021-10-01" and str(chart.end) == AS_OF
    assert all(p.count(",") == 1 for s in chart.series for p in s.points.split())


@pytest.mark.parametrize(("as_of", "aware", "trained"), [(AS_OF, 3, 1), ("2021-11-10", 4, 2)])
def test_the_chart_above_the_unions_reads_the_rollups_and_they_match_a_recount(
    scenario, as_of, aware, trained
) -> None:
    import sqlalchemy as sa

    from lms.coverage import dashboard
    from lms.db import db
    from lms.progress import rollup

    ctx = services.resolve(scenario["staff_a"], Params(as_of=as_of))
    district = ctx.root
    days = rollup.timeline(ctx.course.id, district.id, ctx.as_of)
    assert (sum(d[1] for d in days), sum(d[2] for d in days)) == (aware, trained)
    province = db.session.get(type(district), district.parent_id)
    for root in (district, province, None):
        scope = root.id if root is not None else rollup.FEDERATION
        assert rollup.timeline(ctx.course.id, scope, ctx.as_of) == queries.timeline(ctx.terms, root)

    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        chart = dashboard.chart(ctx, services.targets(ctx))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    assert any("coverage_rollup" in s for s in statements)
    assert not any("course_standing" in s for s in statements)
    finals = {s.key: s.final for s in chart.series}
    assert finals == {"awareness": services.percent(aware, 7),
                      "trained": services.percent(trained, 5)}  # fmt: skip
