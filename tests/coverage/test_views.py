"""The report over HTTP: the JSON contract, the dashboard, the CSV, the XLSX and the printable
page show the hand-counted figures, and district A's staff see nothing of district B."""

import csv
import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lms.coverage import services
from tests.coverage.conftest import AS_OF, EXPECTED

URL = f"/reports/coverage?as_of={AS_OF}"


@pytest.fixture
def staff_a(client, scenario):  # type: ignore[no-untyped-def]
    assert client.login("canbo.a").status_code == 302
    return client


def test_json_matches_the_hand_count(staff_a) -> None:
    data = staff_a.get(URL + "&format=json").get_json()
    assert data["targets"] == EXPECTED
    assert (data["as_of"], data["course"]) == ("2021-11-03", "chu-de-2021")
    assert data["scope"] == {"code": "A", "name": "LĐLĐ huyện A"}
    units = {u["code"]: u for u in data["units"]}
    assert len(units) == data["units_total"] == 7
    assert units["A-5"]["chair"] is None and units["A-5"]["trained"] is None
    assert units["A-6"]["chair"] is None and units["A-6"]["trained"] is False
    assert units["A-1"] | {"grading": None} == {
        "code": "A-1", "name": "Đơn vị A-1", "sector": "non_state", "member_count": 1200,
        "responsible": "province", "status": "done", "grading": None,
        "chair": {"username": "0912000001", "full_name": "Nguyễn Văn An"},
        "awareness_done": True, "core_modules_done": 2, "trained": True,
    }  # fmt: skip
    assert units["A-1"]["grading"] == {
        "criteria_met": True, "officers": 2, "officers_awareness_done": 2, "officers_all_done": 1
    }  # fmt: skip


def test_summary_omits_units_and_pages_hold_500(staff_a, monkeypatch) -> None:
    data = staff_a.get(URL + "&format=json&summary=1").get_json()
    assert "units" not in data and data["targets"] == EXPECTED
    monkeypatch.setattr(services, "PER_PAGE", 5)
    second = staff_a.get(URL + "&format=json&page=2&sort=code").get_json()
    assert (second["page"], second["pages"], second["units_total"]) == (2, 2, 7)
    assert [u["code"] for u in second["units"]] == ["A-6", "A-7"]


def test_the_dashboard_pages_fewer_units_than_the_json(staff_a, monkeypatch) -> None:
    monkeypatch.setattr(services, "PAGE_ON_SCREEN", 3)
    html = staff_a.get(URL + "&sort=code&page=3").get_data(as_text=True)
    assert re.findall(r'<tr id="unit-([^"]+)"', html) == ["A-7"]
    assert "Trang 3/3" in html
    assert len(staff_a.get(URL + "&format=json").get_json()["units"]) == 7


def _target(html: str, key: str) -> tuple[str, str, str]:
    block = re.search(rf'id="target-{key}">(.*?)</li>', html, re.S).group(1)
    done = re.search(r'class="done">([^<]+)<', block).group(1)
    eligible = re.search(r'class="eligible">([^<]+)<', block).group(1)
    return done, eligible, re.search(r'class="percent">([^<]+)<', block).group(1)


def test_dashboard_shows_the_figures_units_and_laggards(staff_a) -> None:
    html = staff_a.get(URL).get_data(as_text=True)
    assert _target(html, "awareness") == ("3", "7", "42,9%")
    assert _target(html, "trained_non_state") == ("1", "5", "20%")
    assert _target(html, "trained_by_district") == ("0", "3", "0%")
    assert _target(html, "trained_by_province") == ("1", "2", "50%")
    assert len(re.findall(r'<tr id="unit-', html)) == 7
    assert "Chưa có chủ tịch" in re.search(r'id="unit-A-6".*?</tr>', html, re.S).group(0)
    laggards = re.search(r'id="laggards".*?</section>', html, re.S).group(0)
    assert "Phạm Thị Dung" in laggards and "0912000004" in laggards  # never activated
    assert "laggard-not_activated" in laggards and "laggard-stalled" in laggards
    assert "Hoàng Văn Em" in laggards and "Nguyễn Văn An" not in laggards
    assert "<svg" in html and "<polyline" in html and "http" not in html.split("<svg")[1][:200]
    assert re.search(r'id="funnel-nhan-thuc"><td>[^<]+</td><td class="num">7</td>', html)


def test_every_chair_to_contact_is_a_page_away(staff_a, monkeypatch) -> None:
    from lms.coverage import dashboard

    monkeypatch.setattr(dashboard, "LAGGARDS_SHOWN", 1)
    monkeypatch.setattr(dashboard, "LAGGARDS_PER_PAGE", 1)
    html = staff_a.get(URL + "&sector=non_state").get_data(as_text=True)
    laggards = re.search(r'id="laggards".*?</section>', html, re.S).group(0)
    assert "Phạm Thị Dung" in laggards and "Hoàng Văn Em" not in laggards  # the first by name
    more = re.search(r'href="([^"]+)">Xem tất cả 2 chủ tịch cần liên hệ', laggards).group(1)
    assert more.startswith("/reports/coverage/contacts?") and "sector" not in more
    first = staff_a.get(more.replace("&amp;", "&"))
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "Cần liên hệ nhắc nhở (2)" in page and "Phạm Thị Dung" in page and "Trang 1/2" in page
    following = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    second = staff_a.get(following).get_data(as_text=True)
    assert "Hoàng Văn Em" in second and "Phạm Thị Dung" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    past = staff_a.get("/reports/coverage/contacts?page=9").get_data(as_text=True)
    assert "Hoàng Văn Em" in past and "Trang 2/2" in past  # the last page, as units do


def test_the_unit_table_pages_keep_the_choices(staff_a, monkeypatch) -> None:
    monkeypatch.setattr(services, "PAGE_ON_SCREEN", 3)
    html = staff_a.get(URL + "&sort=code").get_data(as_text=True)
    assert re.findall(r'<tr id="unit-([^"]+)"', html) == ["A-1", "A-2", "A-3"]
    following = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "sort=code" in following and "as_of=2021-11-03" in following and "page=2" in following
    second = staff_a.get(following).get_data(as_text=True)
    assert re.findall(r'<tr id="unit-([^"]+)"', second) == ["A-4", "A-5", "A-6"]
    assert "Trang 2/3" in second


def test_the_contacts_page_refuses_a_unit_outside_the_scope(staff_a) -> None:
    response = staff_a.get("/reports/coverage/contacts?org=B")
    assert response.status_code == 404
    assert "Đặng Văn B" not in response.get_data(as_text=True)


def test_the_call_list_is_every_chair_to_contact_as_csv(staff_a, scenario) -> None:
    from lms.db import db

    scenario["chairs"]["A-7"].full_name = "=HYPERLINK(\"http://x\")"  # typed by an admin
    db.session.commit()
    page = staff_a.get("/reports/coverage/contacts").get_data(as_text=True)
    link = re.search(r'href="([^"]+)">Tải danh sách cần liên hệ \(CSV\)', page).group(1)
    response = staff_a.get(link.replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and 'filename="can-lien-he_chu-de-2021_A_' in disposition
    header, *rows = _csv_rows(response)
    assert header == ["Chủ tịch", "Tên đăng nhập", "Điện thoại", "Mã đơn vị", "Tên đơn vị",
                      "Lý do", "Lần học gần nhất"]  # fmt: skip
    shown = re.findall(r'<tr class="laggard[^"]*"><td>([^<]+)</td>', page)
    assert [r[0] for r in rows] == ["Phạm Thị Dung", "'=HYPERLINK(\"http://x\")"]  # EXP-01
    assert shown[0] == "Phạm Thị Dung" and len(shown) == len(rows)
    assert rows[0][1:6] == ["0912000004", "0912000004", "A-4", "Đơn vị A-4",
                            "Chưa kích hoạt tài khoản"]  # fmt: skip
    assert rows[1][3] == "A-7" and rows[1][5] == "Không có tiến bộ quá 14 ngày"
    assert not any("Đặng Văn B" in cell for row in rows for cell in row)


def test_the_call_list_is_one_streamed_pass(staff_a, count_statements, monkeypatch) -> None:
    """EXP-06, and the cost of a national list: the CSV goes out as it is written (no
    Content-Length), from one query whose rows are fetched CHUNK at a time (not a query per
    page, each sorting every union of the scope again)."""
    from lms.coverage import exports

    monkeypatch.setattr(exports, "CHUNK", 1)
    with count_statements() as counter:
        response = staff_a.get("/reports/coverage/contacts?format=csv")
        _header, *rows = _csv_rows(response)
    assert "Content-Length" not in response.headers
    assert [r[3] for r in rows] == ["A-4", "A-7"]
    passes = [s for s in counter.statements if "chair_seen_on" in s]
    assert len(passes) == 1 and "LIMIT" not in passes[0].upper()


def test_the_call_list_refuses_another_scope_and_other_formats(staff_a) -> None:
    outside = staff_a.get("/reports/coverage/contacts?org=B&format=csv")
    assert outside.status_code == 404 and "Đặng Văn B" not in outside.get_data(as_text=True)
    refused = staff_a.get("/reports/coverage/contacts?format=xlsx&q=duong")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "xlsx" in html and 'value="duong"' in html


def test_dashboard_search_ignores_vietnamese_marks(staff_a) -> None:
    html = staff_a.get(URL + "&q=duong").get_data(as_text=True)
    assert re.findall(r'<tr id="unit-([^"]+)"', html) == ["A-3"]


def _csv_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # EXP-04: Excel on Windows reads UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_reproduces_the_figures(staff_a) -> None:
    response = staff_a.get(URL + "&format=csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = _csv_rows(response)
    assert header[:3] == ["Mã đơn vị", "Tên đơn vị", "Khu vực"]
    assert len(rows) == 7
    aware, trained = (
        header.index("Đã hoàn thành chuyên đề nhận thức"),
        header.index("Đã được bồi dưỡng mọi chuyên đề chính"),
    )
    assert sum(r[aware] == "Có" for r in rows) == EXPECTED["awareness"]["done"]
    assert sum(r[trained] == "Có" for r in rows) == EXPECTED["trained_non_state"]["done"]
    assert sum(r[trained] != "Không áp dụng" for r in rows) == 5


def test_the_files_speak_the_interface_language(staff_a) -> None:
    """The labels every row repeats are translated once per file, in the request's language."""
    staff_a.set_cookie("lang", "en")
    header, *rows = _csv_rows(staff_a.get(URL + "&format=csv"))
    unit = dict(zip(header, next(r for r in rows if r[0] == "A-5"), strict=True))
    assert (unit["Sector"], unit["Status"]) == ("State sector", "No chairperson")
    assert unit["Trained in every core module"] == "Not applicable"
    header, *rows = _csv_rows(staff_a.get("/reports/coverage/contacts?format=csv"))
    assert header[5] == "Why" and rows[0][5] == "Has not activated the account yet"
    staff_a.set_cookie("lang", "vi")
    _header, *rows = _csv_rows(staff_a.get("/reports/coverage/contacts?format=csv"))
    assert rows[0][5] == "Chưa kích hoạt tài khoản"


def test_csv_is_streamed_a_few_units_at_a_time(staff_a, count_statements, monkeypatch) -> None:
    """EXP-06: the CSV goes out as it is written (no Content-Length), the units read a batch
    at a time while it is sent, with the request's session and language still at hand."""
    from lms.coverage import queries

    monkeypatch.setattr(queries, "IN_LIMIT", 2)
    with count_statements() as counter:
        response = staff_a.get(URL + "&format=csv")
        header, *rows = _csv_rows(response)
    assert "Content-Length" not in response.headers
    assert header[0] == "Mã đơn vị" and len(rows) == 7
    counted = [st for st in counter.statements if st.lstrip().startswith("SELECT officer.org_id")]
    assert len(counted) == 4  # a batch of 2 units each


def test_xlsx_has_a_targets_sheet_and_a_units_sheet(staff_a) -> None:
    response = staff_a.get(URL + "&format=xlsx")
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    assert book.sheetnames == ["Chỉ tiêu", "Đơn vị"]
    targets = [row for row in book["Chỉ tiêu"].iter_rows(values_only=True) if row]
    figures = [tuple(row[1:4]) for row in targets[-4:]]
    assert figures == [(t["eligible"], t["done"], t["percent"]) for t in EXPECTED.values()]
    assert targets[2][1] == "03/11/2021"
    units = list(book["Đơn vị"].iter_rows(values_only=True))
    assert len(units) == 8 and units[0][0] == "Mã đơn vị"
    book.close()


def test_xlsx_is_sent_in_chunks_from_a_file_removed_at_the_end(staff_a, monkeypatch) -> None:
    """EXP-06: the workbook is written to a temporary file on disk, not built in memory, and
    sent from it a chunk at a time with its length known; closing the response deletes it."""
    from lms.coverage import views

    monkeypatch.setattr(views, "CHUNK_BYTES", 1024)
    before = _unnamed_files()
    response = staff_a.get(URL + "&format=xlsx", buffered=False)
    assert response.is_streamed and _unnamed_files() == before + 1
    chunks = list(response.response)
    assert len(chunks) > 1 and all(len(c) <= 1024 for c in chunks)
    data = b"".join(chunks)
    assert int(response.headers["Content-Length"]) == len(data)
    response.close()
    assert _unnamed_files() == before
    assert load_workbook(io.BytesIO(data), read_only=True).sheetnames == ["Chỉ tiêu", "Đơn vị"]


def _unnamed_files() -> int:
    """Files this process holds open whose name is gone (unlinked temporary files)."""
    found = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            found += os.readlink(fd).endswith("(deleted)")
        except OSError:
            continue
    return found


def test_print_page_is_the_report_to_send(staff_a) -> None:
    html = staff_a.get(f"/reports/coverage/print?as_of={AS_OF}").get_data(as_text=True)
    assert "Báo cáo kết quả thực hiện chủ đề năm 2021" in html
    assert "Số liệu tính đến ngày 03/11/2021" in html
    row = re.search(r'id="target-awareness">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'class="num [a-z]+">([^<]+)<', row) == ["7", "3", "42,9"]
    assert len(re.findall(r'<tr id="unit-', html)) == 7


def test_a_report_too_long_to_print_points_to_the_files(
    staff_a, caplog, monkeypatch, count_statements
) -> None:
    """A province's or the federation's 130.000 units are not printed (28 s and 39 MB of HTML
    at XL): the page keeps the targets, says how many units there are and links the files.
    Without a name search the units are counted, not listed in order only to be counted."""
    monkeypatch.setattr(services, "PRINT_LIMIT", 6)
    with caplog.at_level("INFO", logger="lms.audit"), count_statements() as counter:
        html = staff_a.get(f"/reports/coverage/print?as_of={AS_OF}").get_data(as_text=True)
    assert not [s for s in counter.statements if "ORDER BY organization.name" in s]
    assert 'id="target-awareness"' in html and '<tr id="unit-' not in html
    assert "Báo cáo này gồm 7 đơn vị, nhiều hơn mức 6 đơn vị mà một bản in liệt kê được." in html
    assert f'href="/reports/coverage?as_of={AS_OF}&amp;format=xlsx"' in html
    assert f'href="/reports/coverage?as_of={AS_OF}&amp;format=csv"' in html
    assert not [r for r in caplog.records if getattr(r, "event", "") == "coverage.exported"]
    # Narrowed by a name search to fewer units, it prints them.
    html = staff_a.get("/reports/coverage/print?q=duong+minh").get_data(as_text=True)
    assert re.findall(r'<tr id="unit-([^"]+)"', html) == ["A-3"] and 'id="too-many"' not in html
    staff_a.set_cookie("lang", "en")
    html = staff_a.get("/reports/coverage/print").get_data(as_text=True)
    assert "This report covers 7 units, more than the 6 a printed report can list." in html


def test_exports_are_formula_safe(staff_a, scenario) -> None:
    """EXP-01 and EXP-02: a unit name that looks like a formula, or like a link, stays text;
    the members stay a number."""
    from lms.db import db
    from tests.factories import make_org

    hostile = '=HYPERLINK("http://x","y")'
    link = "https://evil.example/dang-nhap"
    make_org("A-8", kind="grassroots", parent=_org("A"), sector="state", members=5, name=hostile)
    make_org("A-9", kind="grassroots", parent=_org("A"), sector="state", members=1500, name=link)
    db.session.commit()
    rows = _csv_rows(staff_a.get(URL + "&format=csv&sort=code"))
    assert rows[-2][:2] == ["A-8", "'" + hostile]
    data = staff_a.get(URL + "&format=xlsx&sort=code").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in archive.read(n) for n in sheets)
        assert not any(b"<hyperlink" in archive.read(n) for n in sheets)
        assert not any("_rels" in n for n in sheets)  # no link targets beside the sheets
    book = load_workbook(io.BytesIO(data))
    cells = {row[0].value: row for row in book["Đơn vị"].iter_rows(min_row=2)}
    for code, name, members in (("A-8", hostile, 5), ("A-9", link, 1500)):
        assert (cells[code][1].value, cells[code][1].data_type) == (name, "s")
        assert (cells[code][3].value, cells[code][3].data_type) == (members, "n")
        assert cells[code][1].hyperlink is None


def _org(code: str):  # type: ignore[no-untyped-def]
    from lms.orgs.services import get_org_by_code

    return get_org_by_code(code)


@pytest.mark.parametrize(
    "payload", ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1", "\0x"]
)
def test_csv_cells_that_could_run_get_an_apostrophe(payload: str) -> None:
    from lms.coverage.exports import safe_text

    assert safe_text(payload) == "'" + payload
    assert safe_text("Công đoàn") == "Công đoàn"


@pytest.mark.parametrize("fmt", ["html", "json", "csv", "xlsx"])
def test_district_b_sees_nothing_of_a(client, scenario, fmt: str) -> None:
    """AC-03 / EXP-03: B's staff get B only, and asking for A is 'not found'."""
    client.login("canbo.b")
    body = client.get(URL + f"&format={fmt}").get_data()
    text = body.decode("utf-8", "ignore") if fmt != "xlsx" else _xlsx_text(body)
    assert "B-1" in text
    for secret in ("A-1", "A-3", "Nguyễn Văn An", "0912000004", "Dương Minh"):
        assert secret not in text
    for code in ("A", "A-1", "P"):
        assert client.get(URL + f"&format={fmt}&org={code}").status_code == 404


def _xlsx_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data), read_only=True)
    text = " ".join(str(v) for s in book for r in s.iter_rows(values_only=True) for v in r)
    book.close()
    return text


def test_print_page_of_b_hides_a(client, scenario) -> None:
    client.login("canbo.b")
    html = client.get("/reports/coverage/print").get_data(as_text=True)
    assert "B-1" in html and "A-1" not in html
    assert client.get("/reports/coverage/print?org=A").status_code == 404


def test_learners_and_trainers_are_refused(client, scenario) -> None:
    client.login("0912000001")
    assert client.get(URL).status_code == 403
    assert client.get(URL + "&format=json").status_code == 403


def test_a_bad_day_is_refused_with_the_typed_value_kept(staff_a) -> None:
    response = staff_a.get("/reports/coverage?as_of=31/02/2021&q=duong")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“31/02/2021” không phải là ngày" in html
    assert 'value="31/02/2021"' in html and 'value="duong"' in html
    answer = staff_a.get("/reports/coverage?as_of=hom-qua&format=json")
    assert answer.status_code == 400 and "hom-qua" in answer.get_json()["error"]
    assert staff_a.get("/reports/coverage?format=pdf").status_code == 400
    assert staff_a.get("/reports/coverage?status=xyz").status_code == 400


@pytest.mark.parametrize(
    ("path", "table"),
    [(URL + "&format=csv", "units"), (URL + "&format=xlsx", "units"),
     (URL + "&format=json", "units"), ("/reports/coverage/print", "units"),
     ("/reports/coverage/contacts?format=csv", "contacts")],
)  # fmt: skip
def test_exports_are_logged(staff_a, caplog, path: str, table: str) -> None:
    """EXP-03 / LOG-01: every way the units or the chairs to contact leave the dashboard (the
    JSON and the printable report carry the chairs' names too) is logged with its scope."""
    with caplog.at_level("INFO", logger="lms.audit"):
        staff_a.get(path).get_data()
    assert any(
        getattr(r, "event", "") == "coverage.exported"
        and "scope=A" in r.getMessage()
        and f"table={table}" in r.getMessage()
        for r in caplog.records
    )


def test_navigation_and_home_link_to_the_report(staff_a) -> None:
    html = staff_a.get("/").get_data(as_text=True)
    assert html.count('href="/reports/coverage"') >= 2
