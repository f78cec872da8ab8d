"""In Chromium on a 360 px phone: district staff import a roster (preview, then apply), print
the new union's invitation slips, and an officer signs in for the first time with the link;
each page passes axe-core (no serious or critical finding) without sideways scrolling."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PHONE, LiveServer, Shots, sign_in
from tests.browser.test_accessibility import check_page
from tests.orgs.roster_helpers import example_bytes


@pytest.fixture
def roster_file(live_server: LiveServer, tmp_path: Path) -> Iterator[Path]:
    """Gò Dầu's rows left out (canbo.dmc may import Dương Minh Châu only); kept uploads go to a
    throwaway folder, never the checkout's instance/."""
    live_server.app.config["ROSTER_UPLOAD_FOLDER"] = str(tmp_path / "kept")
    lines = example_bytes().split(b"\r\n")
    path = tmp_path / "danh-sach-dmc.csv"
    path.write_bytes(b"\r\n".join(line for line in lines if b";GD-" not in line))
    yield path
    live_server.app.config["ROSTER_UPLOAD_FOLDER"] = ""


def test_import_a_roster_print_slips_and_sign_in(
    page: Page, browser: Browser, live_server: LiveServer, roster_file: Path, shoot: Shots
) -> None:
    sign_in(page, "canbo.dmc")
    page.goto("/roster/")
    check_page(page, shoot, "roster")
    page.get_by_label("Tệp danh sách (.xlsx hoặc .csv)").set_input_files(str(roster_file))
    page.get_by_role("button", name="Kiểm tra tệp").click()
    page.wait_for_url(re.compile(r"/roster/preview$"))
    assert page.get_by_text("Nguyễn Thị Hồng Nhung").is_visible()
    check_page(page, shoot, "roster-preview")
    page.get_by_role("button", name="Nhập các thay đổi này").click()
    page.wait_for_url(re.compile(r"/roster/$"))
    assert page.get_by_text("Đã nhập danh sách").is_visible()

    page.goto("/orgs/DMC-DTTA")
    page.get_by_role("button", name="In phiếu mời đăng nhập").click()
    page.wait_for_url(re.compile(r"/orgs/DMC-DTTA/slips$"))
    assert page.locator(".slip").count() == 3
    check_page(page, shoot, "slips")
    link = page.locator(".slip-link").first.inner_text()

    officer = browser.new_context(**PHONE)
    try:
        phone = officer.new_page()
        phone.goto(link)
        phone.wait_for_url(re.compile(r"/invite/password$"))
        check_page(phone, shoot, "invite-password")
        phone.get_by_label("Mật khẩu mới", exact=True).fill("cong-doan-vung-manh")
        phone.get_by_label("Nhập lại mật khẩu mới").fill("cong-doan-vung-manh")
        phone.get_by_role("button", name="Đặt mật khẩu và đăng nhập").click()
        phone.wait_for_url(re.compile(r"/$"))
        assert phone.get_by_text("Đã đặt mật khẩu").is_visible()
    finally:
        officer.close()


def test_the_code_page_on_a_phone(page: Page, shoot: Shots) -> None:
    page.goto("/invite")
    check_page(page, shoot, "invite-code")
    # A refused code answers 400 (the form comes back with the message), which Chromium logs.
    page.guard.allow(r"status of 400 .*/invite\)$")  # type: ignore[attr-defined]
    page.get_by_label("Mã trên phiếu của bạn").fill("AAAAA-BBBBB")
    page.get_by_role("button", name="Tiếp tục").click()
    assert page.get_by_role("alert").inner_text().startswith("Liên kết hoặc mã đăng nhập")
