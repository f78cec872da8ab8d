"""XSS-04, XSS-05: the browser oracle. The payload table of tests/test_xss.py goes into every
authored field of a course (titles, summaries, lesson, blocks, quiz), a person's display name,
a live session's title and notes, a discussion post and a reflection; then each role visits
every page that shows them. The page guard fails the test if a dialog opens or the console
reports a CSP violation or a script error. Broken images that the sanitised payloads leave
behind (`<img src="x">`) are the only console errors accepted."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from lms.db import db
from lms.demo import DEMO_PASSWORD
from tests.browser.conftest import LiveServer, Shots, sign_in
from tests.test_xss import _hostile_course

HOSTILE_NAME = '"><img src=x onerror=alert(1)>{{7*7}}<script>alert(2)</script> Nguyễn'
PHONE_NUMBER = "0977000111"


@pytest.fixture(scope="module")
def hostile(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The hostile course, taught by the demo trainer (unpublished again afterwards); a hostile
    officer of Dương Minh Châu who joined a hostile session, posted and reflected."""
    from lms.accounts.models import User
    from lms.authoring.importer import import_courses
    from lms.authoring.loader import load_courses
    from lms.catalog.models import Course, CourseTrainer, Lesson, LessonBlock, Module
    from lms.discussion import services as discussion
    from lms.live import services as live
    from lms.live.providers import LiveSettings
    from lms.orgs import services as orgs
    from lms.progress import services as progress
    from tests.test_xss import PAYLOADS

    folder = _hostile_course(tmp_path_factory.mktemp("hostile"))
    toml = folder / "course.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("year = 2026", "year = 2019"), "utf-8")
    with live_server.app.app_context():
        import_courses(load_courses(folder))
        course = db.session.scalars(sa.select(Course).where(Course.slug == "doc-hai")).one()
        trainer = db.session.scalars(sa.select(User).where(User.username == "giangvien")).one()
        db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
        person = orgs.create_person(
            actor=None, full_name=HOSTILE_NAME, role="learner", phone=PHONE_NUMBER,
            org_code="DMC-GOMP", position="core_member", password=DEMO_PASSWORD,
        )  # fmt: skip
        module = db.session.scalars(sa.select(Module).where(Module.course_id == course.id)).one()
        lesson = db.session.scalars(sa.select(Lesson).where(Lesson.module_id == module.id)).one()
        joined = " ".join(PAYLOADS)
        session = live.schedule(
            trainer, module, title=joined[:200], start_local=_tomorrow_at(20), minutes=60,
            provider="jitsi", audience_codes=["DMC"], notes=joined, settings=LiveSettings(),
        )  # fmt: skip
        live.join(person, session, LiveSettings())
        discussion.add_post(person, lesson, joined)
        reflect = db.session.scalars(
            sa.select(LessonBlock).where(LessonBlock.lesson_id == lesson.id, LessonBlock.key == "r")
        ).one()
        progress.save_reflection(person, reflect, joined)
        db.session.commit()
        found = {"person": str(person.id), "session": session.public_id, "module": str(module.id),
                "lesson": f"/learn/doc-hai/{module.slug}/{lesson.slug}",
                "teach": f"/teach/doc-hai/{module.slug}", "lesson_slug": lesson.slug}  # fmt: skip
    yield found
    with live_server.app.app_context():  # the other tests' learners never meet this course
        db.session.execute(
            sa.update(Course).where(Course.slug == "doc-hai").values(published=False)
        )
        db.session.commit()


def _tomorrow_at(hour: int):  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta

    from lms.live.services import VN

    day = datetime.now(VN).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, 0)


PAGES = {
    PHONE_NUMBER: ["/", "/learn/doc-hai", "{lesson}", "/modules/{module}/quiz", "/notebook",
                   "/live/", "/live/{session}", "/account"],
    "giangvien": ["/teach/doc-hai", "{teach}", "{teach}/{lesson_slug}", "{teach}/quiz",
                  "{teach}/quiz/stats", "{teach}/learners", "{teach}/live", "/live/{session}",
                  "/live/{session}/attendance", "/live/{session}/edit", "{lesson}"],
    "canbo.dmc": ["/people/?q=Nguy", "/people/{person}", "/live/", "/live/{session}"],
}  # fmt: skip


@pytest.mark.parametrize("who", list(PAGES), ids=["learner", "trainer", "staff"])
def test_no_script_of_theirs_ever_runs(
    who: str, page: Page, hostile: dict[str, str], shoot: Shots
) -> None:
    page.guard.allow(r"Failed to load resource: the server responded with a status of 404")  # type: ignore[attr-defined]
    sign_in(page, who)
    for n, template in enumerate(PAGES[who]):
        path = template.format(**hostile)
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        shoot(page, f"{who}-{n}")
        assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0, path
    if who == PHONE_NUMBER:
        _take_the_quiz(page, hostile)
    if who == "giangvien":
        page.goto(f"{hostile['teach']}/{hostile['lesson_slug']}")
        page.get_by_role("button", name="Xem trước").click()
        expect(page.locator("section.preview")).to_be_visible()
        shoot(page, "trainer-preview")


def _take_the_quiz(page: Page, hostile: dict[str, str]) -> None:
    """The attempt page and the review show the hostile question, options and feedback."""
    page.goto(f"/modules/{hostile['module']}/quiz")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    page.wait_for_url("**/attempts/*")
    page.get_by_role("button", name="Nộp bài").click()
    page.wait_for_url("**/review")
    expect(page.locator(".quiz-result")).to_be_visible()


def test_the_hostile_name_is_shown_as_text(page: Page, hostile: dict[str, str]) -> None:
    """XSS-04: in the page, in the title attribute-free heading, and {{7*7}} stays literal."""
    sign_in(page, "canbo.dmc")
    page.goto(f"/people/{hostile['person']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(HOSTILE_NAME)
    assert "{{7*7}}" in page.title() or "{{7*7}}" in page.content()
    assert page.locator("img[src='x']").count() == 0
