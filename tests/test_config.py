"""Settings from the environment, the secret-key guard and production cookie flags (SESS-01)."""

import pytest

from lms import create_app
from lms.db import db
from tests.conftest import Client, base_config
from tests.factories import make_user


def test_refuses_to_start_without_a_secret_key(database_url: str) -> None:
    for key in ("", "dev-only-insecure-key"):
        with pytest.raises(RuntimeError, match="LMS_SECRET_KEY"):
            create_app({**base_config(database_url), "TESTING": False, "SECRET_KEY": key})


def test_settings_come_from_lms_prefixed_environment(monkeypatch, database_url: str) -> None:
    monkeypatch.setenv("LMS_SECRET_KEY", "from-the-environment-1234567890")
    monkeypatch.setenv("LMS_DATABASE_URL", database_url)
    monkeypatch.setenv("LMS_JITSI_DOMAIN", "meet.example.vn")
    monkeypatch.setenv("LMS_SECURE_COOKIES", "false")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment-1234567890"
    assert app.config["JITSI_DOMAIN"] == "meet.example.vn"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    with app.app_context():
        db.engine.dispose()


def test_default_database_is_a_sqlite_file_in_the_instance_folder(monkeypatch) -> None:
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/lms.db"


def test_production_cookies_are_secure_host_only_and_lax(app, database_url: str) -> None:
    make_user("canbo.sx")
    db.session.commit()
    prod = create_app(
        {
            **base_config(database_url),
            "SECURE_COOKIES": True,
            "TESTING": False,
            "SECRET_KEY": "production-like-key-0123456789",
        }
    )
    prod.test_client_class = Client
    client = prod.test_client()
    response = client.post_form(
        "/login",
        {"username": "canbo.sx", "password": "mat-khau-thu-nghiem"},
        base_url="https://lms.example.vn",
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-lms=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain=" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    assert prod.config["WTF_CSRF_TIME_LIMIT"] is None  # a long quiz never loses its token (CSRF-04)
    with prod.app_context():
        db.engine.dispose()
