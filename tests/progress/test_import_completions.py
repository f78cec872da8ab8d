"""`lms import-completions FILE [--dry-run]` and its web upload: CSV/XLSX as Vietnamese offices
write them, all or nothing with numbered rows, scope (AC-03), existing completions kept."""

import base64
import io
import re
import unicodedata
from datetime import datetime

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from lms.db import VN_TZ, db
from lms.progress import services as progress
from lms.progress import tabular
from lms.progress.models import Completion, CompletionSource
from tests.progress.conftest import days_ago


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) or 0


def _standing(user, module) -> Completion | None:  # type: ignore[no-untyped-def]
    return progress.completions_of(user, [module.id]).get(module.id)


def _vn(day) -> str:  # type: ignore[no-untyped-def]
    return day.strftime("%d/%m/%Y")


def _csv(lines: list[str], *, sep: str = ";", bom: bool = True) -> bytes:
    text = "\r\n".join(line.replace("|", sep) for line in lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write(tmp_path, data: bytes, name: str = "diem-danh.csv"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_vietnamese_office_csv_imports(runner, records, tmp_path) -> None:
    """BOM, `;`, accented headers, phones in any form, decomposed text, stray spaces; the
    username wins over a phone of somebody else; `khoa` picks an older course."""
    class_nfd = unicodedata.normalize("NFD", "Lớp bồi dưỡng  tỉnh Tây Ninh ")
    data = _csv([
        "STT|Họ và tên|Điện thoại|Tên đăng nhập|Chuyên đề|Ngày|Lớp|Khóa",
        f"1|Nhung| +84 912 000 001 ||tien-luong|{_vn(days_ago(40))}|{class_nfd}|",
        f"2|Bình|0912000001|chu.tich.a2|NHAN-THUC|{_vn(days_ago(41))}|Lớp huyện|",
        "",
        f"4|Nhung|84-912-000-001||tien-luong|{_vn(days_ago(400))}|Lớp năm trước|chu-de-2020",
    ])  # fmt: skip
    result = runner.invoke(args=["import-completions", _write(tmp_path, data)])
    assert result.exit_code == 0, result.output
    assert "Đã ghi nhận 3 lượt hoàn thành, giữ nguyên 0." in result.output
    chair, state = records["chair_a"], records["state_a"]
    wages = _standing(chair, records["wages"])
    assert wages.source == CompletionSource.EXTERNAL
    assert wages.class_name == "Lớp bồi dưỡng tỉnh Tây Ninh"  # NFC, spaces collapsed
    assert wages.completed_dt.astimezone(VN_TZ).date() == days_ago(40)
    assert wages.recorded_by_id is None
    assert _standing(state, records["awareness"]).class_name == "Lớp huyện"
    assert _standing(chair, records["awareness"]) is None  # the username won over the phone
    last_year = _standing(chair, records["old_wages"])
    assert last_year.completed_dt.astimezone(VN_TZ).date() == days_ago(400)
    assert _count() == 3


def test_an_xlsx_with_date_cells_and_numeric_phones_imports(runner, records, tmp_path) -> None:
    day = days_ago(10)
    data = _xlsx([
        ["Phone", "Module", "Date", "Class", "Note"],
        [912000001, "tien-luong", datetime(day.year, day.month, day.day), "Provincial class",
         "Signed sheet"],
        [None, None, None, None, None],
        ["0912000001", "nhan-thuc", _vn(day), "Provincial class", None],
    ])  # fmt: skip
    result = runner.invoke(args=["import-completions", _write(tmp_path, data, "lop.xlsx")])
    assert result.exit_code == 0, result.output
    wages = _standing(records["chair_a"], records["wages"])
    assert wages.completed_dt.astimezone(VN_TZ).date() == day and wages.note == "Signed sheet"
    assert _standing(records["chair_a"], records["awareness"]) is not None


BAD_ROWS = [
    ("0999999999|tien-luong|{d}|Lớp", 2, "dien_thoai", "Không có ai có số điện thoại “0999999999”"),
    ("0912000002|tien-luong|{d}|Lớp", 3, "dien_thoai", "nằm ngoài phạm vi anh/chị quản lý"),
    ("0912000001|khong-co|{d}|Lớp", 4, "chuyen_de", "không có chuyên đề “khong-co”"),
    ("0912000001|tien-luong|31/02/2021|Lớp", 5, "ngay", "“31/02/2021” không phải là ngày"),
    ("0912000001|tien-luong|01/01/2999|Lớp", 6, "ngay", "ở tương lai"),
    ("0912000001|tien-luong|{d}|", 7, "lop", "Cột “lop” bị bỏ trống"),
    ("12345|tien-luong|{d}|Lớp", 8, "dien_thoai", "“12345” không phải là số điện thoại"),
]


def test_one_bad_row_imports_nothing_and_every_error_names_its_row(runner, records, tmp_path):
    good = f"0912000001|nhan-thuc|{_vn(days_ago(5))}|Lớp tốt"
    lines = ["dien_thoai|chuyen_de|ngay|lop"] + [r[0].format(d=_vn(days_ago(5))) for r in BAD_ROWS]
    lines.append(good)
    result = runner.invoke(args=["import-completions", "--user", "canbo.a",
                                 _write(tmp_path, _csv(lines, sep=","))])  # fmt: skip
    assert result.exit_code == 1
    for _text, number, column, message in BAD_ROWS:
        line = next(x for x in result.stderr.splitlines() if f"dòng {number}," in x)
        assert f"cột {column}" in line and message in line, line
    assert "7 lỗi; không ghi nhận gì" in result.stderr
    assert _count() == 0


def test_existing_completions_are_kept_and_duplicates_use_the_earliest_date(
    runner, records, tmp_path
) -> None:
    chair = records["chair_a"]
    earlier = datetime.combine(days_ago(120), datetime.min.time(), tzinfo=VN_TZ)
    online = progress.record_completion(
        chair, records["awareness"], CompletionSource.ONLINE, when=earlier
    )
    db.session.commit()
    data = _csv([
        "ten_dang_nhap,chuyen_de,ngay,lop",
        f"0912000001,nhan-thuc,{_vn(days_ago(90))},Lớp A",
        f"0912000001,tien-luong,{_vn(days_ago(3))},Lớp sau",
        f"0912000001,tien-luong,{_vn(days_ago(20))},Lớp trước",
    ], sep=",", bom=False)  # fmt: skip
    result = runner.invoke(args=["import-completions", _write(tmp_path, data)])
    assert result.exit_code == 0, result.output
    assert "dòng 2: 0912000001 / nhan-thuc: đã hoàn thành ngày" in result.output
    assert "dòng 3: 0912000001 / tien-luong: trùng với một dòng có ngày sớm hơn" in result.output
    assert _standing(chair, records["awareness"]) == online
    wages = _standing(chair, records["wages"])
    assert wages.class_name == "Lớp trước"
    assert wages.completed_dt.astimezone(VN_TZ).date() == days_ago(20)


def test_a_later_standing_completion_gives_way_to_an_earlier_class(
    runner, records, tmp_path
) -> None:
    chair = records["chair_a"]
    online = progress.record_completion(chair, records["awareness"], CompletionSource.ONLINE)
    db.session.commit()
    data = _csv([
        "ten_dang_nhap,chuyen_de,ngay,lop",
        f"0912000001,nhan-thuc,{_vn(days_ago(90))},Lớp tỉnh",
    ], sep=",", bom=False)  # fmt: skip
    dry = runner.invoke(args=["import-completions", _write(tmp_path, data), "--dry-run"])
    assert "thay lần hoàn thành ngày" in dry.output and online.revoked_dt is None
    result = runner.invoke(args=["import-completions", _write(tmp_path, data)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    standing = _standing(chair, records["awareness"])
    assert standing.source == CompletionSource.EXTERNAL and standing.class_name == "Lớp tỉnh"
    assert standing.completed_dt.astimezone(VN_TZ).date() == days_ago(90)
    revoked = db.session.get(Completion, online.id)
    assert revoked.revoked_dt is not None and "Lớp tỉnh" in revoked.revoke_reason


def test_dry_run_records_nothing(runner, records, tmp_path) -> None:
    data = _csv(["dien_thoai;chuyen_de;ngay;lop", f"0912000001;tien-luong;{_vn(days_ago(1))};L"])
    result = runner.invoke(args=["import-completions", "--dry-run", _write(tmp_path, data)])
    assert result.exit_code == 0
    assert "Chạy thử: sẽ ghi nhận 1, giữ nguyên 0." in result.output
    assert _count() == 0


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["import-completions"], 2),
        (["import-completions", "/khong/co/tep.csv"], 2),
        (["import-completions", "--user", "khong.ai", "{file}"], 2),
        (["import-completions", "--user", "0912000001", "{file}"], 2),
    ],
)
def test_usage_errors_exit_2(runner, records, tmp_path, args, code) -> None:
    path = _write(tmp_path, _csv(["dien_thoai;chuyen_de;ngay;lop"]))
    result = runner.invoke(args=[a.format(file=path) for a in args])
    assert result.exit_code == code


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Tệp rỗng"),
        (b"\xff\xfe\x00d\x00i", "UTF-8"),
        (b"PK\x03\x04 broken", "Không đọc được tệp"),
        (b"ho_ten;ngay;lop\nAn;01/01/2021;L\n", "Không có cột nào cho biết người học"),
        (b"dien_thoai;ngay\n0912000001;01/01/2021\n", "Thiếu cột “chuyen_de”"),
    ],
)
def test_unreadable_files_exit_1_with_a_message(runner, records, tmp_path, data, message):
    result = runner.invoke(args=["import-completions", _write(tmp_path, data)])
    assert result.exit_code == 1
    assert message in result.stderr


def test_reader_numbers_rows_as_a_spreadsheet_shows_them(app_ctx) -> None:
    table = tabular.read_table(_csv(["", "A;B", "1;2", ";", '"x\ny";3'], bom=False))
    assert table.headers == ["a", "b"]
    assert [(r.number, r.cells) for r in table.rows] == [
        (3, {"a": "1", "b": "2"}),
        (6, {"a": "x y", "b": "3"}),
    ]


# ---- the web upload ------------------------------------------------------------------------


def _upload(client, data: bytes, name: str = "lop.csv"):  # type: ignore[no-untyped-def]
    return client.post_form("/completions/import", {"file": (io.BytesIO(data), name)},
                            content_type="multipart/form-data")  # fmt: skip


def test_web_preview_says_which_later_completion_is_replaced(client, records) -> None:
    progress.record_completion(records["chair_a"], records["wages"], CompletionSource.ONLINE)
    db.session.commit()
    data = _csv(["Điện thoại;Chuyên đề;Ngày;Lớp", f"0912000001;tien-luong;{_vn(days_ago(7))};Lớp"])
    client.login("canbo.a")
    page = _upload(client, data).get_data(as_text=True)
    assert f"thay lần hoàn thành ngày {_vn(days_ago(0))}" in page


def test_web_preview_then_apply(client, records) -> None:
    data = _csv(["Điện thoại;Chuyên đề;Ngày;Lớp", f"0912000001;tien-luong;{_vn(days_ago(7))};Lớp"])
    client.login("canbo.a")
    preview = _upload(client, data)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Sẽ ghi nhận 1 lượt hoàn thành" in page and "Nguyễn Thị Hồng Nhung" in page
    assert _count() == 0  # the preview writes nothing
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', page)[1]
    applied = client.post_form("/completions/import/apply", {"payload": payload})
    assert applied.status_code == 302
    assert _standing(records["chair_a"], records["wages"]).recorded_by_id == records["staff_a"].id
    assert "Đã ghi nhận 1 lượt hoàn thành" in client.get("/completions/import").get_data(True)


def test_web_counts_are_written_the_vietnamese_way(client, records) -> None:
    """1.000, not 1000: a class list naming one person a thousand and one times."""
    row = f"0912000001;tien-luong;{_vn(days_ago(7))};Lớp"
    data = _csv(["dien_thoai;chuyen_de;ngay;lop"] + [row] * 1001)
    client.login("canbo.a")
    page = _upload(client, data).get_data(as_text=True)
    assert "Sẽ ghi nhận 1 lượt hoàn thành; 1.000 dòng không ghi nhận gì." in page
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', page)[1]
    client.post_form("/completions/import/apply", {"payload": payload})
    assert "giữ nguyên 1.000" in client.get("/completions/import").get_data(True)


def test_web_upload_refuses_people_of_another_district(client, records) -> None:
    data = _csv(["dien_thoai;chuyen_de;ngay;lop", f"0912000001;tien-luong;{_vn(days_ago(2))};L"])
    client.login("canbo.b")
    response = _upload(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nằm ngoài phạm vi anh/chị quản lý" in page and 'name="payload"' not in page
    forged = base64.b64encode(data).decode()
    assert client.post_form("/completions/import/apply", {"payload": forged}).status_code == 400
    assert _count() == 0


def test_web_apply_refuses_a_payload_that_is_not_a_file(client, records) -> None:
    client.login("canbo.a")
    for payload in ("", "không phải base64!"):
        response = client.post_form("/completions/import/apply", {"payload": payload})
        assert response.status_code == 400
    assert _count() == 0
