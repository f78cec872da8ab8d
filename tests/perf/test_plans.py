"""Query plans of the pages that must stay fast at national scale: no full scan of a large
table, no automatic index, and a learner's own rows reached through their user id."""

import pytest

from lms.db import db
from lms.orgs import services as orgs
from lms.progress import certificates
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
    for m in range(3):
        module = make_module(course, f"md-{m}", position=m)
        make_lesson(module, "bai-1")
    db.session.flush()
    return {**tree, "course": course}


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
