"""`lms org create` and `lms user create`: success, and clear Vietnamese refusals."""

import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.db import db
from lms.orgs.models import Officer, Organization


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_create_a_tree_and_people_from_the_command_line(runner) -> None:
    for args in (
        ["org", "create", "--code", "TN", "--name", "LĐLĐ tỉnh Tây Ninh", "--kind", "province"],
        [
            "org",
            "create",
            "--code",
            "DMC",
            "--name",
            "LĐLĐ huyện Dương Minh Châu",
            "--kind",
            "district",
            "--parent",
            "TN",
        ],
        [
            "org",
            "create",
            "--code",
            "CD1",
            "--name",
            "CĐCS Công ty May",
            "--kind",
            "grassroots",
            "--parent",
            "DMC",
            "--sector",
            "non_state",
            "--members",
            "1200",
        ],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--username",
            "+84 912 345 678",
            "--password",
            "mot-cau-dai",
            "--role",
            "learner",
            "--org",
            "CD1",
            "--position",
            "chair",
            "--full-name",
            "Nguyễn Thị Hồng Nhung",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(sa.select(User).where(User.username == "0912345678")).one()
    assert user.phone == "0912345678" and user.password_hash.startswith("$argon2id$")
    officer = db.session.scalars(sa.select(Officer).where(Officer.user_id == user.id)).one()
    assert officer.position == "chair"
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--username",
            "canbo.dmc",
            "--password",
            "mot-cau-dai",
            "--role",
            "staff",
            "--org",
            "DMC",
        ]
    )
    assert result.exit_code == 0
    assert (
        db.session.scalars(sa.select(User).where(User.username == "canbo.dmc")).one().role
        == Role.STAFF
    )


def test_unknown_org_code_is_refused_in_vietnamese(runner) -> None:
    before = _count(User)
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--username",
            "ai.do",
            "--password",
            "mot-cau-dai",
            "--org",
            "KHONG-CO",
        ]
    )
    assert result.exit_code == 1
    assert "Không có đơn vị nào mang mã “KHONG-CO”." in result.output
    assert _count(User) == before


def test_malformed_phone_is_refused(runner) -> None:
    result = runner.invoke(args=["user", "create", "--phone", "0912 345", "--full-name", "X"])
    assert result.exit_code == 1
    assert "không phải số điện thoại Việt Nam" in result.output


def test_unknown_parent_and_usage_errors(runner) -> None:
    before = _count(Organization)
    result = runner.invoke(
        args=[
            "org",
            "create",
            "--code",
            "X",
            "--name",
            "X",
            "--kind",
            "district",
            "--parent",
            "NOPE",
        ]
    )
    assert result.exit_code == 1 and "NOPE" in result.output
    assert runner.invoke(args=["org", "create", "--code", "X"]).exit_code == 2
    assert (
        runner.invoke(args=["user", "create", "--role", "emperor", "--username", "a.b"]).exit_code
        == 2
    )
    assert _count(Organization) == before


def test_duplicate_username_is_refused(runner) -> None:
    args = ["user", "create", "--username", "trung.ten", "--password", "mot-cau-dai"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "đã có tài khoản" in result.output.lower()
