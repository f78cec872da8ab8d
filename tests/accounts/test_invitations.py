"""Invitations and reset links over HTTP: first sign-in by link or code, single use, expiry,
revocation, throttled codes, scope, sessions ended, secrets never stored or logged
(AUTH-07, AUTH-09, SESS-05, LOG-02)."""

import hashlib
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import Invitation, InvitationKind, Role, User
from lms.db import db, utcnow
from tests.conftest import Client
from tests.factories import make_tree, make_user

NEW_PASSWORD = "mot-cau-rat-dai"  # noqa: S105
LINK = re.compile(r"http://[^/\s<]+/invite/([A-Za-z0-9_-]{40,})")
CODE = re.compile(r'class="slip-code">([A-Z0-9]{5}-[A-Z0-9]{5})<')


def _imported(phone: str, union, position: str) -> User:  # type: ignore[no-untyped-def]
    return make_user(phone=phone, org=union, position=position, password=None)


@pytest.fixture
def world(app):
    tree = make_tree()
    people = {
        "admin": make_user("quantri", role=Role.ADMIN),
        "staff_a": make_user("canbo.a", role=Role.STAFF, org=tree["a"]),
        "staff_b": make_user("canbo.b", role=Role.STAFF, org=tree["b"]),
        # Imported officers: no password yet.
        "new_a": make_user(
            phone="0912000001", org=tree["a_union"], position="chair", password=None
        ),
        "new_a2": make_user(
            phone="0912000003", org=tree["a_union"], position="core_member", password=None
        ),
        "old_a": make_user(phone="0912000002", org=tree["a_state"], position="chair"),
        "new_b": make_user(
            phone="0912000009", org=tree["b_union"], position="chair", password=None
        ),
    }
    db.session.commit()
    return tree, people


def _client(app) -> Client:
    app.test_client_class = Client
    return app.test_client()


def _issue(app, staff: str, user_id: int) -> tuple[str, str]:
    """Staff ask for a link for one person; return (token, code) read off the page."""
    client = _client(app)
    client.login(staff)
    page = client.post_form(f"/people/{user_id}/invite")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return LINK.search(html).group(1), CODE.search(html).group(1)


def _fresh(user_id: int) -> User:
    """The account as the requests left it (they commit in sessions of their own)."""
    db.session.expire_all()
    return db.session.get(User, user_id)


def _set_password(client: Client, password: str = NEW_PASSWORD):
    return client.post_form("/invite/password", {"new_password": password, "confirm": password})


def test_first_sign_in_by_link(app, world) -> None:
    _tree, people = world
    assert _client(app).login("0912000001").status_code == 401  # no password yet (AUTH-07)
    token, _code = _issue(app, "canbo.a", people["new_a"].id)
    client = _client(app)
    opened = client.get(f"/invite/{token}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/invite/password"
    form = client.get("/invite/password").get_data(as_text=True)
    assert people["new_a"].full_name in form and token not in form
    done = _set_password(client)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/account").status_code == 200  # signed in
    user = _fresh(people["new_a"].id)
    assert user.password_hash.startswith("$argon2id$") and not user.must_change_password
    assert _client(app).login("0912000001", NEW_PASSWORD).status_code == 302


def test_first_sign_in_by_code_typed_loosely(app, world) -> None:
    _tree, people = world
    _token, code = _issue(app, "canbo.a", people["new_a"].id)
    client = _client(app)
    typed = " " + code.lower().replace("-", " ") + " "
    entered = client.post_form("/invite", {"code": typed})
    assert entered.status_code == 302 and entered.headers["Location"] == "/invite/password"
    assert _set_password(client).status_code == 302
    assert _fresh(people["new_a"].id).password_hash


def test_a_link_works_once(app, world) -> None:
    _tree, people = world
    token, code = _issue(app, "canbo.a", people["new_a"].id)
    client = _client(app)
    client.get(f"/invite/{token}")
    _set_password(client)
    again = _client(app).get(f"/invite/{token}")
    assert again.status_code == 410 and "đã được dùng" in again.get_data(as_text=True)
    by_code = _client(app).post_form("/invite", {"code": code})
    assert by_code.status_code == 400 and "đã được dùng" in by_code.get_data(as_text=True)


def test_a_second_tab_cannot_use_the_link_again(app, world) -> None:
    _tree, people = world
    token, _code = _issue(app, "canbo.a", people["new_a"].id)
    first, second = _client(app), _client(app)
    first.get(f"/invite/{token}")
    second.get(f"/invite/{token}")
    assert _set_password(first).status_code == 302
    late = _set_password(second, "mot-mat-khau-khac")
    assert late.status_code == 302 and late.headers["Location"] == "/invite"
    assert _client(app).login("0912000001", "mot-mat-khau-khac").status_code == 401


def test_an_expired_link_is_refused(app, world) -> None:
    _tree, people = world
    token, _code = _issue(app, "canbo.a", people["new_a"].id)
    invitation = db.session.scalars(sa.select(Invitation)).one()
    assert invitation.expires_dt - invitation.created_dt == timedelta(days=14)
    invitation.expires_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = _client(app).get(f"/invite/{token}")
    assert page.status_code == 410 and "hết hạn" in page.get_data(as_text=True)


def test_a_new_invitation_revokes_the_old_one(app, world) -> None:
    _tree, people = world
    old_token, old_code = _issue(app, "canbo.a", people["new_a"].id)
    new_token, _new_code = _issue(app, "canbo.a", people["new_a"].id)
    page = _client(app).get(f"/invite/{old_token}")
    assert page.status_code == 410 and "liên kết mới hơn" in page.get_data(as_text=True)
    assert _client(app).post_form("/invite", {"code": old_code}).status_code == 400
    assert _client(app).get(f"/invite/{new_token}").status_code == 302


def test_a_token_is_bound_to_its_person(app, world) -> None:
    _tree, people = world
    token, _code = _issue(app, "canbo.a", people["new_a"].id)
    client = _client(app)
    client.get(f"/invite/{token}")
    # A forged user id in the form is ignored: the invitation says whose password is set.
    client.post_form(
        "/invite/password",
        {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "user_id": people["new_a2"].id},
    )
    assert _fresh(people["new_a"].id).password_hash
    assert _fresh(people["new_a2"].id).password_hash is None
    assert _client(app).get("/invite/" + token[:-1] + "x").status_code == 404


def test_wrong_codes_are_throttled(app, world) -> None:
    _tree, people = world
    _token, code = _issue(app, "canbo.a", people["new_a"].id)
    client = _client(app)
    for _ in range(app.config["INVITE_CODE_MAX_FAILURES"]):
        assert client.post_form("/invite", {"code": "AAAAA-BBBBB"}).status_code == 400
    blocked = client.post_form("/invite", {"code": code})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "sai mã" in blocked.get_data(as_text=True)


def test_password_rules_apply_and_keep_the_invitation(app, world) -> None:
    _tree, people = world
    token, _code = _issue(app, "canbo.a", people["new_a"].id)
    client = _client(app)
    client.get(f"/invite/{token}")
    short = _set_password(client, "ngan")
    assert short.status_code == 400 and "ít nhất 8" in short.get_data(as_text=True)
    assert _set_password(client).status_code == 302


def test_setting_the_password_ends_other_sessions(app, world) -> None:
    _tree, people = world
    phone_b = _client(app)
    assert phone_b.login("0912000002").status_code == 302  # signed in on another phone
    token, _code = _issue(app, "canbo.a", people["old_a"].id)
    assert db.session.scalars(sa.select(Invitation)).one().kind == InvitationKind.RESET
    phone_a = _client(app)
    phone_a.get(f"/invite/{token}")
    assert _set_password(phone_a).status_code == 302
    assert phone_b.get("/account").status_code == 302  # back to sign-in (SESS-05)
    assert phone_a.get("/account").status_code == 200


def test_staff_cannot_issue_links_outside_their_scope_or_for_staff(app, world) -> None:
    _tree, people = world
    client = _client(app)
    client.login("canbo.b")
    assert client.post_form(f"/people/{people['new_a'].id}/invite").status_code == 404
    client = _client(app)
    client.login("canbo.a")
    assert client.post_form(f"/people/{people['staff_a'].id}/invite").status_code == 403
    assert client.post_form("/orgs/B-1/slips").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
    admin = _client(app)
    admin.login("quantri")
    assert admin.post_form(f"/people/{people['staff_a'].id}/invite").status_code == 200
    assert admin.post_form(f"/people/{people['admin'].id}/invite").status_code == 403


def test_slips_for_a_union_and_who_has_activated(app, world) -> None:
    _tree, people = world
    client = _client(app)
    client.login("canbo.a")
    page = client.post_form("/orgs/A/slips").get_data(as_text=True)
    assert len(CODE.findall(page)) == 2  # the two officers of A without a password
    assert people["new_b"].full_name not in page and "data:image/svg+xml;base64," in page
    assert len(CODE.findall(client.post_form("/orgs/A/slips").get_data(as_text=True))) == 0
    again = client.post_form("/orgs/A/slips", {"include_invited": "y"}).get_data(as_text=True)
    token = LINK.search(again).group(1)
    assert len(CODE.findall(again)) == 2
    pending = client.get("/people/?status=pending").get_data(as_text=True)
    assert people["new_a"].full_name in pending and people["old_a"].full_name not in pending
    visitor = _client(app)
    visitor.get(f"/invite/{token}")
    _set_password(visitor)
    listing = client.get("/people/?status=activated").get_data(as_text=True)
    activated = re.findall(r'people/\d+">([^<]+)</a>', listing)
    assert people["old_a"].full_name in activated
    assert {people["new_a"].full_name, people["new_a2"].full_name} & set(activated)


def test_secrets_are_stored_hashed_and_never_logged(app, world, caplog) -> None:
    _tree, people = world
    caplog.set_level(logging.INFO, logger="lms")
    token, code = _issue(app, "canbo.a", people["new_a"].id)
    client = _client(app)
    client.post_form("/invite", {"code": "WRONG-CODE1"})
    client.post_form("/invite", {"code": code})
    _set_password(client)
    row = db.session.scalars(sa.select(Invitation)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert row.used_dt is not None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "invitation.used" in {getattr(r, "event", "") for r in caplog.records}
    for secret in (token, code, code.replace("-", "")):
        assert secret not in logged


def test_a_disabled_account_cannot_use_its_link(app, world) -> None:
    _tree, people = world
    token, _code = _issue(app, "canbo.a", people["new_a"].id)
    _fresh(people["new_a"].id).active = False
    db.session.commit()
    assert _client(app).get(f"/invite/{token}").status_code == 403


def test_the_code_page_and_the_login_page_point_to_each_other(client, world) -> None:
    assert "/invite" in client.get("/login").get_data(as_text=True)
    page = client.get("/invite").get_data(as_text=True)
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    assert client.get("/invite/password").headers["Location"] == "/invite"


def test_a_hostile_name_is_shown_as_text_on_slips(app, world) -> None:
    _tree, people = world
    user = _fresh(people["new_a2"].id)
    user.full_name = "<script>alert(1)</script>{{7*7}}"
    db.session.commit()
    client = _client(app)
    client.login("canbo.a")
    page = client.post_form(f"/people/{user.id}/invite").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in page
