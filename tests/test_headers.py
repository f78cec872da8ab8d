"""HDR-01, HDR-02, XSS-06: the security headers on every kind of response the app gives (an HTML
page, a signed-in page, JSON, a static file, a download, 400, 403, 404, 405, 413, 500 and 503),
HSTS in production, no version banner, TRACE refused and no CORS grant to another origin."""

import re
from pathlib import Path

import pytest

from lms import create_app
from lms.accounts.models import Role
from lms.db import db
from tests.conftest import TEST_PASSWORD, Client, base_config
from tests.factories import make_user

CSP_PARTS = ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'",
             "frame-ancestors 'none'", "form-action 'self'")  # fmt: skip


def assert_secure(response, *, cacheable: bool = False) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    for part in CSP_PARTS:
        assert part in csp, (part, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Server" not in headers and "X-Powered-By" not in headers
    assert "Access-Control-Allow-Origin" not in headers
    if not cacheable:
        assert headers["Cache-Control"] == "no-store"


@pytest.fixture
def prod(database_url: str):  # type: ignore[no-untyped-def]
    """The app as in production: secure cookies, errors answered by its own handlers."""
    app = create_app(
        base_config(database_url)
        | {
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": False,
            "SECURE_COOKIES": True,
            "SECRET_KEY": "a-production-like-key-0123456789",
        }  # fmt: skip
    )

    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("internals")

    app.test_client_class = Client
    yield app
    with app.app_context():
        db.engine.dispose()


def test_every_kind_of_response_carries_the_headers(app, prod) -> None:
    make_user("hocvien.h")
    make_user("giangvien.h", role=Role.TRAINER)
    db.session.commit()
    client = prod.test_client()
    https = {"base_url": "https://lms.example.vn"}
    anonymous = {
        "page": client.get("/login", **https),
        "json": client.get("/healthz", **https),
        "404": client.get("/khong-co", **https),
        "405": client.get("/logout", **https),
        "400 (CSRF)": client.post("/login", data={}, **https),
        "413": client.post("/login", data=b"x" * (26 * 1024 * 1024), **https),
        "500": client.get("/boom", **https),
        "redirect": client.get("/", **https),
    }
    for name, response in anonymous.items():
        assert_secure(response), name
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000"), name
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/help", **https).text)
    assert token
    signed_in = client.post(
        "/login",
        data={"username": "hocvien.h", "password": TEST_PASSWORD, "csrf_token": token[1]},
        headers={"Referer": "https://lms.example.vn/login"},  # checked over HTTPS
        **https,
    )
    assert signed_in.status_code == 302
    for path in ("/", "/account", "/live/", "/orgs/"):
        assert_secure(client.get(path, **https))
    static = client.get("/static/app.css", **https)
    assert_secure(static, cacheable=True)
    static.close()


def test_the_503_page_carries_the_headers(tmp_path: Path) -> None:
    app = create_app(base_config(f"sqlite:///{tmp_path / 'missing' / 'lms.db'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert_secure(response)
    with app.app_context():
        db.engine.dispose()


def test_downloads_carry_the_headers_and_nosniff(app, client) -> None:
    """A course export (zip) from a trainer: an attachment, never rendered as a page."""
    from tests.factories import make_course

    trainer = make_user("giangvien.t", role=Role.TRAINER)
    course = make_course("khoa-tai")
    from lms.catalog.models import CourseTrainer

    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    db.session.commit()
    client.login("giangvien.t")
    response = client.get("/teach/khoa-tai/export.zip")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert_secure(response)
    response.close()


def test_trace_is_refused_and_no_origin_is_granted(client) -> None:
    """HDR-02: TRACE gets 405; a cross-origin request with credentials gets no CORS grant."""
    assert client.open("/", method="TRACE").status_code == 405
    response = client.get("/healthz", headers={"Origin": "https://evil.example", "Cookie": "lms=x"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.open(
        "/login",
        method="OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_join_page_lets_its_form_go_to_the_meeting_and_nowhere_else(app, client) -> None:
    """Browsers hold a form's redirect to the CSP's form-action: the join button of a meeting
    that opens in its own page (public meet.jit.si here) must be allowed to land there. An
    embedded meeting (self-hosted Jitsi) keeps form-action 'self' alone."""
    from tests.factories import make_tree
    from tests.test_access_matrix import _live_session_of, _quiz_taught_by

    tree = make_tree()
    trainer = make_user("giangvien", role=Role.TRAINER)
    _quiz_taught_by(trainer)
    live = _live_session_of(trainer)
    make_user(phone="0912000001", org=tree["a_union"], position="chair")
    db.session.commit()
    client.login("0912000001")
    csp = client.get(f"/live/{live}").headers["Content-Security-Policy"]
    assert "form-action 'self' https://meet.jit.si" in csp
    assert_secure(client.get(f"/live/{live}"))
    app.config["JITSI_DOMAIN"] = "meet.ldld.example.vn"
    try:
        csp = client.get(f"/live/{live}").headers["Content-Security-Policy"]
    finally:
        app.config["JITSI_DOMAIN"] = "meet.jit.si"
    assert csp.endswith("form-action 'self'")
