"""Certificates: issuing rules, owner-only pages, the public verify page and the PDF (EXP-07)."""

import logging
import re
import subprocess
import unicodedata
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_babel import gettext

from lms.catalog.models import ModuleStatus
from lms.db import db, utcnow
from lms.progress import certificates as certs
from lms.progress.models import Certificate, Completion, CompletionSource
from tests.factories import make_course, make_module, make_tree, make_user

NAME = "Nguyễn Thị Hồng Nhung"
HOSTILE = "<script>alert(1)</script>{{7*7}}"


def complete(user, module, *, when=None, revoked=False) -> Completion:  # type: ignore[no-untyped-def]
    completion = Completion(user_id=user.id, module_id=module.id, source=CompletionSource.ONLINE)
    completion.completed_dt = when or utcnow()
    db.session.add(completion)
    if revoked:
        revoke(completion)
    db.session.flush()
    return completion


def revoke(completion: Completion) -> None:
    completion.revoked_dt, completion.revoke_reason = utcnow(), "nhập nhầm"
    db.session.flush()


def all_certificates(user) -> list[Certificate]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(sa.select(Certificate).where(Certificate.user_id == user.id)))


@pytest.fixture
def course(app_ctx):  # type: ignore[no-untyped-def]
    """A course with an awareness module, two published core modules and a draft one."""
    course = make_course("chu-de-2021", title="Bồi dưỡng cán bộ công đoàn 2021")
    return {
        "course": course,
        "awareness": make_module(course, "nhan-thuc", kind="awareness", position=0),
        "wages": make_module(course, "tien-luong", title="Tiền lương và thương lượng"),
        "dialogue": make_module(course, "doi-thoai", position=2),
        "draft": make_module(course, "nhap", position=3, status=ModuleStatus.DRAFT),
    }


# -- issuing rules ------------------------------------------------------------------------------


def issue(user, module) -> list[int | None]:  # type: ignore[no-untyped-def]
    """Issue and return the module ids of what was new (None for the course certificate)."""
    return [c.module_id for c in certs.issue_certificates(user, module)]


def test_a_completed_module_gets_its_certificate(course) -> None:
    user = make_user()
    complete(user, course["wages"])
    (cert,) = certs.issue_certificates(user, course["wages"])
    assert (cert.module_id, cert.course_id) == (course["wages"].id, course["course"].id)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{10}", cert.code)


def test_a_revoked_completion_counts_for_nothing(course) -> None:
    user = make_user()
    complete(user, course["wages"], revoked=True)
    assert issue(user, course["wages"]) == []
    complete(user, course["dialogue"])
    assert issue(user, course["dialogue"]) == [course["dialogue"].id]  # no course certificate
    assert len(all_certificates(user)) == 1


def test_course_certificate_once_every_published_core_module_is_complete(course) -> None:
    user = make_user()
    complete(user, course["awareness"])
    assert issue(user, course["awareness"]) == [course["awareness"].id]
    complete(user, course["wages"])
    assert issue(user, course["wages"]) == [course["wages"].id]
    # The draft core module does not hold the course certificate back.
    complete(user, course["dialogue"])
    assert issue(user, course["dialogue"]) == [course["dialogue"].id, None]
    assert len(all_certificates(user)) == 4


def test_issuing_is_idempotent(course) -> None:
    user = make_user()
    complete(user, course["wages"])
    complete(user, course["dialogue"])
    # The core modules alone earn the course certificate; awareness is not part of it.
    assert issue(user, course["dialogue"]) == [course["dialogue"].id, None]
    assert issue(user, course["dialogue"]) == []
    assert issue(user, course["wages"]) == [course["wages"].id]  # not a second course one
    assert issue(user, course["wages"]) == []
    assert len(all_certificates(user)) == 3


def test_a_course_without_core_modules_gives_no_course_certificate(app_ctx) -> None:
    course = make_course("nhan-thuc-2022", title="Nhận thức", year=2022)
    awareness = make_module(course, "nhan-thuc", kind="awareness")
    user = make_user()
    complete(user, awareness)
    assert issue(user, awareness) == [awareness.id]


def test_certificates_are_dated_by_the_completion(course) -> None:
    user = make_user()
    when = datetime(2021, 11, 2, 17, 30, tzinfo=UTC)  # 00:30 on 3 November in Vietnam
    complete(user, course["wages"], when=when)
    complete(user, course["dialogue"], when=datetime(2021, 10, 1, 3, 0, tzinfo=UTC))
    issued = certs.issue_certificates(user, course["wages"])
    assert [c.issued_dt for c in issued] == [when, when]


def test_a_withdrawn_completion_takes_its_certificates_down(course) -> None:
    user = make_user()
    wages = complete(user, course["wages"])
    complete(user, course["dialogue"])
    module_cert, course_cert = certs.issue_certificates(user, course["dialogue"])
    certs.issue_certificates(user, course["wages"])
    assert len(certs.certificates_of(user)) == 3
    revoke(wages)
    assert certs.stands(module_cert)
    assert not certs.stands(course_cert)
    assert [c.module_id for c in certs.certificates_of(user)] == [course["dialogue"].id]
    complete(user, course["wages"])  # recorded again: the same certificates stand again
    assert issue(user, course["wages"]) == []
    assert len(certs.certificates_of(user)) == 3


def test_codes_are_found_in_any_case_and_only_for_their_owner(course) -> None:
    user, other = make_user(), make_user()
    complete(user, course["wages"])
    (cert,) = certs.issue_certificates(user, course["wages"])
    assert certs.get_by_code(f" {cert.code.lower()} ") is cert
    assert certs.get_by_code("X" * 200) is None
    assert certs.get_owned(user, cert.code) is cert
    assert certs.get_owned(other, cert.code) is None


# -- pages ------------------------------------------------------------------------------------


@pytest.fixture
def earned(app, course):  # type: ignore[no-untyped-def]
    """A chair with a module and a course certificate, and another learner."""
    tree = make_tree()
    owner = make_user(phone="0912345678", full_name=NAME, org=tree["a_union"], position="chair")
    make_user("hocvien.khac")
    complete(owner, course["wages"], when=datetime(2021, 11, 2, 17, 30, tzinfo=UTC))
    complete(owner, course["dialogue"], when=datetime(2021, 11, 2, 17, 30, tzinfo=UTC))
    module_cert, course_cert = certs.issue_certificates(owner, course["wages"])
    certs.issue_certificates(owner, course["dialogue"])
    db.session.commit()
    return {"owner": owner, "module": module_cert, "course": course_cert, "tree": tree}


def test_the_owner_sees_the_certificate(client, earned) -> None:
    client.login("0912345678")
    page = client.get(f"/certificates/{earned['course'].code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert NAME in html
    assert "Bồi dưỡng cán bộ công đoàn 2021" in html
    assert "03/11/2021" in html
    assert earned["course"].code in html
    assert 'src="data:image/svg+xml;base64,' in html
    assert f'href="/certificates/{earned["course"].code}.pdf"' in html
    assert f"http://127.0.0.1:5000/verify/{earned['course'].code}" in html
    module_page = client.get(f"/certificates/{earned['module'].code}").get_data(as_text=True)
    assert "Tiền lương và thương lượng" in module_page


def _normalised(response, code: str) -> str:  # type: ignore[no-untyped-def]
    """The body with the request id, the requested code (echoed in the footer) and the CSRF
    token (it carries a timestamp, so two requests a second apart differ) blanked."""
    body = response.get_data(as_text=True).replace(code, "CODE")
    body = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="TOKEN"', body)
    return re.sub(r"[0-9a-f]{16}", "ID", body)


@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_anyone_else_gets_the_same_404_as_a_missing_code(client, earned, suffix) -> None:
    client.login("hocvien.khac")
    theirs = client.get(f"/certificates/{earned['course'].code}{suffix}")
    missing = client.get(f"/certificates/ZZZZZZZZZZ{suffix}")
    assert theirs.status_code == missing.status_code == 404
    assert len(theirs.data) == len(missing.data)
    assert _normalised(theirs, earned["course"].code) == _normalised(missing, "ZZZZZZZZZZ")
    assert NAME not in theirs.get_data(as_text=True)


@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_anonymous_visitors_are_sent_to_sign_in(client, earned, suffix) -> None:
    response = client.get(f"/certificates/{earned['course'].code}{suffix}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_verify_is_public_and_shows_only_name_course_and_date(client, earned) -> None:
    page = client.get(f"/verify/{earned['module'].code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert NAME in html
    assert "Bồi dưỡng cán bộ công đoàn 2021" in html
    assert "Tiền lương và thương lượng" in html
    assert "03/11/2021" in html
    for private in ("0912345678", earned["tree"]["a_union"].name, "A-1"):
        assert private not in html
    assert page.headers["X-Robots-Tag"].startswith("noindex")


def test_verify_an_unknown_code_says_so_in_vietnamese(app, client) -> None:
    page = client.get("/verify/KHONGCOMA2")
    assert page.status_code == 404
    with app.test_request_context():
        assert gettext("Certificate not found") in page.get_data(as_text=True)


def test_a_hostile_name_is_shown_literally(client, earned) -> None:
    earned["owner"].full_name = HOSTILE
    db.session.commit()
    client.login("0912345678")
    for path in (f"/verify/{earned['course'].code}", f"/certificates/{earned['course'].code}"):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in html
        assert "<script>alert(1)" not in html


def test_a_withdrawn_certificate_is_marked_and_has_no_pdf(client, earned) -> None:
    for completion in db.session.scalars(sa.select(Completion)):
        revoke(completion)
    db.session.commit()
    code = earned["module"].code
    client.login("0912345678")
    assert f"/certificates/{code}.pdf" not in client.get(f"/certificates/{code}").get_data(True)
    assert client.get(f"/certificates/{code}.pdf").status_code == 404
    assert 'class="verify-status verify-void"' in client.get(f"/verify/{code}").get_data(True)


# -- PDF (EXP-07, INJ-04, INJ-07) ---------------------------------------------------------------


def poppler(tool: str, pdf: bytes, tmp_path, *args: str) -> str:  # type: ignore[no-untyped-def]
    """Run a poppler-utils tool (pdftotext, pdffonts, pdfdetach) over the PDF; its output."""
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
                          capture_output=True, check=True).stdout.decode("utf-8")  # fmt: skip


def test_the_pdf_embeds_a_font_and_round_trips_the_nfc_name(client, earned, tmp_path) -> None:
    earned["owner"].full_name = unicodedata.normalize("NFD", NAME)  # stored decomposed
    db.session.commit()
    client.login("0912345678")
    response = client.get(f"/certificates/{earned['module'].code}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert f'-{earned["module"].code}.pdf"' in disposition
    assert "filename*=UTF-8''" in disposition
    assert disposition.isascii()
    fonts = poppler("pdffonts", response.data, tmp_path)
    embedded = [line for line in fonts.splitlines()[2:] if " yes " in line]
    assert any("Noto-Serif" in line or "DejaVu" in line for line in embedded), fonts
    text = " ".join(poppler("pdftotext", response.data, tmp_path).split())
    assert NAME in text
    assert "Tiền lương và thương lượng" in text
    assert earned["module"].code in text


def test_the_pdf_shows_a_hostile_name_literally(client, earned, tmp_path) -> None:
    earned["owner"].full_name = HOSTILE
    db.session.commit()
    client.login("0912345678")
    response = client.get(f"/certificates/{earned['course'].code}.pdf")
    assert HOSTILE in "".join(poppler("pdftotext", response.data, tmp_path).split())


def test_the_renderer_fetches_no_file_or_network_url(app_ctx, tmp_path, caplog) -> None:
    html = (
        "<html><body><p>trước</p>"
        '<img src="file:///etc/passwd"><link rel="attachment" href="file:///etc/passwd">'
        '<img src="http://127.0.0.1:9/x.png"><img src="http://169.254.169.254/latest/meta-data/">'
        '<p style="background: url(file:///etc/hostname)">sau</p></body></html>'
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = certs.render_pdf(html)
    text = poppler("pdftotext", pdf, tmp_path)
    assert "trước" in text
    assert "root:" not in text
    assert poppler("pdfdetach", pdf, tmp_path, "-list").startswith("0 embedded files")
    refused = [r.getMessage() for r in caplog.records if "disallowed protocol" in r.getMessage()]
    assert len(refused) >= 4, refused


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "http://127.0.0.1:5432/", "http://169.254.169.254/", "https://x.vn/"],
)
def test_the_fetcher_refuses_everything_but_data_urls(url: str) -> None:
    with pytest.raises(ValueError, match="disallowed protocol"):
        certs.pdf_fetcher().fetch(url)


def test_attachment_header_survives_quotes_semicolons_and_line_breaks() -> None:
    header = certs.attachment_header('Chứng nhận "Đối thoại";\r\nSet-Cookie: x=1', "pdf")
    assert header == (
        'attachment; filename="Chung-nhan-Doi-thoai-Set-Cookie-x-1.pdf"; '
        "filename*=UTF-8''Ch%E1%BB%A9ng%20nh%E1%BA%ADn%20%22%C4%90%E1%BB%91i%20tho%E1%BA%A1i%22"
        "%3B%20Set-Cookie%3A%20x%3D1.pdf"
    )
