"""The coverage report's exports from outside (EXP-01..04, XSS-04): district staff upload a
roster whose unions and chairpersons carry names a spreadsheet would run, through the web
pages as a person would (preview, then import), then download the report as CSV, XLSX and
JSON. Every cell that starts like a formula is neutralised (a leading apostrophe in the CSV,
a text cell in the workbook, never a <f> element), the CSV has its BOM, the JSON carries the
names literally, and all three hold the district's units and nothing of another district's."""

import csv
import io
import json
import re
import uuid

import openpyxl
import pytest

from tests.blackbox.conftest import Server, Visitor
from tests.blackbox.exports import inspect_export

HOSTILE = {
    "DMC-HOST1": ('=HYPERLINK("http://evil.example/?q=1","Bấm vào đây")', "+1+1 Nguyễn Văn An"),
    "DMC-HOST2": ("@SUM(1)+CĐCS Công ty Độc Hại", "-2+3 Trần Thị Bình"),
    "DMC-HOST3": ("<script>alert(1)</script> CĐCS {{7*7}}", ""),  # a vacancy
}
HEADER = ["Mã đơn vị", "Tên đơn vị", "Mã cấp trên", "Khu vực", "Số đoàn viên", "Họ và tên",
          "Chức vụ", "Điện thoại"]  # fmt: skip
REPORT = "/reports/coverage"


def roster_file() -> bytes:
    """Semicolons and a BOM, as Excel on a Vietnamese-locale Windows saves a CSV."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for n, (code, (unit, chair)) in enumerate(HOSTILE.items(), start=1):
        person = [chair, "Chủ tịch", f"0933 000 00{n}"] if chair else ["", "", ""]
        writer.writerow([code, unit, "DMC", "Ngoài nhà nước", "1.500", *person])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def multipart(field: str, filename: str, data: bytes, token: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n',
    ]
    body = "".join(parts).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def staff(server: Server) -> Visitor:
    """canbo.dmc, who has just imported the hostile roster through the web pages."""
    visitor = Visitor(server).sign_in("canbo.dmc")
    body, kind = multipart("file", "danh-sach.csv", roster_file(), visitor.token())
    preview = visitor.request("POST", "/roster/preview", body, {"Content-Type": kind})
    assert preview.status == 200, preview.text[-2000:]
    assert "DMC-HOST1" in preview.text and "<script>alert(1)" not in preview.text
    applied = visitor.post("/roster/apply", {})
    assert applied.status == 302 and applied.headers["Location"].endswith("/roster/")
    return visitor


def test_the_csv_neutralises_every_formula(staff: Visitor, tmp_path) -> None:
    answer = staff.get(f"{REPORT}?format=csv")
    assert answer.status == 200
    inspect_export("coverage.csv", answer, tmp_path)  # BOM; no cell starts like a formula
    rows = list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig"))))
    cells = {cell for row in rows for cell in row}
    for unit, chair in HOSTILE.values():
        assert ("'" + unit if unit[0] in "=+-@" else unit) in cells
        if chair:
            assert "'" + chair in cells


def test_the_workbook_holds_text_not_formulas(staff: Visitor, tmp_path) -> None:
    answer = staff.get(f"{REPORT}?format=xlsx")
    assert answer.status == 200
    inspect_export("coverage.xlsx", answer, tmp_path)  # no <f> in any sheet
    book = openpyxl.load_workbook(io.BytesIO(answer.body))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    found = {c.value: c.data_type for c in cells if isinstance(c.value, str)}
    for unit, chair in HOSTILE.values():
        for name in filter(None, (unit, chair)):
            assert found.get(name) == "s", (name, found.get(name))


def test_json_csv_and_xlsx_hold_the_same_units_of_one_district(staff: Visitor) -> None:
    """EXP-03: the district's units only, the same count in every form, each download logged."""
    report = staff.get(f"{REPORT}?format=json")
    assert report.status == 200 and report.headers["Content-Type"] == "application/json"
    data = json.loads(report.body)
    codes = [unit["code"] for unit in data["units"]]
    assert data["scope"]["code"] == "DMC" and set(HOSTILE) <= set(codes)
    assert all(code.startswith("DMC-") for code in codes), codes
    names = {unit["name"] for unit in data["units"]}
    assert {unit for unit, _ in HOSTILE.values()} <= names  # literal, not escaped twice
    csv_rows = staff.get(f"{REPORT}?format=csv").body.decode("utf-8-sig").splitlines()
    book = openpyxl.load_workbook(io.BytesIO(staff.get(f"{REPORT}?format=xlsx").body))
    units_sheet = max(book.worksheets, key=lambda sheet: sheet.max_row)
    unit_codes = {row[0] for row in units_sheet.iter_rows(values_only=True)}
    assert set(codes) <= unit_codes and not {c for c in unit_codes if str(c).startswith("GD-")}
    assert len([r for r in csv_rows if re.match(r"^(DMC|GD)-", r)]) == data["units_total"]


def test_another_district_gets_nothing_of_these_units(server: Server, staff: Visitor) -> None:
    other = Visitor(server).sign_in("canbo.godau")
    for fmt in ("csv", "json", "xlsx"):
        answer = other.get(f"{REPORT}?format={fmt}")
        assert answer.status == 200
        assert b"DMC-HOST" not in answer.body
        if fmt == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(answer.body))
            values = [v for s in book.worksheets for r in s.iter_rows(values_only=True) for v in r]
            assert not [v for v in values if isinstance(v, str) and v.startswith("DMC-")]
    assert other.get(f"{REPORT}?format=csv&org=DMC").status == 404
