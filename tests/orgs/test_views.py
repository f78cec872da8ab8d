"""Units and people over HTTP: district scope, role checks, bad input that changes nothing."""

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.db import db
from lms.orgs.models import Organization
from tests.factories import make_tree, make_user


@pytest.fixture
def world(app):
    tree = make_tree()
    people = {
        "admin": make_user("quantri", role=Role.ADMIN),
        "staff_a": make_user("canbo.a", role=Role.STAFF, org=tree["a"]),
        "staff_b": make_user("canbo.b", role=Role.STAFF, org=tree["b"]),
        "learner_a": make_user(phone="0912000001", org=tree["a_union"], position="chair"),
        "learner_b": make_user(phone="0912000002", org=tree["b_union"], position="chair"),
        "trainer": make_user("giangvien", role=Role.TRAINER),
    }
    db.session.commit()
    return tree, people


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_staff_of_a_sees_a_and_not_b(client, world) -> None:
    tree, people = world
    client.login("canbo.a")
    assert client.get("/orgs/").headers["Location"] == "/orgs/A"
    page = client.get("/orgs/A").get_data(as_text=True)
    assert "Đơn vị A-1" in page and "Đơn vị B-1" not in page
    assert client.get("/orgs/A-1").status_code == 200
    for code in ("B", "B-1", "P"):
        assert client.get(f"/orgs/{code}").status_code == 404
    assert client.get(f"/people/{people['learner_b'].id}").status_code == 404
    assert client.get(f"/people/{people['learner_a'].id}").status_code == 200
    listing = client.get("/people/").get_data(as_text=True)
    assert people["learner_a"].full_name in listing and people["learner_b"].full_name not in listing


def test_phone_numbers_shown_to_staff_in_scope(client, world) -> None:
    client.login("canbo.a")
    assert "0912000001" in client.get("/orgs/A-1").get_data(as_text=True)


def test_vacancy_is_flagged(client, world) -> None:
    client.login("canbo.a")
    assert "chưa có chủ tịch" in client.get("/orgs/A-2").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/orgs/", "/orgs/A", "/people/", "/orgs/new", "/people/new"])
def test_learners_and_trainers_get_403_on_staff_pages(client, world, path: str) -> None:
    for username in ("0912000001", "giangvien"):
        client.login(username)
        response = client.get(path)
        assert response.status_code == 403
        assert "không có quyền" in response.get_data(as_text=True)
        client.logout()


def test_anonymous_is_sent_to_sign_in(client, world) -> None:
    response = client.get("/orgs/A")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_staff_cannot_create_units_or_grant_roles(client, world) -> None:
    tree, people = world
    client.login("canbo.a")
    assert (
        client.post_form("/orgs/new", {"code": "A-9", "name": "X", "kind": "district"}).status_code
        == 403
    )
    response = client.post_form(
        f"/people/{people['learner_a'].id}",
        {"full_name": "X", "role": "admin", "org": "A", "active": "y"},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, people["learner_a"].id).role == Role.LEARNER
    assert db.session.get(User, people["staff_a"].id).role == Role.STAFF


def test_admin_creates_a_unit(client, world) -> None:
    client.login("quantri")
    response = client.post_form(
        "/orgs/new",
        {
            "code": "A-3",
            "name": "CĐCS Công ty Mới",
            "kind": "grassroots",
            "parent": "A",
            "sector": "non_state",
            "member_count": "1000",
        },
    )
    assert response.status_code == 302
    org = db.session.scalars(sa.select(Organization).where(Organization.code == "A-3")).one()
    assert org.member_count == 1000 and org.path.startswith(world[0]["a"].path)


def test_bad_unit_keeps_what_was_typed_and_writes_nothing(client, world) -> None:
    client.login("quantri")
    before = _count(Organization)
    response = client.post_form(
        "/orgs/new",
        {
            "code": "A-4",
            "name": "Công ty Bình An",
            "kind": "grassroots",
            "parent": "KHONG-CO",
            "sector": "non_state",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Không có đơn vị nào mang mã “KHONG-CO”." in page
    assert 'value="Công ty Bình An"' in page
    assert _count(Organization) == before


def test_admin_creates_an_account_with_a_position(client, world) -> None:
    client.login("quantri")
    response = client.post_form(
        "/people/new",
        {
            "full_name": "Đặng Văn Ước",
            "phone": "+84 978 111 222",
            "role": "learner",
            "org": "B-1",
            "position": "vice_chair",
            "password": "tam-thoi-123",
        },
    )
    assert response.status_code == 302
    user = db.session.scalars(sa.select(User).where(User.username == "0978111222")).one()
    assert user.must_change_password and user.phone == "0978111222"


def test_malformed_phone_is_refused_clearly(client, world) -> None:
    client.login("quantri")
    before = _count(User)
    response = client.post_form(
        "/people/new",
        {
            "full_name": "Lê Văn Tám",
            "phone": "0912 34",
            "role": "learner",
            "password": "tam-thoi-123",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "không phải số điện thoại Việt Nam" in page and 'value="Lê Văn Tám"' in page
    assert _count(User) == before


def test_mass_assignment_fields_are_ignored(client, world) -> None:
    tree, people = world
    client.login("quantri")
    client.post_form(
        f"/people/{people['learner_a'].id}",
        {
            "full_name": "Tên mới",
            "role": "learner",
            "org": "A-1",
            "active": "y",
            "password_hash": "x",
            "username": "hacked",
            "id": "1",
        },
    )
    db.session.expire_all()
    user = db.session.get(User, people["learner_a"].id)
    assert user.full_name == "Tên mới" and user.username == "0912000001"


def test_admin_cannot_demote_themselves(client, world) -> None:
    tree, people = world
    client.login("quantri")
    response = client.post_form(
        f"/people/{people['admin'].id}",
        {"full_name": "Q", "role": "learner", "org": "", "active": "y"},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, people["admin"].id).role == Role.ADMIN


def test_disabling_an_account_signs_it_out(app, client, world) -> None:
    tree, people = world
    victim = app.test_client()
    victim.login("0912000002")
    assert victim.get("/account").status_code == 200
    client.login("quantri")
    client.post_form(
        f"/people/{people['learner_b'].id}", {"full_name": "X", "role": "learner", "org": "B-1"}
    )
    assert victim.get("/account").status_code == 302


def test_staff_moved_to_another_district_are_rescoped_at_the_next_request(app, client, world):
    """SESS-04: nothing of the old scope is cached in the signed-in session."""
    tree, people = world
    staff = app.test_client()
    staff.login("canbo.a")
    assert staff.get("/orgs/A").status_code == 200 and staff.get("/orgs/B").status_code == 404
    client.login("quantri")
    moved = client.post_form(
        f"/people/{people['staff_a'].id}",
        {"full_name": "Cán bộ A", "role": "staff", "org": "B", "active": "y"},
    )
    assert moved.status_code == 302
    assert staff.get("/orgs/A").status_code == 404 and staff.get("/orgs/B").status_code == 200
    people = staff.get("/people/").get_data(as_text=True)
    assert "0912000002" in people and "0912000001" not in people


def test_role_change_is_logged(client, world, caplog) -> None:
    tree, people = world
    client.login("quantri")
    client.post_form(
        f"/people/{people['trainer'].id}",
        {"full_name": "GV", "role": "staff", "org": "A", "active": "y"},
    )
    events = [r for r in caplog.records if getattr(r, "event", "") == "role.changed"]
    assert events and "old=trainer new=staff" in events[0].getMessage()
