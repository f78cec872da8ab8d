"""Roster import in the browser: upload, preview (writes nothing), apply, refusals; the template."""

import io
import re

import pytest
import sqlalchemy as sa

from lms.db import db
from lms.orgs.roster import parse_roster
from tests.conftest import Client
from tests.orgs.roster_helpers import (
    counts,
    csv_file,
    example_bytes,
    make_federation,
    positions,
    with_line,
)


@pytest.fixture
def world(app, tmp_path):
    app.config["ROSTER_UPLOAD_FOLDER"] = str(tmp_path)
    tree = make_federation()
    db.session.commit()
    yield tree
    app.config["ROSTER_UPLOAD_FOLDER"] = ""


def _staff(app, username: str = "quantri") -> Client:
    app.test_client_class = Client
    client = app.test_client()
    assert client.login(username).status_code == 302
    return client


def _upload(client: Client, data: bytes, name: str = "danh-sach.csv"):
    return client.post_form("/roster/preview", {"file": (io.BytesIO(data), name)})


def _kept(app) -> list:
    from pathlib import Path

    return sorted(Path(app.config["ROSTER_UPLOAD_FOLDER"]).glob("*"))


def test_preview_then_apply(app, world) -> None:
    client = _staff(app)
    before = counts()
    preview = _upload(client, example_bytes())
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Kiểm tra trước khi nhập" in page and "Nguyễn Thị Hồng Nhung" in page
    assert "6 mới" in page and "10 mới" in page
    db.session.expire_all()
    assert counts() == before  # the preview wrote nothing
    assert len(_kept(app)) == 1
    applied = client.post_form("/roster/apply")
    assert applied.status_code == 302 and applied.headers["Location"] == "/roster/"
    db.session.expire_all()
    assert positions("DMC-DTTA")[0] == ("Nguyễn Thị Hồng Nhung", "chair")
    assert _kept(app) == []
    flashed = client.get("/roster/").get_data(as_text=True)
    assert "Đã nhập danh sách" in flashed and "phiếu mời" in flashed
    # Applying twice does nothing: the kept file is gone.
    assert client.post_form("/roster/apply").status_code == 302
    db.session.expire_all()
    assert counts()[1] == before[1] + 10


def test_a_bad_row_is_named_and_nothing_is_kept_or_written(app, world) -> None:
    client = _staff(app)
    before = counts()
    bad = with_line(9, "7;DMC-UBXA;CĐCS Cơ quan UBND xã Phan;DMC;cơ quan;một nghìn;;;;;")
    response = _upload(client, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'<td class="num">9</td><td>so_doan_vien</td><td>[^<]*một nghìn', page)
    assert "Nhập các thay đổi này" not in page
    assert _kept(app) == []
    assert client.post_form("/roster/apply").status_code == 302
    db.session.expire_all()
    assert counts() == before


def test_district_staff_are_refused_other_districts_units(app, world) -> None:
    client = _staff(app, "canbo.gd")
    response = _upload(client, example_bytes())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“DMC”" in page and "ngoài phạm vi" in page
    db.session.expire_all()
    assert positions("DMC-DTTA") == []


def test_apply_reads_the_kept_file_again(app, world) -> None:
    """What is applied is the server's copy, checked again (the tree may have moved on)."""
    client = _staff(app, "canbo.dmc")
    assert (
        _upload(
            client, csv_file("DMC-X;CĐCS X;DMC;FDI;10;Lê Văn A;Chủ tịch;0912000001;")
        ).status_code
        == 200
    )
    other = _staff(app)
    _upload(other, csv_file("DMC-X;CĐCS X;GD;FDI;10;;;;"))
    assert other.post_form("/roster/apply").status_code == 302  # DMC-X now lives in Gò Dầu
    refused = client.post_form("/roster/apply")
    assert refused.status_code == 400 and "ngoài phạm vi" in refused.get_data(as_text=True)


def test_an_upload_without_a_file(app, world) -> None:
    response = _staff(app).post_form("/roster/preview", {})
    assert response.status_code == 400 and "chọn tệp" in response.get_data(as_text=True)


def test_the_template_reads_back_as_a_roster(app, world) -> None:
    response = _staff(app, "canbo.dmc").get("/roster/template.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    parsed = parse_roster(response.get_data())
    assert parsed.errors == [] and parsed.ignored_columns == []
    assert [(r.unit_code, r.full_name, r.phone) for r in parsed.rows] == [
        ("CD-MAY01", "Nguyễn Thị Mẫu", "0912345678")
    ]


def test_pages_link_the_roster_and_slips(app, world) -> None:
    client = _staff(app, "canbo.dmc")
    assert "/roster/" in client.get("/orgs/DMC").get_data(as_text=True)
    page = client.get("/roster/").get_data(as_text=True)
    assert "/roster/template.xlsx" in page and "/orgs/DMC/slips" in page
    assert 'enctype="multipart/form-data"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("invitation"))) == 0


def test_kept_files_are_found_only_by_their_generated_name(app, world) -> None:
    from lms.orgs import roster_files

    with app.test_request_context():
        name = roster_files.keep(b"ma_don_vi\r\n")
        assert roster_files.read(name) == b"ma_don_vi\r\n"
        for bad in ("../../etc/passwd", "..%2fapp.py", "C:\\x", "a\x00b", name + "/..", None, 7):
            assert roster_files.read(bad) is None
        roster_files.discard(name)
        assert roster_files.read(name) is None
