"""Journey 2: the trainer on a desktop edits a lesson with its preview and publishes it,
schedules a live session for a district, a chairperson joins it from her phone, and the
trainer confirms her attendance, which completes the module the session covers.

The meeting itself is on meet.jit.si, which the test machine cannot reach: the browser's
requests to it are answered locally by Playwright, so the join is followed up to the meeting's
address and no further."""

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, Route, expect

from lms.db import db
from tests.browser.conftest import LiveServer, Shots, sign_in

COURSE, MODULE = "chu-de-2021", "thuong-luong-tap-the"
ADDED = "Ghi nhớ: biên bản đối thoại phải có chữ ký của **cả hai bên**."


def _meeting_page(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html", body="<title>Jitsi Meet</title>")


def _completions(live_server: LiveServer, username: str) -> list[str]:
    from lms.accounts.models import User
    from lms.catalog.models import Module
    from lms.progress.models import Completion

    with live_server.app.app_context():
        return list(
            db.session.scalars(
                sa.select(Completion.source)
                .join(User, User.id == Completion.user_id)
                .join(Module, Module.id == Completion.module_id)
                .where(User.username == username, Module.slug == MODULE)
            )
        )


def test_trainer_edits_publishes_schedules_and_confirms_attendance(
    desktop_page: Page, phone_context: BrowserContext, live_server: LiveServer, shoot: Shots
) -> None:
    page = desktop_page
    sign_in(page, "giangvien")
    page.get_by_role("link", name="Soạn bài", exact=True).click()
    shoot(page, "authoring")
    page.locator(f'main a[href="/teach/{COURSE}"]').first.click()
    page.locator(f'main a[href="/teach/{COURSE}/{MODULE}"]').first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thương lượng tập thể")
    shoot(page, "module")

    # Edit the first lesson: add a paragraph, look at the preview, then publish.
    page.locator(".edit-list li a").first.click()
    lesson_title = page.get_by_label("Tiêu đề").input_value()
    body = page.get_by_label("Nội dung bài (Markdown)")
    body.fill(body.input_value() + "\n\n" + ADDED + "\n")
    page.get_by_role("button", name="Xem trước").click()
    preview = page.locator("section.preview")
    expect(preview.locator("strong", has_text="cả hai bên")).to_be_visible()
    shoot(page, "lesson-preview")
    page.get_by_role("button", name="Lưu và xuất bản").click()
    expect(page.get_by_text("Học viên đang thấy nội dung này")).to_be_visible()
    shoot(page, "lesson-published")

    # Schedule a live session for the district of Dương Minh Châu, covering the module.
    page.locator(f'nav.crumbs a[href="/teach/{COURSE}/{MODULE}"]').click()
    page.locator(f'main a[href="/teach/{COURSE}/{MODULE}/live"]').click()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    page.get_by_label("Tiêu đề").fill("Đối thoại tại nơi làm việc — buổi hỏi đáp")
    page.get_by_label("Ngày").fill(tomorrow)
    page.get_by_label("Giờ bắt đầu (giờ Việt Nam)").fill("19:30")
    page.get_by_label("Thời lượng (phút)").fill("60")
    page.get_by_label("Dành cho đơn vị (mã)").fill("DMC")
    page.get_by_label("Tính hoàn thành cả chuyên đề").check()
    page.get_by_role("button", name="Lên lịch").click()
    expect(page.get_by_text("Đã lên lịch buổi học trực tuyến")).to_be_visible()
    shoot(page, "live-scheduled")
    page.get_by_role("link", name="Trang buổi học").last.click()
    session_url = page.url
    expect(page.locator("#share textarea")).to_contain_text("19:30")
    shoot(page, "live-session-share")

    # The chairperson, on her phone, finds it on the live page and joins.
    phone_context.route("https://meet.jit.si/**", _meeting_page)
    phone = phone_context.new_page()
    sign_in(phone, "0901000001")
    phone.get_by_role("link", name="Buổi học trực tuyến").first.click()
    phone.get_by_role("link", name="Đối thoại tại nơi làm việc — buổi hỏi đáp").click()
    assert phone.url == session_url
    shoot(phone, "learner-session")
    phone.get_by_role("button", name="Vào phòng học").click()
    phone.wait_for_url(re.compile(r"^https://meet\.jit\.si/"))
    phone.close()

    # The trainer confirms her attendance: the module is complete, by live attendance.
    page.get_by_role("link", name="Điểm danh").click()
    row = page.locator("tr", has_text="Nguyễn Thị Hồng Nhung")
    expect(row.locator("td").nth(3)).to_have_text("1")  # she joined once
    row.get_by_role("checkbox").check()
    shoot(page, "attendance")
    page.get_by_role("button", name="Xác nhận có mặt cho những người đã đánh dấu").click()
    expect(row.locator(".badge.ok")).to_have_text("đã xác nhận")
    shoot(page, "attendance-confirmed")
    assert _completions(live_server, "0901000001") == ["live"]

    # Learners see the published paragraph.
    learner = phone_context.new_page()
    learner.goto(f"/learn/{COURSE}/{MODULE}")
    learner.get_by_role("link", name=lesson_title).click()
    expect(learner.locator(".prose strong", has_text="cả hai bên")).to_be_visible()
    learner.close()
