"""Signing in and out over HTTP: messages, throttling, sessions that really end, safe redirects."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import LoginFailure, Role, User, UserSession
from lms.db import db, utcnow
from tests.factories import PASSWORD, make_org, make_user


@pytest.fixture
def learner(app):
    union = make_org("CD1", kind="grassroots", sector="non_state", members=120)
    user = make_user(
        phone="0912 345 678", full_name="Nguyễn Thị Hồng Nhung", org=union, position="chair"
    )
    db.session.commit()
    return user


def _failures() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) or 0


@pytest.mark.parametrize("typed", ["0912345678", "0912 345 678", "+84912345678", "84912345678"])
def test_sign_in_with_any_spelling_of_the_phone(client, learner, typed: str) -> None:
    response = client.login(typed)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Nguyễn Thị Hồng Nhung" in page
    assert "Chủ tịch" in page or "Chairperson" in page


def test_wrong_password_and_unknown_user_get_the_same_answer(client, learner) -> None:
    wrong = client.login("0912345678", "not-the-password")
    unknown = client.login("0999999999", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    message = "Tên đăng nhập hoặc mật khẩu không đúng."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    # What was typed is kept; the password is not sent back.
    assert 'value="0912345678"' in wrong.get_data(as_text=True)
    assert "not-the-password" not in wrong.get_data(as_text=True)


def test_missing_csrf_token_is_refused_and_changes_nothing(client, learner) -> None:
    response = client.post_form(
        "/login", {"username": "0912345678", "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0
    assert client.get("/").status_code == 302  # still signed out


def test_token_from_another_session_is_refused(app, client, learner) -> None:
    other = app.test_client()
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', other.get("/help").get_data(as_text=True)
    )
    response = client.post(
        "/login",
        data={"username": "0912345678", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 400


def test_sixth_failure_for_one_account_is_throttled_with_retry_after(client, learner) -> None:
    statuses = [client.login("0912345678", "sai-mat-khau").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    blocked = client.login("0912345678", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Bạn đã nhập sai quá nhiều lần" in blocked.get_data(as_text=True)


def test_throttling_is_per_account_and_address_pair(client, learner) -> None:
    for _ in range(5):
        client.login("0912345678", "sai-mat-khau")
    # The real user on another network can still sign in.
    other_ip = client.post_form(
        "/login",
        {"username": "0912345678", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other_ip.status_code == 302


def test_one_shared_address_does_not_lock_out_other_people(client, learner) -> None:
    for n in range(6):
        assert client.login(f"nguoi{n}", "sai-mat-khau").status_code == 401
    assert client.login("0912345678").status_code == 302  # carrier NAT: same IP, other account


def test_failures_are_counted_in_the_database(client, learner) -> None:
    client.login("0912345678", "sai-mat-khau")
    assert _failures() == 1
    client.login("0912345678")
    assert _failures() == 0  # a success clears that account's failures from that address


def test_old_failures_fall_out_of_the_window(client, learner) -> None:
    long_ago = utcnow() - timedelta(hours=1)
    db.session.add_all(
        [LoginFailure(account="0912345678", ip="127.0.0.1", created_dt=long_ago) for _ in range(10)]
    )
    db.session.commit()
    assert client.login("0912345678").status_code == 302


def test_copied_cookie_is_useless_after_logout(app, client, learner) -> None:
    client.login("0912345678")
    cookie = client.get_cookie("lms").value
    assert client.get("/account").status_code == 200
    client.logout()
    thief = app.test_client()
    thief.set_cookie("lms", cookie)
    replay = thief.get("/account")
    assert replay.status_code == 302
    assert "/login" in replay.headers["Location"]


def test_session_is_reissued_at_sign_in(client, learner) -> None:
    client.get("/login")
    before = client.get_cookie("lms").value
    client.login("0912345678")
    assert client.get_cookie("lms").value != before


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aSet-Cookie:x=1",
    ],
)
def test_next_never_leaves_the_site(client, learner, target: str) -> None:
    response = client.post_form(
        f"/login?next={target}", {"username": "0912345678", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/" or (location.startswith("/") and not location.startswith("//"))
    assert "evil" not in location


def test_next_to_a_local_page_is_followed(client, learner) -> None:
    response = client.post_form(
        "/login", {"username": "0912345678", "password": PASSWORD, "next": "/account"}
    )
    assert response.headers["Location"] == "/account"


def test_logout_needs_post(client, learner) -> None:
    client.login("0912345678")
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200


def test_tampered_or_empty_cookie_is_anonymous(app, client, learner) -> None:
    client.login("0912345678")
    value = client.get_cookie("lms").value
    for forged in (value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"), "", "garbage"):
        other = app.test_client()
        other.set_cookie("lms", forged)
        assert other.get("/account").status_code == 302


def test_disabled_account_is_signed_out_at_next_request(client, learner) -> None:
    client.login("0912345678")
    db.session.execute(sa.update(User).where(User.id == learner.id).values(active=False))
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_idle_session_expires(app, client, learner) -> None:
    client.login("0912345678")
    stale = utcnow() - timedelta(days=app.config["SESSION_IDLE_DAYS"] + 1)
    db.session.execute(sa.update(UserSession).values(last_seen_dt=stale))
    db.session.commit()
    response = client.get("/account")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def _session_cookie(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("lms=")]


def test_the_cookie_moves_on_with_the_hourly_touch_not_every_page(app, client, learner) -> None:
    client.login("0912345678")
    assert client.get("/account").status_code == 200
    assert _session_cookie(client.get("/account")) == []  # not re-signed on every page
    two_hours_ago = utcnow() - timedelta(hours=2)
    db.session.execute(sa.update(UserSession).values(last_seen_dt=two_hours_ago))
    db.session.commit()
    resent = _session_cookie(client.get("/account"))
    assert len(resent) == 1 and "Expires=" in resent[0]  # the expiry slides with activity
    db.session.expire_all()
    assert db.session.scalar(sa.select(UserSession.last_seen_dt)) > two_hours_ago
    assert _session_cookie(client.get("/account")) == []


class TestPasswordChange:
    def test_wrong_current_password_changes_nothing(self, client, learner) -> None:
        client.login("0912345678")
        before = learner.password_hash
        response = client.post_form(
            "/account/password",
            {
                "current_password": "sai-roi-nhe",
                "new_password": "mot-cau-moi-dai",
                "confirm": "mot-cau-moi-dai",
            },
        )
        assert response.status_code == 400
        assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(User, learner.id).password_hash == before

    def test_common_password_is_refused_with_a_message(self, client, learner) -> None:
        client.login("0912345678")
        response = client.post_form(
            "/account/password",
            {"current_password": PASSWORD, "new_password": "123456789", "confirm": "123456789"},
        )
        assert response.status_code == 400
        assert "quá phổ biến" in response.get_data(as_text=True)

    def test_change_ends_other_devices(self, app, client, learner) -> None:
        phone_b = app.test_client_class and app.test_client()
        phone_b.login("0912345678")
        client.login("0912345678")
        response = client.post_form(
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": "mot-cau-moi-dai",
                "confirm": "mot-cau-moi-dai",
                "end_others": "y",
            },
        )
        assert response.status_code == 302
        assert client.get("/account").status_code == 200  # this device stays signed in
        assert phone_b.get("/account").status_code == 302  # the other one is signed out
        client.logout()
        assert client.login("0912345678", "mot-cau-moi-dai").status_code == 302

    def test_first_sign_in_forces_a_new_password(self, client) -> None:
        user = make_user("canbo.moi", role=Role.STAFF, org=make_org("D9"))
        user.must_change_password = True
        db.session.commit()
        response = client.login("canbo.moi")
        assert response.headers["Location"] == "/account/password"
        assert client.get("/").headers["Location"] == "/account/password"


def test_language_choice_before_and_after_sign_in(client, learner) -> None:
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    client.post_form("/language", {"locale": "en", "next": "/login"})
    assert ">Sign in<" in client.get("/login").get_data(as_text=True)
    client.login("0912345678")
    client.post_form("/language", {"locale": "en"})
    db.session.expire_all()
    assert db.session.get(User, learner.id).locale == "en"
    client.delete_cookie("lang")
    assert "My account" in client.get("/account").get_data(as_text=True)  # remembered on the user


def test_browser_language_does_not_switch_the_interface(client) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="vi">' in page
