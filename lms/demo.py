"""`lms demo`: a believable federation to try the product with, safe to load twice."""

import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from lms.accounts.models import User
from lms.db import db
from lms.orgs import services as orgs

DEMO_PASSWORD = "hoc-tap-2021"  # noqa: S105 - printed to the person who loads the demo

# code, name, kind, parent, sector, members
UNITS = [
    ("TN", "LĐLĐ tỉnh Tây Ninh", "province", None, None, None),
    ("DMC", "LĐLĐ huyện Dương Minh Châu", "district", "TN", None, None),
    ("GD", "LĐLĐ huyện Gò Dầu", "district", "TN", None, None),
    ("DMC-MAYPH", "CĐCS Công ty TNHH May Phú Hòa", "grassroots", "DMC", "non_state", 1250),
    ("DMC-GOMP", "CĐCS Công ty TNHH Chế biến gỗ Minh Phát", "grassroots", "DMC", "non_state", 420),
    ("DMC-GIAYTP", "CĐCS Công ty TNHH Giày Tân Phước", "grassroots", "DMC", "non_state", 2300),
    ("DMC-TPAK", "CĐCS Công ty TNHH Thực phẩm An Khang", "grassroots", "DMC", "non_state", 180),
    ("DMC-THPT", "CĐCS Trường THPT Dương Minh Châu", "grassroots", "DMC", "state", 85),
    ("DMC-UBND", "CĐCS Cơ quan Ủy ban nhân dân xã Suối Đá", "grassroots", "DMC", "state", 38),
    ("GD-DTHL", "CĐCS Công ty TNHH Điện tử Hòa Lợi", "grassroots", "GD", "non_state", 1800),
    ("GD-CSTN", "CĐCS Công ty Cổ phần Cao su Thanh Nhàn", "grassroots", "GD", "non_state", 650),
    ("GD-BBPT", "CĐCS Công ty TNHH Bao bì Phước Thạnh", "grassroots", "GD", "non_state", 95),
    ("GD-DETKH", "CĐCS Công ty TNHH Dệt may Kim Hưng", "grassroots", "GD", "non_state", 1050),
    ("GD-TTYT", "CĐCS Trung tâm Y tế huyện Gò Dầu", "grassroots", "GD", "state", 210),
    ("GD-THCS", "CĐCS Trường THCS Thanh Phước", "grassroots", "GD", "state", 46),
]

# username or phone, full name, role, unit, position, may sign in with the demo password
PEOPLE = [
    ("admin", "Quản trị hệ thống", "admin", None, None, True),
    ("canbo.tinh", "Lê Thị Thu Hà", "staff", "TN", None, True),
    ("canbo.dmc", "Trần Văn Phúc", "staff", "DMC", None, True),
    ("canbo.godau", "Phạm Ngọc Lan", "staff", "GD", None, True),
    ("giangvien", "Nguyễn Minh Tâm", "trainer", None, None, True),
    ("0901000001", "Nguyễn Thị Hồng Nhung", "learner", "DMC-MAYPH", "chair", True),
    ("0901000002", "Võ Văn Hậu", "learner", "DMC-MAYPH", "vice_chair", False),
    ("0901000003", "Đặng Thị Mỹ", "learner", "DMC-MAYPH", "group_leader", False),
    ("0901000004", "Huỳnh Văn Ước", "learner", "DMC-GOMP", "chair", False),
    ("0901000005", "Lâm Thị Kiều", "learner", "DMC-GOMP", "collaborator", False),
    ("0901000006", "Trương Quốc Bảo", "learner", "DMC-GIAYTP", "chair", False),
    ("0901000007", "Phan Thị Diệu", "learner", "DMC-GIAYTP", "core_member", False),
    ("0901000008", "Ngô Văn Tài", "learner", "DMC-TPAK", "chair", False),
    ("0901000009", "Lê Văn Sang", "learner", "DMC-THPT", "chair", True),
    ("0901000010", "Bùi Thị Hạnh", "learner", "DMC-UBND", "chair", False),
    ("0901000011", "Đỗ Minh Khang", "learner", "GD-DTHL", "chair", False),
    ("0901000012", "Châu Thị Ngọc", "learner", "GD-DTHL", "vice_chair", False),
    ("0901000013", "Tạ Văn Lực", "learner", "GD-CSTN", "chair", False),
    ("0901000014", "Mai Thị Thanh", "learner", "GD-BBPT", "chair", False),
    ("0901000015", "Lý Văn Hùng", "learner", "GD-TTYT", "chair", False),
    ("0901000016", "Hồ Thị Yến", "learner", "GD-THCS", "chair", False),
    ("0901000017", "Kiều Văn Nam", "learner", "GD-THCS", "group_leader", False),
]
# GD-DETKH has no chair on record: the demo shows a vacancy.


@click.command("demo")
@click.option("--force", is_flag=True, help="Load even when secure cookies say this is production.")
@with_appcontext
def demo_command(force: bool) -> None:
    """Load a demo federation (a province, two districts, twelve unions, one account per role)."""
    if current_app.config["SECURE_COOKIES"] and not force:
        click.echo(
            "Lỗi: máy chủ đang ở chế độ vận hành (LMS_SECURE_COOKIES bật); dữ liệu mẫu có "
            "mật khẩu công khai. Dùng --force nếu thật sự muốn nạp.",
            err=True,
        )
        sys.exit(1)
    load_demo()
    db.session.commit()
    click.echo("Dữ liệu mẫu đã sẵn sàng. Đăng nhập tại http://127.0.0.1:5000/login")
    click.echo(f"Mật khẩu của mọi tài khoản mẫu: {DEMO_PASSWORD}")
    for username, name, role, unit, position, can_sign_in in PEOPLE:
        if can_sign_in:
            click.echo(
                f"  {role:8} {username:12} {name}" + (f" ({position}, {unit})" if position else "")
            )


def load_demo() -> None:
    """Create the demo units and people that are missing; leave existing ones as they are."""
    for code, name, kind, parent, sector, members in UNITS:
        if orgs.get_org_by_code(code) is None:
            orgs.create_org(
                code=code,
                name=name,
                kind=kind,
                parent=orgs.require_org(parent) if parent else None,
                sector=sector,
                member_count=members,
            )
    for username, name, role, unit, position, can_sign_in in PEOPLE:
        if _user_exists(username):
            continue
        phone = username if username[0].isdigit() else None
        orgs.create_person(
            actor=None,
            full_name=name,
            role=role,
            username=None if phone else username,
            phone=phone,
            org_code=unit,
            position=position,
            password=DEMO_PASSWORD if can_sign_in else None,
        )
    _assign_demo_trainer()


def _assign_demo_trainer() -> None:
    """The demo trainer teaches every imported course, so the authoring area has something in it."""
    from lms.catalog.models import Course, CourseTrainer

    trainer = db.session.scalars(sa.select(User).where(User.username == "giangvien")).first()
    if trainer is None:
        return
    taught = set(
        db.session.scalars(
            sa.select(CourseTrainer.course_id).where(CourseTrainer.user_id == trainer.id)
        )
    )
    for course_id in db.session.scalars(sa.select(Course.id)):
        if course_id not in taught:
            db.session.add(CourseTrainer(course_id=course_id, user_id=trainer.id))


def _user_exists(username: str) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(sa.or_(User.username == username, User.phone == username))
        )
    )
