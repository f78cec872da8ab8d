"""The first step of the chairperson's journey: her union and her account arrive as a roster
import leaves them (no password), and her district's staff create her invitation link."""

import re

from playwright.sync_api import Browser, expect

from lms.db import db
from tests.browser.conftest import DESKTOP, LiveServer, Shots, sign_in
from tests.browser.test_accessibility import check_page

CHAIR, PHONE = "Đinh Thị Ngọc Diễm", "0939555001"


def new_chair(live_server: LiveServer) -> int:
    """A non-state union of Dương Minh Châu and its chair, as a roster import leaves them: an
    account with no password yet."""
    from lms.orgs import services as orgs

    with live_server.app.app_context():
        district = orgs.require_org("DMC")
        orgs.create_org(code="DMC-NHTH", name="CĐCS Công ty TNHH Nhựa Tân Hưng",
                        kind="grassroots", parent=district, sector="non_state", member_count=640)
        person = orgs.create_person(actor=None, full_name=CHAIR, phone=PHONE,
                                    org_code="DMC-NHTH", position="chair")  # fmt: skip
        db.session.commit()
        return person.id


def invitation_link(browser: Browser, live_server: LiveServer, person: int, shoot: Shots) -> str:
    """District staff, on their desktop, create the link from the person's page."""
    context = browser.new_context(**DESKTOP, base_url=live_server.url)
    try:
        staff = context.new_page()
        sign_in(staff, "canbo.dmc")
        staff.goto(f"/people/{person}")
        staff.get_by_role("button", name="Tạo liên kết mời đăng nhập").click()
        staff.wait_for_url(re.compile(rf"/people/{person}/invite$"))
        expect(staff.locator("#share")).to_contain_text(CHAIR)
        check_page(staff, shoot, "staff-invitation-link")
        return staff.locator(".slip-link").inner_text()
    finally:
        context.close()
