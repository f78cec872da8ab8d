"""The fast tier of the benchmark: SQL statements per page stay fixed as the data grows.

No timings here (they belong to `make bench`); a count that grows with the data is an N+1.
The lesson page and the quiz submit have their own budgets in tests/progress and tests/quizzes.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.db import db
from lms.progress import services as progress
from tests.conftest import base_config, fresh_database
from tests.factories import (
    make_course,
    make_lesson,
    make_module,
    make_org,
    make_quiz,
    make_tree,
    make_user,
)

QUIZ = "::Q1:: Hai cộng hai? {=bốn ~ba}"


def _courses(count: int, lessons: int) -> list:
    """`count` published courses of three modules, each with `lessons` lessons and a quiz."""
    made = []
    for c in range(count):
        course = make_course(f"khoa-{count}-{lessons}-{c}", year=2021 + c)
        for m in range(3):
            kind = "core" if m else "awareness"
            module = make_module(course, f"mo-dun-{m}", position=m, kind=kind)
            for n in range(lessons):
                make_lesson(module, f"bai-{n}", position=n, body_md=f"Bài {n}.")
            make_quiz(module, QUIZ)
        made.append(course)
    return made


def _learner(name: str):  # type: ignore[no-untyped-def]
    union = make_org(f"CD-{name}", kind="grassroots", sector="non_state", members=120)
    return make_user(name, org=union, position="chair")


def _study(user, courses: list) -> None:  # type: ignore[no-untyped-def]
    """Open every lesson and complete every module: the most rows a learner can have."""
    for course in courses:
        for state in progress.course_overview(user, course):
            for lesson_state in state.lessons:
                progress.record_visit(progress.pending_visit(user, lesson_state.lesson, None))
            progress.record_completion(user, state.module, progress.CompletionSource.ONLINE)
    db.session.commit()


def _count(client, count_statements, url: str) -> int:  # type: ignore[no-untyped-def]
    with count_statements() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count


def test_learner_home_costs_the_same_with_one_course_or_five(client, count_statements) -> None:
    small, large = _learner("hoc.vien.mot"), _learner("hoc.vien.nam")
    _study(small, _courses(1, 2))
    _study(large, _courses(5, 6))
    client.login("hoc.vien.mot")
    one = _count(client, count_statements, "/")
    client.logout()
    client.login("hoc.vien.nam")
    five = _count(client, count_statements, "/")
    # Session, positions, courses, modules, lessons, completions, certificates (and what they
    # rest on), live sessions: one query each, whatever the courses, modules and certificates.
    assert one == five <= 9, (one, five)


@pytest.mark.parametrize("lessons", [2, 12])
def test_module_page_costs_a_fixed_number_of_statements(client, count_statements, lessons) -> None:
    user = _learner(f"mo.dun.{lessons}")
    course = _courses(1, lessons)[0]
    _study(user, [course])
    client.login(user.username)
    assert _count(client, count_statements, f"/learn/{course.slug}/mo-dun-1") <= 9


@pytest.mark.parametrize("lessons", [2, 12])
def test_lesson_page_cost_does_not_grow_with_the_module(client, count_statements, lessons) -> None:
    user = _learner(f"bai.hoc.{lessons}")
    course = _courses(1, lessons)[0]
    _study(user, [course])
    client.login(user.username)
    url = f"/learn/{course.slug}/mo-dun-1/bai-1"
    assert _count(client, count_statements, url) <= 6


def test_staff_home_costs_a_fixed_number_of_statements(client, count_statements) -> None:
    tree = make_tree()
    for n in range(20):
        make_user(f"chu.tich.{n}", org=tree["a_union"] if n % 2 else tree["b_union"])
    make_user("can.bo.tinh", role="staff", org=tree["province"])
    db.session.commit()
    client.login("can.bo.tinh")
    assert _count(client, count_statements, "/") <= 4


def test_statement_header_only_when_counting_is_on(tmp_path: Path) -> None:
    """LMS_COUNT_SQL=1 puts the request's statement count in X-SQL-Statements; off by default."""
    with fresh_database(tmp_path, "lms_count") as url:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:  # all /healthz reads: the schema's version
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            conn.execute(sa.text("INSERT INTO alembic_version VALUES ('x')"))
        engine.dispose()
        for on in (False, True):
            app = create_app({**base_config(url), "COUNT_SQL": on})
            with app.app_context():
                response = app.test_client().get("/healthz")
            with app.app_context():  # the request's session has given its connection back
                db.engine.dispose()
            assert response.status_code == 200
            assert response.headers.get("X-SQL-Statements") == ("1" if on else None)
