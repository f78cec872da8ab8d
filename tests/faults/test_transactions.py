"""COMP-04: every multi-row write is one transaction. An exception injected halfway through
(after the completion row is written, before its certificates; after some courses are
imported) leaves the database exactly as it was; the person sees the error page and the same
action then succeeds. Real commits on a fresh database of the backend under test."""

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from lms.accounts.models import User
from lms.catalog.models import Lesson, Module
from lms.db import db, utcnow
from lms.demo import DEMO_PASSWORD
from lms.progress import certificates
from lms.progress.models import Completion
from tests import drill
from tests.conftest import Client
from tests.quizzes.helpers import answer_form, latest_attempt
from tests.test_walkthrough import _answer_blocks, _study


class Injected(RuntimeError):
    """The fault planted in the write path."""


def fail_when_issuing_certificates(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Certificates are issued right after the completion row is flushed: fail there."""

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Injected("the certificate could not be issued")

    monkeypatch.setattr(certificates, "issue_certificates", broken)


def learner(app: Flask) -> tuple[Client, int]:
    """A new officer of a demo union, signed in."""
    from lms.orgs import services as orgs

    phone = f"0977{secrets.randbelow(10**6):06d}"
    with app.app_context():
        person = orgs.create_person(
            actor=None, full_name="Lê Thị Hoa", role="learner", phone=phone,
            org_code="DMC-GOMP", position="core_member", password=DEMO_PASSWORD,
        )  # fmt: skip
        db.session.commit()
        person_id = person.id
    client = app.test_client()
    assert client.login(phone, DEMO_PASSWORD).status_code == 302
    return client, person_id


def orientation(app: Flask) -> tuple[int, list[Lesson]]:
    module = db.session.scalars(sa.select(Module).where(Module.slug == "dinh-huong")).one()
    lessons = db.session.scalars(
        sa.select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position)
    ).all()
    return module.id, list(lessons)


def completions(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) or 0


def assert_error_page(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 500
    assert "Hệ thống gặp lỗi" in response.get_data(as_text=True)


def test_quiz_submit_that_completes_a_module_is_all_or_nothing(courses, monkeypatch) -> None:
    """Grading, the completion it leads to and the certificates: one transaction."""
    client, person = learner(courses)
    with courses.app_context():
        module_id, lessons = orientation(courses)
        for lesson in lessons:
            _study(client, lesson)
        client.post_form(f"/modules/{module_id}/quiz/start")
        db.session.rollback()
        attempt = latest_attempt(person)
        form, path = answer_form(attempt, right=True), f"/attempts/{attempt.public_id}/submit"
        db.session.rollback()
    before = drill.take(courses)
    with monkeypatch.context() as patched:
        fail_when_issuing_certificates(patched)
        assert_error_page(client.post_form(path, form))
    assert drill.take(courses) == before
    assert client.post_form(path, form).headers["Location"].endswith("/review")
    assert completions(courses) == 1


def test_last_lesson_done_that_completes_a_module_is_all_or_nothing(courses, monkeypatch) -> None:
    """The lesson's progress row and the module's completion: one transaction."""
    client, person = learner(courses)
    with courses.app_context():
        module_id, lessons = orientation(courses)
        for lesson in lessons[:-1]:
            _study(client, lesson)
        _answer_blocks(client, lessons[-1])
        drill.take_quiz(client, module_id, person, right=True)
        db.session.rollback()
        done = f"/learn/chu-de-2021/dinh-huong/{lessons[-1].slug}/done"
    assert completions(courses) == 0
    before = drill.take(courses)
    with monkeypatch.context() as patched:
        fail_when_issuing_certificates(patched)
        assert_error_page(client.post_form(done))
    assert drill.take(courses) == before
    assert client.post_form(done).status_code == 302
    assert completions(courses) == 1


def test_confirming_attendance_is_all_or_nothing(courses, monkeypatch) -> None:
    """Attendance rows for several people and the completions they give: one transaction."""
    from lms.live import services as live
    from lms.live.providers import LiveSettings

    with courses.app_context():
        trainer = db.session.scalars(sa.select(User).where(User.username == "giangvien")).one()
        module = db.session.scalars(sa.select(Module).where(Module.slug == "tien-luong")).one()
        start = (utcnow() - timedelta(days=1)).astimezone(live.VN).replace(tzinfo=None)
        session = live.schedule(
            trainer, module, title="Buổi học", start_local=start.replace(second=0, microsecond=0),
            minutes=60, provider="jitsi", covers_module=True, settings=LiveSettings(),
        )  # fmt: skip
        db.session.commit()
        path = f"/live/{session.public_id}/attendance"
        people = [str(drill.user_id(u)) for u in ("0901000001", "0901000004", "0901000006")]
    client = courses.test_client()
    client.login("giangvien", DEMO_PASSWORD)
    before = drill.take(courses)
    with monkeypatch.context() as patched:
        fail_when_issuing_certificates(patched)
        assert_error_page(client.post_form(path, {"user_id": people, "via": "list"}))
    assert drill.take(courses) == before
    assert client.post_form(path, {"user_id": people, "via": "list"}).status_code == 302
    assert completions(courses) == 3


def test_course_import_is_all_or_nothing(served, monkeypatch) -> None:
    """Five modules with lessons and quizzes: a failure at the third quiz keeps none of them."""
    from lms.authoring import importer

    real, calls = importer.sync_quiz, []

    def third_fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise Injected("the disk went away")
        return real(*args, **kwargs)

    before = drill.take(served)
    runner = served.test_cli_runner()
    with monkeypatch.context() as patched:
        patched.setattr(importer, "sync_quiz", third_fails)
        failed = runner.invoke(args=["import-courses", str(drill.ROOT / "courses")])
    assert isinstance(failed.exception, Injected) and failed.exit_code == 1
    assert len(calls) == 3
    assert drill.take(served) == before
    assert runner.invoke(args=["import-courses", str(drill.ROOT / "courses")]).exit_code == 0
    assert drill.row_counts(served)["module"] == 5
