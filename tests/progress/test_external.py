"""External completions: staff record one for a person in scope (class date kept apart from the
day it was entered, evidence checked by content and served only to staff in scope), and revoke
one with an audited reason. District B's staff can do none of it for district A (AC-03)."""

import logging
import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from lms.db import VN_TZ, db, vn_today
from lms.progress import evidence, external
from lms.progress import services as progress
from lms.progress.models import Completion, CompletionSource
from tests.factories import make_lesson
from tests.progress.conftest import PDF, PNG, days_ago


def _completions(user) -> list[Completion]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(sa.select(Completion).where(Completion.user_id == user.id)))


def _form(world, **changes):  # type: ignore[no-untyped-def]
    form = {
        "module": str(world["wages"].id),
        "day": days_ago(30).strftime("%d/%m/%Y"),
        "class_name": "Lớp bồi dưỡng của LĐLĐ tỉnh",
        "note": "Danh sách điểm danh có chữ ký",
    }
    return form | changes


def _file(data: bytes, name: str):  # type: ignore[no-untyped-def]
    import io

    return (io.BytesIO(data), name)


def test_staff_record_an_external_completion_with_evidence(client, records) -> None:
    person = records["chair_a"]
    client.login("canbo.a")
    form = _form(records, evidence=_file(PDF, "giay-chung-nhan.pdf"))
    response = client.post_form(f"/people/{person.id}/completions", form,
                                content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{person.id}#completions")
    [done] = _completions(person)
    assert done.source == CompletionSource.EXTERNAL
    assert done.completed_dt.astimezone(VN_TZ).date() == days_ago(30)  # the class day (COMP-06)
    assert done.recorded_dt.astimezone(VN_TZ).date() == vn_today()  # the day it was entered
    assert done.class_name == "Lớp bồi dưỡng của LĐLĐ tỉnh"
    assert done.recorded_by_id == records["staff_a"].id
    assert done.evidence_type == "application/pdf"
    assert evidence.path_of(done.evidence_file).read_bytes() == PDF
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Lớp bồi dưỡng của LĐLĐ tỉnh" in page and days_ago(30).strftime("%d/%m/%Y") in page
    assert f"/completions/{done.id}/evidence" in page


def test_evidence_is_a_download_for_staff_in_scope_only(client, app, records) -> None:
    done = external.record_external(
        records["admin"], records["chair_a"], records["wages"], day=days_ago(3),
        class_name="Lớp tỉnh", evidence=PNG,
    )  # fmt: skip
    db.session.commit()
    url = f"/completions/{done.id}/evidence"
    client.login("canbo.a")
    response = client.get(url)
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    response.close()
    for username, status in (("canbo.b", 404), ("0912000001", 403), ("giangvien", 403)):
        client.logout()
        client.login(username)
        assert client.get(url).status_code == status


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "minh-chung.pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.png"),
        (b"GIF89a\x01\x00\x01\x00", "anh.jpg"),
        (b"PK\x03\x04 a zip file", "hoso.pdf"),
    ],
)
def test_evidence_is_judged_by_content_not_name(client, records, data, name) -> None:
    person = records["chair_a"]
    client.login("canbo.a")
    response = client.post_form(f"/people/{person.id}/completions",
                                _form(records, evidence=_file(data, name)),
                                content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400
    assert "phải là tệp PDF, JPEG hoặc PNG" in response.get_data(as_text=True)
    assert _completions(person) == []


def test_evidence_too_large_is_refused(client, app, records, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1024)
    client.login("canbo.a")
    big = _file(PDF + b"0" * 2048, "to.pdf")
    response = client.post_form(f"/people/{records['chair_a'].id}/completions",
                                _form(records, evidence=big),
                                content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400
    assert "quá lớn" in response.get_data(as_text=True)
    assert _completions(records["chair_a"]) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"day": "31/02/2021"}, "“31/02/2021” không phải là ngày"),
        ({"day": "2021-11-03"}, "không phải là ngày"),
        ({"day": "01/01/2999"}, "ở tương lai"),
        ({"day": ""}, "Nhập ngày của lớp học."),
        ({"class_name": "  "}, "Nhập tên lớp học."),
    ],
)
def test_bad_input_is_refused_with_the_typed_data_kept(client, records, changes, expected) -> None:
    person = records["chair_a"]
    client.login("canbo.a")
    form = _form(records, class_name="Lớp học ở Tây Ninh") | changes
    response = client.post_form(f"/people/{person.id}/completions", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    # Next to the field it is about, which the field's label names.
    [field] = changes
    assert expected in re.search(rf'id="{field}-error">([^<]*)<', page)[1]
    if form["class_name"].strip():
        assert 'value="Lớp học ở Tây Ninh"' in page
    assert "Danh sách điểm danh có chữ ký" in page
    assert _completions(person) == []


def test_a_standing_completion_is_kept_and_the_form_says_so(client, records) -> None:
    person, module = records["chair_a"], records["wages"]
    online = progress.record_completion(person, module, CompletionSource.ONLINE)
    db.session.commit()
    client.login("canbo.a")
    response = client.post_form(f"/people/{person.id}/completions", _form(records))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nguyễn Thị Hồng Nhung đã hoàn thành “Tiền lương” (trực tuyến" in page
    assert "được giữ nguyên" in page
    assert _completions(person) == [online]


def test_staff_of_another_district_cannot_record(client, records) -> None:
    client.login("canbo.b")
    response = client.post_form(f"/people/{records['chair_a'].id}/completions", _form(records))
    assert response.status_code == 404
    assert client.get(f"/people/{records['chair_a'].id}/completions").status_code == 404
    assert _completions(records["chair_a"]) == []
    with pytest.raises(external.RecordError) as caught:
        external.record_external(records["staff_b"], records["chair_a"], records["wages"],
                                 day=days_ago(1), class_name="Lớp")  # fmt: skip
    assert caught.value.code == "out_of_scope"


def test_the_person_page_lists_every_module_with_source_and_date(client, records) -> None:
    person = records["chair_a"]
    progress.record_completion(person, records["awareness"], CompletionSource.ONLINE,
                               when=datetime(2021, 10, 5, 3, tzinfo=VN_TZ))  # fmt: skip
    db.session.commit()
    client.login("canbo.a")
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Vị trí, vai trò của công đoàn" in page and "05/10/2021" in page
    assert "trực tuyến" in page
    assert "Tiền lương" in page and "Chưa hoàn thành." in page
    assert "Ghi nhận hoàn thành tại lớp học" in page


def test_revoke_with_a_reason_is_audited(client, records, caplog) -> None:
    done = external.record_external(records["staff_a"], records["chair_a"], records["wages"],
                                    day=days_ago(2), class_name="Lớp tỉnh")  # fmt: skip
    db.session.commit()
    client.login("canbo.a")
    assert client.post_form(f"/completions/{done.id}/revoke", {"reason": " "}).status_code == 400
    assert done.revoked_dt is None
    with caplog.at_level(logging.INFO, logger="lms.audit"):
        response = client.post_form(f"/completions/{done.id}/revoke",
                                    {"reason": "Nhầm người, không dự lớp"})  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(done)
    assert done.revoked_dt is not None and done.revoked_by_id == records["staff_a"].id
    assert done.revoke_reason == "Nhầm người, không dự lớp"
    [line] = [r for r in caplog.records if r.event == "completion.revoked"]
    assert "Nhầm người, không dự lớp" in line.getMessage() and "canbo.a" in line.getMessage()
    page = client.get(f"/people/{records['chair_a'].id}").get_data(as_text=True)
    assert "Nhầm người, không dự lớp" in page
    again = client.post_form(f"/completions/{done.id}/revoke", {"reason": "Lần nữa"})
    assert again.status_code == 400


def test_staff_of_another_district_cannot_revoke(client, records) -> None:
    done = external.record_external(records["admin"], records["chair_a"], records["wages"],
                                    day=days_ago(2), class_name="Lớp tỉnh")  # fmt: skip
    db.session.commit()
    client.login("canbo.b")
    assert client.post_form(f"/completions/{done.id}/revoke", {"reason": "x"}).status_code == 404
    db.session.refresh(done)
    assert done.revoked_dt is None


def test_a_revoked_module_can_be_recorded_again(records) -> None:
    first = external.record_external(records["admin"], records["chair_a"], records["wages"],
                                     day=days_ago(9), class_name="Lớp A")  # fmt: skip
    external.revoke(records["admin"], first, "Sai ngày")
    second = external.record_external(records["admin"], records["chair_a"], records["wages"],
                                      day=days_ago(8), class_name="Lớp A")  # fmt: skip
    assert second.id != first.id
    assert progress.completions_of(records["chair_a"], [records["wages"].id]) == {
        records["wages"].id: second
    }


def test_revoking_a_class_leaves_the_module_done_online_meanwhile(records) -> None:
    """Finishing the lessons while the class stood wrote nothing; revoked, the class gives way
    to the online work. A module with nothing to do online is not completed that way."""
    person, wages = records["chair_a"], records["wages"]
    lesson = make_lesson(wages)
    first = external.record_external(records["admin"], person, wages, day=days_ago(9),
                                     class_name="Lớp A")  # fmt: skip
    progress.complete_lesson(person, lesson)
    external.revoke(records["admin"], first, "Không dự lớp")
    [online] = progress.completions_of(person, [wages.id]).values()
    assert online.source == CompletionSource.ONLINE and online.id != first.id
    aware = external.record_external(records["admin"], person, records["awareness"],
                                     day=days_ago(9), class_name="Lớp A")  # fmt: skip
    external.revoke(records["admin"], aware, "Không dự lớp")
    assert progress.completions_of(person, [records["awareness"].id]) == {}


@pytest.mark.parametrize(
    ("data", "expected"),
    [(PDF, "pdf"), (PNG, "png"), (b"\xff\xd8\xff\xe0 jpeg", "jpg"), (b"GIF89a", None),
     (b"<svg/>", None), (b"", None)],
)  # fmt: skip
def test_sniffing_accepts_pdf_png_and_jpeg_only(data, expected) -> None:
    found = evidence.sniff(data)
    assert (found[0] if found else None) == expected


def test_evidence_names_outside_the_store_find_nothing(app_ctx) -> None:
    for name in ("../../etc/passwd", "x.pdf", "0" * 32 + ".html", None, "a\x00.pdf"):
        assert evidence.path_of(name) is None


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_evidence_goes_with_a_record_that_is_not_committed(app_ctx, records, end) -> None:
    # A request that fails after the file is written (rolled back, or its session closed at
    # teardown) leaves no file that no completion points to.
    done = external.record_external(
        records["admin"], records["chair_a"], records["wages"], day=days_ago(3),
        class_name="Lớp tỉnh", evidence=PDF,
    )  # fmt: skip
    path = evidence.path_of(done.evidence_file)
    assert path is not None and path.read_bytes() == PDF
    getattr(db.session, end)()
    assert not path.exists()
    assert _completions(records["chair_a"]) == []


def test_committed_evidence_stays_after_later_rollbacks(app_ctx, records) -> None:
    done = external.record_external(
        records["admin"], records["chair_a"], records["wages"], day=days_ago(3),
        class_name="Lớp tỉnh", evidence=PNG,
    )  # fmt: skip
    name = done.evidence_file
    db.session.commit()
    db.session.rollback()
    db.session.close()
    path = evidence.path_of(name)
    assert path is not None and path.read_bytes() == PNG
