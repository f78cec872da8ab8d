"""The roll-ups with real commits on a fresh database of the backend under test: chairs of one
district completing at once all reach the district's, the province's and the national rows, and
so do chairs opening the lesson (the dashboard's funnel); the migrations that add the roll-ups
fill them from the data already there."""

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from lms.coverage import queries
from lms.db import db, vn_today
from lms.orgs.models import Organization
from lms.progress import rollup
from lms.progress.models import CoverageRollup
from tests.conftest import migrated_app
from tests.factories import make_course, make_lesson, make_module, make_org, make_user
from tests.progress.test_concurrency import all_at_once, signed_in

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
LESSON = "/learn/khoa-cuon/nhan-thuc/bai"
CHAIRS = [f"chutich{n}" for n in range(6)]


@pytest.fixture
def district(tmp_path: Path) -> Iterator[Flask]:
    """A province with one district of six unions, each with a chair; a one-lesson awareness
    module (the lesson done completes it, and with it the chair's awareness)."""
    with migrated_app(tmp_path, "lms_rollup") as app:
        with app.app_context():
            province = make_org("CP", kind="province")
            area = make_org("CH", kind="district", parent=province)
            course = make_course("khoa-cuon", published=True)
            make_lesson(make_module(course, "nhan-thuc", kind="awareness"), "bai")
            for n, username in enumerate(CHAIRS):
                unit = make_org(f"CU{n}", kind="grassroots", parent=area, sector="non_state")
                make_user(username, org=unit, position="chair")
            db.session.commit()
        yield app


def both_ways(app: Flask, code: str | None, as_of: date) -> tuple[tuple, tuple]:
    """(from the roll-ups, counted directly) for a scope, in a new transaction."""
    with app.app_context():
        from lms.catalog.models import Course

        course = db.session.scalars(sa.select(Course)).one()
        find = sa.select(Organization).where(Organization.code == code)
        root = db.session.scalars(find).one() if code else None
        summed = rollup.figures(course.id, root.id if root else rollup.FEDERATION, as_of)
        counted = tuple(queries.figures(queries.Terms(course, as_of), root))
        db.session.rollback()
        return summed, counted


def funnel_both_ways(app: Flask, code: str | None, as_of: date) -> tuple[dict, dict]:
    """The funnel per module (started, done; then non-state), from the roll-ups and counted."""
    with app.app_context():
        from lms.catalog.models import Course, Module
        from lms.coverage.dashboard import end_of_day

        course = db.session.scalars(sa.select(Course)).one()
        find = sa.select(Organization).where(Organization.code == code)
        root = db.session.scalars(find).one() if code else None
        summed = rollup.funnel(course.id, root.id if root else rollup.FEDERATION)
        ids = list(db.session.scalars(sa.select(Module.id)))
        live = queries.funnel(queries.Terms(course, as_of), root, ids, end_of_day(as_of))
        counted = {}
        for module_id in ids:
            state = live.get((module_id, "state"), (0, 0))
            non_state = live.get((module_id, "non_state"), (0, 0))
            if any(state) or any(non_state):
                counted[module_id] = (state[0] + non_state[0], state[1] + non_state[1], *non_state)
        db.session.rollback()
        return summed, counted


def opened_at_once(app: Flask, usernames: list[str]) -> Counter:
    """Each chair opens the lesson, every request released at the same moment."""
    jobs = [signed_in(app, username) for username in usernames]
    barrier = threading.Barrier(len(jobs))

    def one(job: tuple[str, str]) -> int:
        client = app.test_client()
        client.set_cookie("lms", job[0])
        barrier.wait()
        return client.get(LESSON).status_code

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return Counter(pool.map(one, jobs))


def test_chairs_completing_at_once_all_reach_every_level(district) -> None:
    jobs = [signed_in(district, username) for username in CHAIRS]
    assert all_at_once(district, jobs, f"{LESSON}/done") == Counter({302: 6})
    for code in ("CH", "CP", None):
        summed, counted = both_ways(district, code, vn_today())
        assert summed == counted
        assert summed[:2] == (6, 6)  # six unions, six chairs aware


def test_chairs_opening_the_lesson_at_once_all_reach_the_funnel(district) -> None:
    assert opened_at_once(district, CHAIRS[:5]) == Counter({200: 5})
    jobs = [signed_in(district, username) for username in CHAIRS[:2]]
    assert all_at_once(district, jobs, f"{LESSON}/done") == Counter({302: 2})
    for code in ("CH", "CP", None):
        summed, counted = funnel_both_ways(district, code, vn_today())
        assert summed == counted
        assert list(summed.values()) == [(5, 2, 5, 2)]


def test_a_chair_opening_several_modules_at_once_has_each_counted(district) -> None:
    """Five first visits of one union's modules at once: each adds its module to the union's
    started list without losing another's (PostgreSQL takes them one at a time per union)."""
    from lms.catalog.models import Course
    from lms.progress.models import UnitStanding

    with district.app_context():
        course = db.session.scalars(sa.select(Course)).one()
        for n in range(1, 5):
            make_lesson(make_module(course, f"chu-de-{n}", position=n + 1), "bai")
        db.session.commit()
    cookie, _ = signed_in(district, CHAIRS[0])
    paths = [LESSON, *(f"/learn/khoa-cuon/chu-de-{n}/bai" for n in range(1, 5))]
    barrier = threading.Barrier(len(paths))

    def one(path: str) -> int:
        client = district.test_client()
        client.set_cookie("lms", cookie)
        barrier.wait()
        return client.get(path).status_code

    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        assert Counter(pool.map(one, paths)) == Counter({200: 5})
    for code in ("CH", "CP", None):
        summed, counted = funnel_both_ways(district, code, vn_today())
        assert summed == counted
        assert list(summed.values()) == [(1, 0, 1, 0)] * 5
    with district.app_context():
        started = db.session.scalars(sa.select(UnitStanding.modules_started).join(
            Organization, Organization.id == UnitStanding.org_id).where(
            Organization.code == "CU0")).one()  # fmt: skip
        assert len(started.split(",")) == 5


def test_the_migration_fills_the_module_rollups_from_what_is_there(district) -> None:
    assert opened_at_once(district, CHAIRS[:3]) == Counter({200: 3})
    jobs = [signed_in(district, username) for username in CHAIRS[3:5]]  # done, never opened
    assert all_at_once(district, jobs, f"{LESSON}/done") == Counter({302: 2})
    with district.app_context():
        downgrade(directory=str(MIGRATIONS), revision="9d2117e9d3eb")  # before the funnel's
        assert not sa.inspect(db.engine).has_table("module_rollup")
        upgrade(directory=str(MIGRATIONS))
    for code in ("CH", "CP", None):
        summed, counted = funnel_both_ways(district, code, vn_today())
        assert summed == counted and list(summed.values()) == [(5, 2, 5, 2)]


def test_the_migration_fills_the_rollups_from_what_is_there(district) -> None:
    jobs = [signed_in(district, username) for username in CHAIRS[:4]]
    assert all_at_once(district, jobs, f"{LESSON}/done") == Counter({302: 4})
    with district.app_context():
        downgrade(directory=str(MIGRATIONS), revision="5c1e9b7f2a40")  # before the roll-ups
        assert not sa.inspect(db.engine).has_table("coverage_rollup")
        upgrade(directory=str(MIGRATIONS))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CoverageRollup))
    for code in ("CH", "CP", None):
        summed, counted = both_ways(district, code, vn_today())
        assert summed == counted and summed[:2] == (6, 4)


def test_the_migration_fills_each_learners_activity_from_what_is_there(district) -> None:
    from lms.accounts.models import User
    from lms.catalog.models import Module
    from lms.progress.models import LearnerActivity
    from tests.coverage.test_laggards import fail_quiz_twice

    assert opened_at_once(district, CHAIRS[:3]) == Counter({200: 3})
    rows = sa.select(LearnerActivity.__table__).order_by("user_id")
    with district.app_context():
        chair = db.session.scalars(sa.select(User).where(User.username == CHAIRS[4])).one()
        fail_quiz_twice(chair, db.session.scalars(sa.select(Module)).one())
        db.session.commit()
        kept = db.session.execute(rows).all()
        assert [(row.last_seen_on, row.failed_quizzes) for row in kept] == [
            *[(vn_today(), 0)] * 3, (None, 1)
        ]
        db.session.rollback()
        downgrade(directory=str(MIGRATIONS), revision="64a2d8da8b8d")  # before the activity
        assert not sa.inspect(db.engine).has_table("learner_activity")
        upgrade(directory=str(MIGRATIONS))
        assert db.session.execute(rows).all() == kept
