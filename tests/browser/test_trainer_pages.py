"""MOB-01 and MOB-04 on the live-session and trainer pages, at 360×740 on a touch phone: the
live page for each role, a session page with its share box, the edit and attendance pages,
and the trainer's authoring pages. axe-core finds no serious or critical violation and nothing
scrolls sideways; each page is screenshotted."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page

from lms.db import db
from tests.browser.conftest import PHONE, LiveServer, Shots, sign_in
from tests.browser.test_accessibility import check_page

COURSE, MODULE = "chu-de-2021", "tai-chinh-cong-doan"
TEACH = f"/teach/{COURSE}/{MODULE}"


@pytest.fixture(scope="module")
def session_id(live_server: LiveServer) -> str:
    """A session of the demo trainer for Dương Minh Châu, which the chairperson has joined."""
    from lms.accounts.models import User
    from lms.catalog.models import Module
    from lms.live import services as live
    from lms.live.providers import LiveSettings

    with live_server.app.app_context():
        people = {
            u.username: u
            for u in db.session.scalars(
                sa.select(User).where(User.username.in_(["giangvien", "0901000001"]))
            )
        }
        module = db.session.scalars(sa.select(Module).where(Module.slug == MODULE)).one()
        day = datetime.now(live.VN).date() + timedelta(days=2)
        session = live.schedule(
            people["giangvien"], module, title="Công khai tài chính công đoàn: hỏi đáp",
            start_local=datetime(day.year, day.month, day.day, 8, 0), minutes=90,
            provider="jitsi", audience_codes=["DMC"], notes="Chuẩn bị bảng thu chi quý III.",
            settings=LiveSettings(),
        )  # fmt: skip
        live.join(people["0901000001"], session, LiveSettings())
        db.session.commit()
        return session.public_id


@pytest.fixture(scope="module")
def states(browser: Browser, live_server: LiveServer) -> dict[str, dict]:
    """Each role's signed-in browser state (cookies), made once."""
    found = {}
    for username in ("0901000001", "giangvien", "canbo.dmc"):
        context = browser.new_context(**PHONE, base_url=live_server.url)
        sign_in(context.new_page(), username)
        found[username] = context.storage_state()
        context.close()
    return found


PAGES = [
    ("0901000001", "live-index-learner", "/live/"),
    ("0901000001", "live-session-learner", "/live/{id}"),
    ("canbo.dmc", "live-index-staff", "/live/"),
    ("canbo.dmc", "live-session-share-staff", "/live/{id}"),
    ("giangvien", "live-index-trainer", "/live/"),
    ("giangvien", "live-session-share-trainer", "/live/{id}"),
    ("giangvien", "live-edit", "/live/{id}/edit"),
    ("giangvien", "live-attendance", "/live/{id}/attendance"),
    ("giangvien", "live-schedule", f"{TEACH}/live"),
    ("giangvien", "teach-home", "/teach/"),
    ("giangvien", "teach-course", f"/teach/{COURSE}"),
    ("giangvien", "teach-module", TEACH),
    ("giangvien", "teach-lesson-edit", f"{TEACH}/nguon-tai-chinh-cong-doan"),
    ("giangvien", "teach-lesson-history", f"{TEACH}/nguon-tai-chinh-cong-doan/history"),
    ("giangvien", "teach-quiz-editor", f"{TEACH}/quiz"),
    ("giangvien", "teach-quiz-question", f"{TEACH}/quiz/question"),
    ("giangvien", "teach-quiz-stats", f"{TEACH}/quiz/stats"),
    ("giangvien", "teach-learners", f"{TEACH}/learners"),
]


@pytest.mark.parametrize(("who", "name", "path"), PAGES, ids=[p[1] for p in PAGES])
def test_page_on_a_phone(
    who: str, name: str, path: str, page: Page, phone_context: BrowserContext,
    states: dict, session_id: str, shoot: Shots,
) -> None:  # fmt: skip
    phone_context.add_cookies(states[who]["cookies"])
    response = page.goto(path.format(id=session_id))
    assert response is not None and response.status == 200, page.url
    if "share" in name:
        assert page.locator("#share textarea").is_visible()
    check_page(page, shoot, name)
