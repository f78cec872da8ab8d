"""Query plans of the pages that must stay fast at national scale: no full scan of a large
table, no automatic index, and a learner's own rows reached through their user id."""

import pytest

from lms.db import db
from lms.orgs import services as orgs
from lms.progress import certificates, rollup, standing
from lms.progress import services as progress
from tests.factories import make_course, make_lesson, make_module, make_tree, make_user
from tests.perf.plans import plans_of


@pytest.fixture
def tree(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    for n in range(6):
        union = tree["a_union"] if n % 2 else tree["b_union"]
        make_user(f"cb.{n}", org=union, position="vice_chair")
    course = make_course("khoa-ke-hoach")
    modules = []
    for m in range(3):
        modules.append(make_module(course, f"md-{m}", position=m))
        make_lesson(modules[-1], "bai-1")
    db.session.flush()
    return {**tree, "course": course, "modules": modules}


def _clean(plans) -> None:  # type: ignore[no-untyped-def]
    for plan in plans:
        assert not plan.full_scans(), f"{plan.statement}\n{plan.text}"
        assert not plan.automatic_indexes(), f"{plan.statement}\n{plan.text}"


def test_district_summary_reads_only_the_district(tree) -> None:
    _clean(plans_of(lambda: orgs.summarise(tree["a"])))


def test_people_list_of_a_district_reads_only_the_district(tree) -> None:
    staff = make_user("can.bo.a", role="staff", org=tree["a"])
    _clean(plans_of(lambda: db.session.scalars(orgs.people_query(staff).limit(50)).all()))


def test_learner_pages_reach_completions_by_person(tree) -> None:
    learner = make_user("hoc.vien.ke.hoach", org=tree["a_union"], position="chair")
    for state in progress.course_overview(learner, tree["course"]):
        progress.record_completion(learner, state.module, progress.CompletionSource.ONLINE)
    db.session.flush()

    def pages() -> None:
        progress.courses_overview(learner, [tree["course"]])
        certificates.certificates_of(learner)

    plans = plans_of(pages)
    _clean(plans)
    if db.engine.dialect.name == "sqlite":
        for plan in plans:
            for line in plan.searches("completion"):
                assert "user_id=?" in line, f"{plan.statement}\n{plan.text}"


def test_a_chairs_first_visit_finds_their_union_from_the_chair(tree) -> None:
    # The look-up joins the chair's officer rows, the module and the unions' standings. With no
    # hint SQLite went from the module to every union of its course (unit_standing by course
    # alone), then looked for the chair in each: 80-100 ms a first visit at XL.
    chair = make_user("chu.tich.ke.hoach", org=tree["a_union"], position="chair")
    [module] = [m for m in tree["modules"] if m.slug == "md-0"]
    [state] = progress.module_lessons(chair, [module.id])[module.id]
    rollup.settle()  # the union is counted (made a unit_standing row) before the visit

    def first_visit() -> None:
        progress.record_visit(progress.pending_visit(chair, state.lesson, None))
        rollup.settle()  # as before the commit

    plans = plans_of(first_visit)
    _clean(plans)
    looked_up = [plan for plan in plans if "unit_standing" in plan.statement]
    assert looked_up, [plan.statement for plan in plans]
    if db.engine.dialect.name == "sqlite":
        for plan in looked_up:
            assert plan.searches("officer")[0] == plan.lines[0], plan.text  # driven by the chair
            for line in plan.searches("unit_standing"):
                assert "org_id=?" in line, f"{plan.statement}\n{plan.text}"


@pytest.mark.sqlite_only  # PostgreSQL chooses between the two from its statistics
def test_a_rebuild_scans_the_completions_of_a_large_course_and_looks_up_a_small_ones(tree) -> None:
    # SQLite without statistics always reads `module_id IN (…)` through the module index, then
    # looks each row up in the table: at XL a course holding a fifth of the completions took
    # 1,7 s that way and 0,3 s by reading the table in order.
    big, small = tree["course"], make_course("khoa-nho")
    lone = make_module(small, "md-nho")
    make_lesson(lone, "bai-1")
    for n in range(12):
        learner = make_user(f"hv.rebuild.{n}", org=tree["a_union"])
        for module in tree["modules"]:
            progress.record_completion(learner, module, progress.CompletionSource.ONLINE)
    progress.record_completion(learner, lone, progress.CompletionSource.ONLINE)  # 1 of 37
    rollup.settle()

    def reads_of_completion(course) -> list[str]:  # type: ignore[no-untyped-def]
        def rebuild() -> None:
            standing.rebuild_course(course.id)
            rollup.rebuild_course(course.id)

        plans = plans_of(rebuild, inserts=True)
        lines = [line for plan in plans for line in plan.searches("completion")]
        assert len([plan for plan in plans if plan.searches("completion")]) >= 2, plans
        return lines

    def looked_up(line: str) -> bool:  # through the module index, then each row in the table
        return "ix_completion_module_completed" in line and "COVERING" not in line

    big_reads, small_reads = reads_of_completion(big), reads_of_completion(small)
    assert not [line for line in big_reads if looked_up(line)], big_reads
    assert [line for line in big_reads if line.startswith("SCAN completion")], big_reads
    assert len([line for line in small_reads if looked_up(line)]) == 2, small_reads
