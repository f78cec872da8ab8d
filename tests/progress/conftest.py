"""A province with districts A and B, their staff and chairs, and a course of two modules (plus
an older course with a module of the same slug) for external completions and statements."""

from datetime import date, timedelta

import pytest

from lms.accounts.models import Role
from lms.db import db, vn_today
from tests.factories import make_course, make_module, make_tree, make_user

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


@pytest.fixture
def records(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    old = make_course("chu-de-2020", title="Chủ đề năm 2020", year=2020)
    old_wages = make_module(old, "tien-luong", title="Tiền lương (2020)")
    course = make_course("chu-de-2021", title="Chủ đề năm 2021", year=2021)
    world = {
        "tree": tree,
        "course": course,
        "awareness": make_module(course, "nhan-thuc", kind="awareness", position=0,
                                 title="Vị trí, vai trò của công đoàn"),
        "wages": make_module(course, "tien-luong", position=1, title="Tiền lương"),
        "old_course": old,
        "old_wages": old_wages,
        "admin": make_user("quantri", role=Role.ADMIN),
        "staff_a": make_user("canbo.a", role=Role.STAFF, org=tree["a"]),
        "staff_b": make_user("canbo.b", role=Role.STAFF, org=tree["b"]),
        "chair_a": make_user(phone="0912000001", org=tree["a_union"], position="chair",
                             full_name="Nguyễn Thị Hồng Nhung"),
        "state_a": make_user("chu.tich.a2", org=tree["a_state"], position="chair",
                             full_name="Trần Văn Bình"),
        "chair_b": make_user(phone="0912000002", org=tree["b_union"], position="chair",
                             full_name="Lê Văn Cường"),
        "trainer": make_user("giangvien", role=Role.TRAINER),
    }  # fmt: skip
    db.session.commit()
    return world


def days_ago(n: int) -> date:
    return vn_today() - timedelta(days=n)
