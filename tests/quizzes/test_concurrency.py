"""Races with real commits, on a fresh database of the backend under test (not the rolled-back
test transaction): 10 submits of one attempt (QUIZ-03, REL-10), 5 starts at once (QUIZ-05), and
another writer committing while a submit reads."""

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from lms import create_app
from lms.db import db
from lms.quizzes.models import Attempt, Response
from lms.quizzes.signals import attempt_graded
from tests.conftest import Client, base_config, elsewhere_during, fresh_database
from tests.factories import make_course, make_module, make_quiz, make_user
from tests.quizzes.helpers import GIFT, answer_form

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new database of the backend under test, dropped afterwards."""
    with fresh_database(tmp_path, "lms_race") as url:
        yield url


@pytest.fixture
def race(fresh_url: str) -> Iterator[tuple[Flask, dict]]:
    """The app on the fresh database: a module whose quiz allows 2 attempts, one learner, and
    a table that stands for other writers' data."""
    app = create_app(base_config(fresh_url))
    app.test_client_class = Client
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        module = make_module(make_course("khoa-dua"), "dua", max_attempts=2)
        make_quiz(module, GIFT)
        make_user("hocvien.dua")
        db.session.execute(sa.text("CREATE TABLE elsewhere (n INTEGER)"))
        db.session.commit()
        ids = {"module": module.id, "url": fresh_url}
    try:
        yield app, ids
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _signed_in(app: Flask) -> tuple[str, str]:
    """The session cookie and CSRF token of a signed-in learner, to share between threads."""
    client = app.test_client()
    assert client.login("hocvien.dua").status_code == 302
    token = client.csrf_token()  # may add the CSRF secret to the session: read the cookie after
    return client.get_cookie("lms").value, token


def _all_at_once(app: Flask, cookie: str, count: int, path: str, data: dict) -> Counter:
    barrier = threading.Barrier(count)

    def one(_: int) -> int:
        client = app.test_client()
        client.set_cookie("lms", cookie)
        barrier.wait()
        return client.post(path, data=data).status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return Counter(pool.map(one, range(count)))


def _attempts(app: Flask) -> list[Attempt]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Attempt).order_by(Attempt.attempt_no)))


def test_ten_concurrent_submits_grade_once(race) -> None:
    """QUIZ-03: exactly one success (a redirect to the review) and nine 409."""
    app, ids = race
    cookie, token = _signed_in(app)
    start = _all_at_once(
        app, cookie, 1, f"/modules/{ids['module']}/quiz/start", {"csrf_token": token}
    )
    assert start == Counter({302: 1})
    [attempt] = _attempts(app)
    with app.app_context():
        form = answer_form(db.session.merge(attempt)) | {"csrf_token": token}
    graded = []
    with attempt_graded.connected_to(lambda sender, **kw: graded.append(sender.id)):
        statuses = _all_at_once(app, cookie, 10, f"/attempts/{attempt.public_id}/submit", form)
    assert statuses == Counter({302: 1, 409: 9})
    assert graded == [attempt.id]
    [done] = _attempts(app)
    assert done.is_submitted and done.score == 100.0 and done.revision == 1
    with app.app_context():
        count = sa.select(sa.func.count()).select_from(Response)
        assert db.session.scalar(count) == 7  # one graded row per question that takes an answer


def test_five_concurrent_starts_never_pass_max_attempts(race) -> None:
    """QUIZ-05: five starts at once open one attempt; with max_attempts=2 there are never 3."""
    app, ids = race
    cookie, token = _signed_in(app)
    path, data = f"/modules/{ids['module']}/quiz/start", {"csrf_token": token}
    assert _all_at_once(app, cookie, 5, path, data) == Counter({302: 5})
    [first] = _attempts(app)
    _submit_plainly(app, cookie, token, first)
    assert _all_at_once(app, cookie, 5, path, data) == Counter({302: 5})
    second = _attempts(app)[-1]
    _submit_plainly(app, cookie, token, second)
    assert _all_at_once(app, cookie, 5, path, data) == Counter({409: 5})
    assert [a.attempt_no for a in _attempts(app)] == [1, 2]


def _submit_plainly(app: Flask, cookie: str, token: str, attempt: Attempt) -> None:
    statuses = _all_at_once(
        app,
        cookie,
        1,
        f"/attempts/{attempt.public_id}/submit",
        {"csrf_token": token, "revision": "0"},
    )
    assert statuses == Counter({302: 1})


def _started(app: Flask, ids: dict) -> tuple[str, Attempt, dict]:
    """A signed-in learner's cookie, their open attempt and a form that answers it all right."""
    cookie, token = _signed_in(app)
    path = f"/modules/{ids['module']}/quiz/start"
    assert _all_at_once(app, cookie, 1, path, {"csrf_token": token}) == Counter({302: 1})
    [attempt] = _attempts(app)
    with app.app_context():
        form = answer_form(db.session.merge(attempt)) | {"csrf_token": token}
    return cookie, attempt, form


def test_a_submit_reads_without_keeping_other_writers_waiting(race) -> None:
    """While a submit reads the attempt and its questions, another writer commits within its
    short lock wait (on SQLite the submit takes the write lock only when it starts writing),
    and the submit is still graded once, fully."""
    app, ids = race
    cookie, attempt, form = _started(app, ids)
    insert = "INSERT INTO elsewhere VALUES (1)"
    with elsewhere_during(app, ids["url"], "FROM question", insert) as wrote:
        statuses = _all_at_once(app, cookie, 1, f"/attempts/{attempt.public_id}/submit", form)
    assert wrote == [True]
    assert statuses == Counter({302: 1})
    [done] = _attempts(app)
    assert done.is_submitted and done.score == 100.0 and done.revision == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 7


def test_a_save_between_a_submits_reads_and_its_writes_is_not_overwritten(race) -> None:
    """A save from another tab lands after the submit read the attempt and before it writes:
    the submit is refused as out of date (409) and writes nothing; the attempt stays open at
    the other tab's revision."""
    app, ids = race
    cookie, attempt, form = _started(app, ids)
    other_tab = f"UPDATE attempt SET revision = revision + 1 WHERE id = {int(attempt.id)}"  # noqa: S608
    with elsewhere_during(app, ids["url"], "FROM question", other_tab) as wrote:
        statuses = _all_at_once(app, cookie, 1, f"/attempts/{attempt.public_id}/submit", form)
    assert wrote == [True]
    assert statuses == Counter({409: 1})
    [still] = _attempts(app)
    assert not still.is_submitted and still.score is None and still.revision == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


@pytest.mark.sqlite_only
def test_a_save_refused_by_what_it_read_does_not_wait_for_the_write_lock(race) -> None:
    """A save from an old tab (an older revision, other answers) is refused from what it read,
    with no write lock: while another program holds SQLite's lock, it still gets its 409 "out
    of date" page at once instead of waiting out the lock and a 503."""
    import sqlite3

    app, ids = race
    cookie, attempt, form = _started(app, ids)
    path = f"/attempts/{attempt.public_id}/save"
    nothing = {"csrf_token": form["csrf_token"], "revision": "0"}
    assert _all_at_once(app, cookie, 1, path, nothing) == Counter({302: 1})  # now revision 1
    holder = sqlite3.connect(sa.make_url(ids["url"]).database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert _all_at_once(app, cookie, 1, path, form) == Counter({409: 1})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    [still] = _attempts(app)
    assert still.revision == 1 and not still.is_submitted
