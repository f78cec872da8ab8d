"""Home pages per role, health check, error pages and security headers."""

from pathlib import Path

import pytest

from lms import create_app
from lms.accounts.models import Role
from lms.db import db
from tests.conftest import Client, base_config
from tests.factories import make_tree, make_user


@pytest.fixture
def people(app):
    tree = make_tree()
    make_user("quantri", role=Role.ADMIN, full_name="Quản Trị")
    make_user("canbo.a", role=Role.STAFF, org=tree["a"])
    make_user("giangvien", role=Role.TRAINER, full_name="Nguyễn Minh Tâm")
    make_user(phone="0912000001", org=tree["a_union"], position="chair", full_name="Chủ Tịch Ngoài")
    make_user(
        phone="0912000002", org=tree["a_state"], position="chair", full_name="Chủ Tịch Nhà Nước"
    )
    make_user(
        phone="0912000003", org=tree["a_union"], position="group_leader", full_name="Tổ Trưởng"
    )
    db.session.commit()
    return tree


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("0912000001", "bốn chuyên đề kỹ năng: tiền lương"),
        ("0912000002", "cần hoàn thành chuyên đề định hướng"),
        ("0912000003", "không bắt buộc phải học"),
        ("giangvien", "Khu vực giảng viên"),
        ("canbo.a", "chưa có chủ tịch (cần bổ sung)"),
        ("quantri", "Toàn hệ thống"),
    ],
)
def test_each_role_sees_its_own_home(client, people, username: str, expected: str) -> None:
    client.login(username)
    response = client.get("/")
    assert response.status_code == 200
    assert expected in response.get_data(as_text=True)


def test_staff_home_counts_their_area(client, people) -> None:
    client.login("canbo.a")
    page = client.get("/").get_data(as_text=True)
    assert "LĐLĐ huyện A" in page
    assert '<span class="stat">2</span> công đoàn cơ sở' in page


def test_healthz_when_the_database_answers(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_healthz_and_pages_when_the_database_is_down(tmp_path: Path) -> None:
    missing = (
        tmp_path / "no-such-folder" / "lms.db"
    )  # SQLite cannot open a file in a missing folder
    app = create_app(base_config(f"sqlite:///{missing}"))
    app.test_client_class = Client
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "db": "unavailable"}
    page = client.post("/login", data={"username": "a", "password": "b"})
    # The CSRF check comes first; with a token, the sign-in itself reaches the database.
    token = client.csrf_token()
    page = client.post(
        "/login", data={"username": "abc", "password": "mot-cau-dai", "csrf_token": token}
    )
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "Hệ thống tạm thời gián đoạn" in text and "Khi liên hệ hỗ trợ" in text
    assert "Traceback" not in text and "sqlite" not in text.lower()
    with app.app_context():
        db.engine.dispose()


def test_not_found_page_is_vietnamese_and_plain(client) -> None:
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/console", "/.git/HEAD", "/static/", "/static/../lms/config.py"])
def test_no_debugger_listing_or_source(client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_unhandled_error_gives_a_generic_page(database_url: str, caplog) -> None:
    app = create_app(
        {
            **base_config(database_url),
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": False,
            "SECRET_KEY": "a-long-test-key-not-default",
        }
    )

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Hệ thống gặp lỗi" in text and "secret internals" not in text
    assert any(
        r.levelname == "ERROR" and "unhandled error" in r.getMessage() for r in caplog.records
    )
    with app.app_context():
        db.engine.dispose()


def test_security_headers_on_pages(client) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for part in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-Id"]


def test_static_files_are_cacheable_and_served_locally(client) -> None:
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page.replace("http://127.0.0.1", "") and "https://" not in page


def test_privacy_and_help_pages(client) -> None:
    assert "Ai được xem" in client.get("/privacy").get_data(as_text=True)
    assert "Quên mật khẩu" in client.get("/help").get_data(as_text=True)
