"""COMP-02 under real concurrency, with real commits on a fresh database of the backend under
test: the same module completed by several requests at once gives one completion and one set
of certificates; many people completing at once lose nobody."""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from lms.db import db
from lms.progress.models import Certificate, Completion, LessonProgress
from tests.conftest import migrated_app
from tests.factories import make_course, make_lesson, make_module, make_user

LESSON = "/learn/khoa-dong-thoi/mo-dun/bai"
PEOPLE = [f"hocvien{n}" for n in range(6)]


@pytest.fixture
def race(tmp_path: Path) -> Iterator[Flask]:
    """A one-lesson module (no quiz: the lesson done completes it) and six learners."""
    with migrated_app(tmp_path, "lms_race_done") as app:
        with app.app_context():
            module = make_module(make_course("khoa-dong-thoi", published=True), "mo-dun")
            make_lesson(module, "bai")
            for username in PEOPLE:
                make_user(username)
            db.session.commit()
        yield app


def signed_in(app: Flask, username: str) -> tuple[str, str]:
    """The session cookie and CSRF token of a signed-in learner, to share between threads."""
    client = app.test_client()
    assert client.login(username).status_code == 302
    token = client.csrf_token()
    return client.get_cookie("lms").value, token


def all_at_once(app: Flask, jobs: list[tuple[str, str]], path: str) -> Counter:
    """POST `path` once per (cookie, token), every request released at the same moment."""
    barrier = threading.Barrier(len(jobs))

    def one(job: tuple[str, str]) -> int:
        cookie, token = job
        client = app.test_client()
        client.set_cookie("lms", cookie)
        barrier.wait()
        return client.post(path, data={"csrf_token": token}).status_code

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return Counter(pool.map(one, jobs))


def rows(app: Flask, model: type, where: Callable | None = None) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(model)
        return db.session.scalar(query if where is None else query.where(where())) or 0


def test_five_requests_completing_the_same_module_give_one_completion(race) -> None:
    job = signed_in(race, PEOPLE[0])
    statuses = all_at_once(race, [job] * 5, f"{LESSON}/done")
    assert sum(statuses.values()) == 5 and set(statuses) == {302}, statuses
    assert rows(race, Completion) == 1
    assert rows(race, LessonProgress) == 1
    assert rows(race, Certificate) == 2  # the module's and the (one-module) course's


def test_six_people_completing_at_once_are_all_recorded(race) -> None:
    jobs = [signed_in(race, username) for username in PEOPLE]
    assert all_at_once(race, jobs, f"{LESSON}/done") == Counter({302: 6})
    assert rows(race, Completion) == 6
    assert rows(race, Certificate, lambda: Certificate.module_id.is_not(None)) == 6


def test_a_completion_written_meanwhile_is_kept(app, monkeypatch) -> None:
    """The losing side of the race, made certain: another request's completion lands between
    this request's check and its insert. That completion is returned; no error, no second row."""
    from lms.progress import services as progress
    from lms.progress.models import CompletionSource

    person = make_user("hocvien.cham")
    module = make_module(make_course("khoa-cham"), "mo-dun")
    other = Completion(user_id=person.id, module_id=module.id, source=CompletionSource.LIVE)
    db.session.add(other)
    db.session.flush()
    real, calls = progress.completions_of, []

    def not_yet_seen(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return {} if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(progress, "completions_of", not_yet_seen)
    kept = progress.record_completion(person, module, CompletionSource.ONLINE)
    assert kept.id == other.id and kept.source == CompletionSource.LIVE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 1
