"""Reading roster files as Vietnamese offices write them: every quirk, and clear refusals."""

import io
import unicodedata
import zipfile

import pytest

from lms.orgs.models import Position, Sector
from lms.orgs.roster import parse_members, parse_roster
from tests.orgs.roster_helpers import csv_file, example_as_xlsx, example_bytes, xlsx_file


def _by_name(parsed) -> dict:  # type: ignore[no-untyped-def]
    return {row.full_name: row for row in parsed.rows if row.full_name}


def test_the_example_file_reads_with_every_quirk(app_ctx) -> None:
    raw = example_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw  # BOM, Excel's semicolons
    assert unicodedata.normalize("NFD", "Nguyễn").encode() in raw  # a decomposed name
    parsed = parse_roster(raw)
    assert parsed.errors == []
    assert parsed.ignored_columns == ["STT", "Ghi chú"]
    assert parsed.rows[0].line == 3  # a title row, then the header on row 2
    people = _by_name(parsed)
    nhung = people["Nguyễn Thị Hồng Nhung"]  # stored composed (NFC)
    assert unicodedata.is_normalized("NFC", nhung.full_name)
    assert (nhung.phone, nhung.email, nhung.position) == (
        "0912345678",
        "nhung.nt@example.vn",
        Position.CHAIR,
    )
    assert "Trần Văn Ước" in people  # stray and doubled spaces
    assert {name: row.phone for name, row in people.items()} == {
        "Nguyễn Thị Hồng Nhung": "0912345678",  # +84 912 345 678
        "Trần Văn Ước": "0912345679",  # dots
        "Lê Thị Mỹ": "0912345680",  # 84 without +
        "Phạm Văn Đạt": "0987654321",  # (+84) and dashes
        "Đặng Thị Kim": None,  # no phone
        "Võ Thị Lan": "0912345681",  # Excel dropped the leading 0
        "Đỗ Văn Hải": "02763812345",  # a landline
        "Hồ Thị Thu": "0987654322",
        "Châu Văn Nam": "0987654323",
        "Mai Thị Hoa": "0356111222",
    }
    assert [people[n].position for n in ("Phạm Văn Đạt", "Đặng Thị Kim", "Châu Văn Nam")] == [
        Position.CHAIR,  # "CHỦ TỊCH CĐCS"
        Position.COLLABORATOR,
        Position.CORE_MEMBER,
    ]
    assert people["Lê Thị Mỹ"].position == Position.GROUP_LEADER
    assert people["Trần Văn Ước"].position == Position.VICE_CHAIR
    vacancy = [row for row in parsed.rows if row.unit_code == "DMC-UBXA"]
    assert len(vacancy) == 1 and not vacancy[0].has_person


def test_member_counts_and_sectors_in_the_example(app_ctx) -> None:
    parsed = parse_roster(example_bytes())
    first = {}
    for row in parsed.rows:
        if row.sector is not None:
            first.setdefault(row.unit_code, (row.sector, row.member_count))
    assert first == {
        "DMC-DTTA": (Sector.NON_STATE, 1000),  # "Ngoài nhà nước", 1.000 (and 1,000 on the next row)
        "DMC-MAYHP": (Sector.NON_STATE, 1200),  # "Doanh nghiệp tư nhân", 1 200
        "DMC-THCS": (Sector.STATE, 45),  # "Đơn vị sự nghiệp"
        "DMC-UBXA": (Sector.STATE, 1000),  # "cơ quan", 1000
        "GD-GIAYDL": (Sector.NON_STATE, 2350),  # "FDI", 2.350
        "GD-BVGD": (Sector.STATE, 320),  # "Nhà nước"
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.000", 1000), ("1,000", 1000), ("1 000", 1000), ("1000", 1000), ("1\u00a0000", 1000),
        ("1.000.000", 1_000_000), ("45", 45), ("0", 0),
        ("1,5", None), ("1.00", None), ("1.000,000", None), ("abc", None), ("-5", None),
    ],
)  # fmt: skip
def test_member_count_forms(text: str, expected: int | None) -> None:
    from lms.orgs.roster import clean

    assert parse_members(clean(text)) == expected


@pytest.mark.parametrize(
    ("word", "sector"),
    [
        ("ngoài nhà nước", Sector.NON_STATE), ("Ngoài khu vực nhà nước", Sector.NON_STATE),
        ("doanh nghiệp tư nhân", Sector.NON_STATE), ("FDI", Sector.NON_STATE),
        ("fdi", Sector.NON_STATE), ("nhà nước", Sector.STATE), ("Cơ quan", Sector.STATE),
        ("đơn vị sự nghiệp", Sector.STATE), ("NGOAI NHA NUOC", Sector.NON_STATE),
        ("non_state", Sector.NON_STATE), ("state", Sector.STATE),
    ],
)  # fmt: skip
def test_sector_words(app_ctx, word: str, sector: Sector) -> None:
    parsed = parse_roster(csv_file(f"X1;Tên;DMC;{word};10;;;;"))
    assert parsed.errors == [] and parsed.rows[0].sector == sector


@pytest.mark.parametrize(
    ("word", "position"),
    [
        ("Chủ tịch", Position.CHAIR), ("chủ tịch công đoàn cơ sở", Position.CHAIR),
        ("Phó Chủ tịch", Position.VICE_CHAIR), ("PCT", Position.VICE_CHAIR),
        ("Tổ trưởng công đoàn", Position.GROUP_LEADER), ("Tổ trưởng CĐ", Position.GROUP_LEADER),
        ("Cộng tác viên", Position.COLLABORATOR), ("CTV", Position.COLLABORATOR),
        ("Đoàn viên nòng cốt", Position.CORE_MEMBER), ("chair", Position.CHAIR),
    ],
)  # fmt: skip
def test_position_words(app_ctx, word: str, position: Position) -> None:
    parsed = parse_roster(csv_file(f"X1;;;;;Lê Văn A;{word};;"))
    assert parsed.errors == [] and parsed.rows[0].position == position


def test_commas_no_bom_and_english_headers(app_ctx) -> None:
    data = csv_file(
        'U1,"Union, Ltd",DMC,FDI,"1,250",Lê Văn A,Chairperson,0912345678,',
        header="unit code,unit name,parent code,sector,members,full name,position,phone,email",
    )
    parsed = parse_roster(data)
    assert parsed.errors == []
    row = parsed.rows[0]
    assert (row.unit_name, row.member_count, row.phone) == ("Union, Ltd", 1250, "0912345678")


def test_unaccented_headers_and_utf16_tabs(app_ctx) -> None:
    text = "Ma don vi\tTen don vi\tMa cap tren\tKhu vuc\tSo doan vien\tHo ten\tChuc vu\tSDT\r\n"
    text += "U1\tCĐCS A\tDMC\tnhà nước\t12\tLê Văn A\tChủ tịch\t0912345678\r\n"
    parsed = parse_roster(text.encode("utf-16"))
    assert parsed.errors == [] and parsed.rows[0].phone == "0912345678"


def test_xlsx_reads_like_the_csv(app_ctx) -> None:
    from_csv = parse_roster(example_bytes())
    from_xlsx = parse_roster(example_as_xlsx())
    assert from_xlsx.errors == []
    assert from_xlsx.rows == from_csv.rows


def test_xlsx_numbers_as_excel_stores_them(app_ctx) -> None:
    data = xlsx_file(
        [
            ["Mã đơn vị", "Tên đơn vị", "Mã cấp trên", "Khu vực", "Số đoàn viên", "Họ và tên",
             "Chức vụ", "Điện thoại"],
            ["U1", "CĐCS A", "DMC", "FDI", 1200.0, "Lê Văn A", "Chủ tịch", 912345678],
        ]
    )  # fmt: skip
    row = parse_roster(data).rows[0]
    assert (row.member_count, row.phone) == (1200, "0912345678")


def test_every_bad_cell_is_reported_with_its_row(app_ctx) -> None:
    parsed = parse_roster(
        csv_file(
            "U1;CĐCS A;DMC;tư bản;12;Lê Văn A;Chủ tịch;0912345678;",
            "U1;;;;1,5;Lê Văn B;Giám đốc;12345;b@",
            ";CĐCS C;DMC;FDI;3;;;;",
            "U2;CĐCS D;DMC;FDI;3;;Chủ tịch;0912345670;",
            "U2;;;;;Lê Văn E;;;",
        )
    )
    found = sorted((e.line, e.field) for e in parsed.errors)
    assert found == [
        (2, "khu_vuc"),
        (3, "chuc_vu"), (3, "dien_thoai"), (3, "email"), (3, "so_doan_vien"),
        (4, "ma_don_vi"),
        (5, "ho_ten"),
        (6, "chuc_vu"),
    ]  # fmt: skip
    by_line = {(e.line, e.field): e.message for e in parsed.errors}
    assert "tư bản" in by_line[(2, "khu_vuc")] and "ngoài nhà nước" in by_line[(2, "khu_vuc")]
    assert "12345" in by_line[(3, "dien_thoai")]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("Mã don vi;Tên\r\nU1;Tên\r\n".encode("cp1252"), "UTF-8"),  # a Windows code page
        (b"PK\x03\x04 not really a workbook", "Excel"),
        ("Họ tên;Chức vụ\r\nLê Văn A;Chủ tịch\r\n".encode(), "Mã đơn vị"),
        ("Mã đơn vị;Mã CĐCS\r\nU1;U2\r\n".encode(), "Mã CĐCS"),
    ],
)
def test_files_that_cannot_be_read(app_ctx, data: bytes, words: str) -> None:
    parsed = parse_roster(data)
    assert len(parsed.errors) == 1 and parsed.errors[0].line == 0
    assert words in parsed.errors[0].message


def test_a_header_without_rows_is_refused(app_ctx) -> None:
    parsed = parse_roster("Mã đơn vị;Tên đơn vị\r\n;\r\n".encode())
    assert parsed.rows == [] and [e.line for e in parsed.errors] == [0]


def test_a_workbook_damaged_past_its_first_rows_is_refused(app_ctx) -> None:
    """Rows are read as they come: a sheet that breaks after its header still gets the clear
    message, and no half-read rows."""
    book = zipfile.ZipFile(io.BytesIO(example_as_xlsx()))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as out:
        for item in book.infolist():
            data = book.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b'<row r="4"')] + b'<row r="4"><c r="A4" t="'
            out.writestr(item, data)
    parsed = parse_roster(damaged.getvalue())
    assert parsed.rows == [] and [e.line for e in parsed.errors] == [0]
    assert "Excel" in parsed.errors[0].message
