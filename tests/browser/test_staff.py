"""Journey 3: district staff of Dương Minh Châu on a desktop. They read the coverage dashboard,
import a roster (upload, preview, import), watch the eligible counts grow, find the new chair in
the people list, record that she completed the orientation and the four core modules at the
province's class (her person page), watch the done counts grow, download the report as XLSX
(checked with openpyxl against the dashboard) and open the printable report. Each page passes
axe-core (no serious or critical finding) without sideways scrolling, and is screenshotted."""

import io
import re
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from lms.db import db, vn_today
from tests.browser.conftest import LiveServer, Shots, sign_in
from tests.browser.test_accessibility import check_page

TARGETS = ("awareness", "trained_non_state", "trained_by_district", "trained_by_province")
CHAIR = "Hoàng Thị Thu Hường"
ROSTER = (
    "Mã đơn vị;Tên đơn vị;Mã cấp trên;Khu vực;Số đoàn viên;Họ và tên;Chức vụ;Điện thoại\r\n"
    f"DMC-DTHP;CĐCS Công ty TNHH Điện tử Hưng Phát;DMC;ngoài nhà nước;1.250;{CHAIR};"
    "Chủ tịch;0939 123 401\r\n"
    "DMC-DTHP;;;;;Lý Văn Tâm;Phó Chủ tịch;0939 123 402\r\n"
    "DMC-MNHM;CĐCS Trường Mầm non Hoa Mai;DMC;đơn vị sự nghiệp;32;;;\r\n"
)
CLASS = "Lớp bồi dưỡng chủ tịch CĐCS của LĐLĐ tỉnh Tây Ninh"


@pytest.fixture
def roster_file(live_server: LiveServer, tmp_path: Path) -> Path:
    live_server.app.config["ROSTER_UPLOAD_FOLDER"] = str(tmp_path / "kept")
    path = tmp_path / "danh-sach-bo-sung.csv"
    path.write_bytes(("\ufeff" + ROSTER).encode("utf-8"))
    yield path
    live_server.app.config["ROSTER_UPLOAD_FOLDER"] = ""


def figures(page: Page) -> dict[str, tuple[int, int]]:
    """(done, eligible) of each target as the page shows them (1.250 written the Vietnamese way)."""

    def number(selector: str) -> int:
        return int(page.locator(selector).first.inner_text().replace(".", ""))

    return {
        key: (number(f"#target-{key} .done"), number(f"#target-{key} .eligible")) for key in TARGETS
    }


def course_modules(live_server: LiveServer) -> list[int]:
    """The orientation module first, then the core modules: what a trained chair completes."""
    from lms.catalog.models import Course, Module, ModuleStatus

    with live_server.app.app_context():
        modules = db.session.scalars(
            sa.select(Module)
            .join(Course)
            .where(Course.slug == "chu-de-2021", Module.status == ModuleStatus.PUBLISHED)
            .order_by(Module.position)
        ).all()
        return [m.id for m in modules if m.kind.value == "awareness"] + [
            m.id for m in modules if m.kind.value == "core"
        ]


def record_at_the_class(page: Page, module_id: int, day: str) -> None:
    form = page.locator("form").filter(has=page.get_by_label("Lớp học", exact=True))
    form.get_by_label("Chuyên đề").select_option(str(module_id))
    form.get_by_label("Ngày học").fill(day)
    form.get_by_label("Lớp học", exact=True).fill(CLASS)
    form.get_by_role("button", name="Ghi nhận hoàn thành").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã ghi nhận")


def test_district_staff_import_record_and_report(
    desktop_page: Page, live_server: LiveServer, roster_file: Path, shoot: Shots
) -> None:
    page = desktop_page
    sign_in(page, "canbo.dmc")
    page.get_by_role("link", name="Tỷ lệ bao phủ").first.click()
    page.wait_for_url(re.compile(r"/reports/coverage$"))
    check_page(page, shoot, "dashboard-before")
    before = figures(page)

    # The roster: two new unions, one with a chair and a vice-chair, one without a chair.
    page.goto("/roster/")
    check_page(page, shoot, "roster")
    page.get_by_label("Tệp danh sách (.xlsx hoặc .csv)").set_input_files(str(roster_file))
    page.get_by_role("button", name="Kiểm tra tệp").click()
    page.wait_for_url(re.compile(r"/roster/preview$"))
    expect(page.locator("main")).to_contain_text("DMC-DTHP")
    check_page(page, shoot, "roster-preview")
    page.get_by_role("button", name="Nhập các thay đổi này").click()
    page.wait_for_url(re.compile(r"/roster/$"))
    expect(page.locator(".flash-success")).to_contain_text("2 công đoàn mới")

    page.goto("/reports/coverage")
    grown = figures(page)
    assert grown["awareness"] == (before["awareness"][0], before["awareness"][1] + 2)
    assert grown["trained_by_province"] == (
        before["trained_by_province"][0], before["trained_by_province"][1] + 1
    )  # fmt: skip
    assert grown["trained_by_district"] == before["trained_by_district"]
    shoot(page, "dashboard-after-import")

    # The new chair, found in the people list; her completions at the province's class.
    page.goto("/people/")
    page.get_by_label("Tìm theo tên, tên đăng nhập hoặc số điện thoại").fill("Thu Hường")
    page.get_by_role("button", name="Tìm", exact=True).click()
    check_page(page, shoot, "people")
    page.get_by_role("link", name=CHAIR).click()
    page.wait_for_url(re.compile(r"/people/\d+$"))
    check_page(page, shoot, "person")
    day = (vn_today() - timedelta(days=3)).strftime("%d/%m/%Y")
    modules = course_modules(live_server)
    assert len(modules) == 5
    for module_id in modules:
        record_at_the_class(page, module_id, day)
    expect(page.locator(".completion-list .badge.ok")).to_have_count(5)
    shoot(page, "person-completed")

    page.goto("/reports/coverage")
    after = figures(page)
    assert after["awareness"] == (grown["awareness"][0] + 1, grown["awareness"][1])
    assert after["trained_by_province"] == (
        grown["trained_by_province"][0] + 1, grown["trained_by_province"][1]
    )  # fmt: skip
    assert after["trained_non_state"][0] == grown["trained_non_state"][0] + 1
    shoot(page, "dashboard-after-completions")

    # The Excel file says what the dashboard says.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Tải Excel (XLSX)").click()
    download = download_info.value
    name = download.suggested_filename
    assert re.fullmatch(r"bao-cao-bao-phu_chu-de-2021_DMC_[\d-]+\.xlsx", name), name
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    targets_sheet, units_sheet = book.worksheets
    rows = [r for r in targets_sheet.iter_rows(values_only=True) if isinstance(r[1], int)]
    assert [(done, eligible) for _, eligible, done, _ in rows] == [after[k] for k in TARGETS]
    units = {row[0]: row for row in units_sheet.iter_rows(values_only=True)}
    assert units["DMC-DTHP"][5] == CHAIR and "DMC-MNHM" in units

    # The printable report, with the same figures.
    page.get_by_role("link", name="Báo cáo để in").click()
    page.wait_for_url(re.compile(r"/reports/coverage/print"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Báo cáo kết quả")
    for key in TARGETS:
        row = page.locator(f"#target-{key}")
        assert int(row.locator(".done").inner_text().replace(".", "")) == after[key][0]
    expect(page.locator("#unit-DMC-DTHP")).to_contain_text(CHAIR)
    check_page(page, shoot, "print-report")

