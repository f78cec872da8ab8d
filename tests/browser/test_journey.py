"""Journey 1: the new chairperson of a non-state union, imported with her union and without a
password, gets an invitation link from her district's staff (who create it on a desktop), opens
it on a 360×740 touch phone, sets her password, signs in again with her phone number written
the international way, studies the orientation module up to the certificate's PDF, then opens
the join page of a live session for her district.

Every page is screenshotted; the page fixture fails the test on any dialog, console error (CSP
violations included) or server error along the way.
"""

import re
import time

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from lms.db import db
from tests.browser.conftest import (
    LiveServer,
    Shots,
    answer_quiz,
    attempt_public_id,
    quiz_answers,
)
from tests.browser.invite import CHAIR, PHONE, invitation_link, new_chair

MODULE_URL = "/learn/chu-de-2021/dinh-huong"
MODULE_TITLE = "Vị trí, vai trò của Công đoàn Việt Nam; thời cơ và thách thức"
REFLECTION = "Tháng trước công đoàn góp ý bảng lương và đối thoại về tăng ca với giám đốc."
POST = "Công ty tôi chưa có thỏa ước lao động tập thể, nên bắt đầu từ đâu?"
PASSWORD = "cong-doan-co-so-vung-manh"


def _home_progress(page: Page) -> str:
    item = page.locator(".module-progress li").filter(has_text=MODULE_TITLE)
    return item.locator("progress").get_attribute("value") or ""


def _module_progress(page: Page) -> str:
    return page.locator("main progress").first.get_attribute("value") or ""


def _study_lesson(page: Page, shoot: Shots, n: int) -> None:
    """Answer every reflection the lesson asks, then mark it done."""
    reflections = page.locator(".block-reflect")
    for i in range(reflections.count()):
        block = reflections.nth(i)
        block.locator("textarea").fill(f"{REFLECTION} (bài {n})")
        block.get_by_role("button", name="Lưu câu trả lời").tap()
        expect(page.get_by_text("Câu trả lời đã được lưu vào sổ tay")).to_be_visible()
        expect(
            reflections.nth(i).get_by_role("button", name="Cập nhật câu trả lời")
        ).to_be_visible()
    shoot(page, f"lesson-{n}-answered")
    with page.expect_navigation():
        page.get_by_role("button", name="Tôi đã học xong bài này").tap()


# Records, in sessionStorage (it outlives the navigation), what the attempt page goes through
# while the submission is on its way: Playwright cannot read a page whose navigation is pending.
PROBE = """() => {
  const log = (what) => {
    const seen = JSON.parse(sessionStorage.getItem('probe') || '[]');
    seen.push(what);
    sessionStorage.setItem('probe', JSON.stringify(seen));
  };
  const button = document.querySelector('[data-submit]');
  new MutationObserver(() => log(button.disabled ? 'disabled' : 'enabled'))
    .observe(button, {attributes: true, attributeFilter: ['disabled']});
  document.addEventListener('touchstart', () => log('touch'), true);
  document.addEventListener('click', (e) => log('click ' + e.target.tagName), true);
  window.addEventListener('submit', (e) => log(e.defaultPrevented ? 'refused' : 'submit'));
}"""


def _submit_with_a_double_tap(page: Page, live_server: LiveServer) -> None:
    """REL-10: two quick taps on "Nộp bài" while the server is slow to answer: the button is
    disabled after the first, and one submission goes out."""
    public_id = attempt_public_id(page)
    submit_path = f"/attempts/{public_id}/submit"
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.method) if r.url.endswith(submit_path) else None)
    mark = live_server.requests.mark()
    box = page.get_by_role("button", name="Nộp bài").bounding_box()
    assert box is not None
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
    page.evaluate(PROBE)

    # Raw touch events through CDP: Playwright's own tap waits for the navigation it starts.
    cdp = page.context.new_cdp_session(page)

    def tap() -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    with live_server.requests.slowed("POST", submit_path, before=2.0):  # a slow 3G upload
        tap()
        time.sleep(0.2)
        tap()
        page.wait_for_url(re.compile(r"/review$"))
    cdp.detach()

    seen = page.evaluate("JSON.parse(sessionStorage.getItem('probe'))")
    assert seen[:4] == ["touch", "click BUTTON", "submit", "disabled"], seen
    assert seen[4] == "touch", seen  # the second tap came while the button was disabled
    assert seen.count("submit") == 1 and "enabled" not in seen, seen
    posted = [e for e in live_server.requests.since(mark) if e[:2] == ("POST", submit_path)]
    assert sent == ["POST"], f"the browser sent {len(sent)} submissions"
    assert len(posted) == 1, posted


def _submitted_attempts(live_server: LiveServer, username: str) -> list[tuple[int, bool | None]]:
    from lms.accounts.models import User
    from lms.quizzes.models import Attempt

    with live_server.app.app_context():
        rows = db.session.execute(
            sa.select(Attempt.attempt_no, Attempt.passed)
            .join(User, User.id == Attempt.user_id)
            .where(User.username == username, Attempt.submitted_dt.is_not(None))
            .order_by(Attempt.attempt_no)
        ).all()
    return [tuple(r) for r in rows]


def test_chairperson_studies_the_orientation_module_on_a_phone(
    page: Page, browser: Browser, live_server: LiveServer, shoot: Shots
) -> None:
    started = time.monotonic()
    link = invitation_link(browser, live_server, new_chair(live_server), shoot)

    # The link, opened on her phone: she sets her password and is signed in.
    page.goto(link)
    page.wait_for_url(re.compile(r"/invite/password$"))
    expect(page.locator("main")).to_contain_text(CHAIR)
    page.get_by_label("Mật khẩu mới", exact=True).fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(PASSWORD)
    shoot(page, "invite-password")
    page.get_by_role("button", name="Đặt mật khẩu và đăng nhập").tap()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_text("Đã đặt mật khẩu. Chào mừng bạn!")).to_be_visible()
    page.goto(link)  # the link worked once
    expect(page.locator("main")).to_contain_text("Liên kết đăng nhập này đã được dùng")
    page.guard.allow(r"status of 4\d\d .*/invite/")  # type: ignore[attr-defined]

    # Signed out, she signs in again with her phone number written the international way.
    page.goto("/")
    page.get_by_role("button", name="Đăng xuất").tap()
    page.wait_for_url(re.compile(r"/login"))
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill("+84 939 555 001")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    shoot(page, "login")
    page.get_by_role("button", name="Đăng nhập").tap()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Xin chào, {CHAIR}")
    assert _home_progress(page) == "0"
    shoot(page, "home-before")

    # "Tiếp theo" leads into the orientation module's first lesson.
    page.get_by_role("link", name=re.compile(r"^Tiếp theo: ")).tap()
    page.wait_for_url(f"**{MODULE_URL}/cong-doan-la-gi")
    expect(page.locator(".crumbs")).to_contain_text("Bài 1/3")
    shoot(page, "lesson-1")

    # An inline knowledge check: tap an option, submit, see the feedback.
    check = page.locator("#block-cap-tren-hien-nay")
    check.get_by_text("Hệ thống có ba cấp", exact=False).tap()
    check.get_by_role("button", name="Kiểm tra câu trả lời").tap()
    outcome = page.locator("#block-cap-tren-hien-nay .outcome")
    expect(outcome).to_contain_text("Đúng.")
    expect(outcome).to_contain_text("Luật 97/2025/QH15 sửa Điều 8")
    shoot(page, "lesson-1-check")

    # A post in the discussion under the lesson.
    page.get_by_label("Viết tin nhắn").fill(POST)
    page.locator("#discussion").get_by_role("button", name="Gửi", exact=True).tap()
    post = page.locator("#discussion .post").filter(has_text=POST)
    expect(post).to_contain_text(CHAIR)
    shoot(page, "lesson-1-discussion")

    # The reflection is saved, then the lesson is done: on to lesson 2.
    _study_lesson(page, shoot, 1)
    page.wait_for_url(f"**{MODULE_URL}/thoi-co-va-thach-thuc")

    # A case study: choose an option and see what happens.
    case = page.locator("#block-nhom-cong-nhan-muon-lap-to-chuc-rieng")
    case.get_by_text("Từ chối đưa danh sách", exact=False).tap()
    case.get_by_role("button", name="Xem điều gì xảy ra").tap()
    outcome = page.locator("#block-nhom-cong-nhan-muon-lap-to-chuc-rieng .outcome")
    expect(outcome).to_contain_text("Điều gì đã xảy ra")
    expect(outcome).to_contain_text("công đoàn không lập danh sách như vậy")
    shoot(page, "lesson-2-case")
    _study_lesson(page, shoot, 2)
    page.wait_for_url(f"**{MODULE_URL}/bao-ve-can-bo-cong-doan")
    _study_lesson(page, shoot, 3)

    # Every lesson is done; the module waits for its quiz.
    assert page.url.endswith(MODULE_URL)
    assert _module_progress(page) == "100"
    expect(page.locator(".lesson-list li.done")).to_have_count(3)
    expect(page.get_by_text("Đã hoàn thành ngày")).to_have_count(0)
    shoot(page, "module-lessons-done")

    # The quiz, failed first, with a double tap while the submission is slow to answer.
    page.get_by_role("link", name="Bài kiểm tra chuyên đề").tap()
    page.get_by_role("button", name="Bắt đầu làm bài").tap()
    page.wait_for_url(re.compile(r"/attempts/[0-9a-f]{32}$"))
    answer_quiz(page, quiz_answers(live_server, attempt_public_id(page), right=False))
    expect(page.locator("#quiz-status")).to_have_text("Đã lưu câu trả lời.")
    shoot(page, "quiz-1-answered")
    _submit_with_a_double_tap(page, live_server)
    expect(page.locator(".quiz-result")).to_contain_text("Chưa đạt")
    shoot(page, "quiz-1-review")
    assert _submitted_attempts(live_server, PHONE) == [(1, False)]

    # A new attempt, answered right.
    page.get_by_role("link", name="Tổng quan bài kiểm tra").tap()
    page.get_by_role("button", name="Làm lượt mới").tap()
    page.wait_for_url(re.compile(r"/attempts/[0-9a-f]{32}$"))
    answer_quiz(page, quiz_answers(live_server, attempt_public_id(page), right=True))
    shoot(page, "quiz-2-answered")
    page.get_by_role("button", name="Nộp bài").tap()
    page.wait_for_url(re.compile(r"/review$"))
    expect(page.locator(".quiz-result")).to_contain_text("Đạt: điểm đạt là 80%")
    expect(page.locator(".quiz-score")).to_have_text("100%")
    shoot(page, "quiz-2-review")
    assert _submitted_attempts(live_server, PHONE) == [(1, False), (2, True)]

    # Progress has moved, on the module page and on the home page.
    page.get_by_role("link", name="Về trang chuyên đề").tap()
    expect(page.get_by_text("Đã hoàn thành ngày")).to_be_visible()
    expect(page.locator(".checklist li.todo")).to_have_count(0)
    shoot(page, "module-completed")
    page.get_by_role("link", name="Trang chủ").tap()
    item = page.locator(".module-progress li").filter(has_text=MODULE_TITLE)
    expect(item.locator(".badge.ok")).to_have_text("đã hoàn thành")
    assert _home_progress(page) == "100"
    expect(page.get_by_role("link", name=re.compile(r"^Tiếp theo: "))).not_to_contain_text(
        "Công đoàn Việt Nam là ai"
    )
    shoot(page, "home-after")

    # The certificate, and its PDF.
    certificates = page.locator("section").filter(
        has=page.get_by_role("heading", name="Chứng nhận của tôi")
    )
    certificates.get_by_role("link", name=MODULE_TITLE).tap()
    page.wait_for_url(re.compile(r"/certificates/[A-Z0-9-]+$"))
    expect(page.locator(".cert-name")).to_have_text(CHAIR)
    expect(page.locator(".cert-subject")).to_have_text(MODULE_TITLE)
    shoot(page, "certificate")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Tải PDF").tap()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # A live session for her district: from the home page to its join page.
    title = _session_for_her_district(live_server)
    page.get_by_role("link", name="Trang chủ").tap()
    upcoming = page.locator(".live-upcoming")
    upcoming.get_by_role("link", name=title).tap()
    page.wait_for_url(re.compile(r"/live/[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".live-facts")).to_contain_text("19:30")
    expect(page.get_by_role("button", name="Vào phòng học")).to_be_visible()
    expect(page.get_by_role("link", name="Thêm vào lịch (.ics)")).to_be_visible()
    expect(page.locator("#share")).to_have_count(0)  # learners get no share box
    shoot(page, "live-join-page")

    elapsed = time.monotonic() - started
    assert elapsed < 75, f"the journey took {elapsed:.1f} s"


def _session_for_her_district(live_server: LiveServer) -> str:
    """Tomorrow 19:30 Vietnam time, for the units of Dương Minh Châu, by the demo trainer."""
    from datetime import datetime, timedelta

    from lms.accounts.models import User
    from lms.catalog.models import Module
    from lms.live import services as live
    from lms.live.providers import LiveSettings

    title = "Hỏi đáp về thỏa ước lao động tập thể"
    with live_server.app.app_context():
        trainer = db.session.scalars(sa.select(User).where(User.username == "giangvien")).one()
        module = db.session.scalars(sa.select(Module).where(Module.slug == "dinh-huong")).one()
        day = datetime.now(live.VN).date() + timedelta(days=1)
        start = datetime(day.year, day.month, day.day, 19, 30)
        live.schedule(
            trainer, module, title=title, start_local=start, minutes=60, provider="jitsi",
            audience_codes=["DMC"], settings=LiveSettings(),
        )  # fmt: skip
        db.session.commit()
    return title
