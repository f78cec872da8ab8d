"""A hand-built district whose coverage figures were counted by hand (see EXPECTED)."""

from datetime import UTC, datetime

import pytest

from lms.accounts.models import Role
from lms.db import db
from lms.progress import services as progress
from lms.progress.models import CompletionSource
from tests.factories import make_course, make_module, make_org, make_tree, make_user

AS_OF = "2021-11-03"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Hand-counted for district A on 03/11/2021. Grassroots unions of A:
#   A-1 non-state 1200 (province)  chair done everything          -> aware, trained
#   A-2 state       40             chair aware (external, class 1/10) -> aware
#   A-3 non-state  300 (district)  aware 23:30 on 3/11 in Vietnam; core 2 on 10/11 (after)
#   A-4 non-state 1000 (province)  chair never activated, nothing
#   A-5 state       60             vacancy
#   A-6 non-state  999 (district)  vacancy
#   A-7 non-state   50 (district)  aware 00:30 on 4/11 in Vietnam (17:30 UTC on 3/11): not yet;
#                                  a core completion revoked
EXPECTED = {
    "awareness": {"eligible": 7, "done": 3, "percent": 42.9},
    "trained_non_state": {"eligible": 5, "done": 1, "percent": 20.0},
    "trained_by_district": {"eligible": 3, "done": 0, "percent": 0.0},
    "trained_by_province": {"eligible": 2, "done": 1, "percent": 50.0},
}
# A week later A-3's chair has every core module and A-7's awareness counts.
EXPECTED_LATER = {
    "awareness": {"eligible": 7, "done": 4, "percent": 57.1},
    "trained_non_state": {"eligible": 5, "done": 2, "percent": 40.0},
    "trained_by_district": {"eligible": 3, "done": 1, "percent": 33.3},
    "trained_by_province": {"eligible": 2, "done": 1, "percent": 50.0},
}


@pytest.fixture
def scenario(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    a, b = tree["a"], tree["b"]
    units = {
        "A-1": tree["a_union"],
        "A-2": tree["a_state"],
        "A-3": make_org("A-3", kind="grassroots", parent=a, sector="non_state", members=300,
                        name="Công đoàn Công ty Dương Minh"),
        "A-4": make_org("A-4", kind="grassroots", parent=a, sector="non_state", members=1000),
        "A-5": make_org("A-5", kind="grassroots", parent=a, sector="state", members=60),
        "A-6": make_org("A-6", kind="grassroots", parent=a, sector="non_state", members=999),
        "A-7": make_org("A-7", kind="grassroots", parent=a, sector="non_state", members=50),
        "B-1": tree["b_union"],
    }  # fmt: skip
    course = make_course("chu-de-2021", title="Chủ đề năm 2021", year=2021)
    aware = make_module(course, "nhan-thuc", kind="awareness", position=1)
    wage = make_module(course, "tien-luong", kind="core", position=2)
    talks = make_module(course, "thuong-luong", kind="core", position=3)
    admin = make_user("quantri", role=Role.ADMIN)
    staff_a = make_user("canbo.a", role=Role.STAFF, org=a)
    staff_b = make_user("canbo.b", role=Role.STAFF, org=b)

    def chair(code: str, phone: str, name: str, **kwargs):  # type: ignore[no-untyped-def]
        return make_user(phone=phone, org=units[code], position="chair", full_name=name, **kwargs)

    def done(user, module, when: str, source=CompletionSource.ONLINE):  # type: ignore[no-untyped-def]
        return progress.record_completion(user, module, source, when=utc(when))

    c1 = chair("A-1", "0912000001", "Nguyễn Văn An")
    done(c1, aware, "2021-10-02T03:00:00")
    done(c1, wage, "2021-10-15T08:00:00", CompletionSource.LIVE)
    done(c1, talks, "2021-10-20T02:00:00", CompletionSource.EXTERNAL)
    c2 = chair("A-2", "0912000002", "Trần Thị Bình")
    done(c2, aware, "2021-10-01T01:00:00", CompletionSource.EXTERNAL)
    c3 = chair("A-3", "0912000003", "Lê Văn Cường")
    done(c3, aware, "2021-11-03T16:30:00")  # 23:30 on 3 November in Vietnam
    done(c3, wage, "2021-10-25T09:00:00")
    done(c3, talks, "2021-11-10T09:00:00", CompletionSource.EXTERNAL)  # after the as-of day
    c4 = chair("A-4", "0912000004", "Phạm Thị Dung", password=None)
    c7 = chair("A-7", "0912000007", "Hoàng Văn Em")
    done(c7, aware, "2021-11-03T17:30:00")  # 00:30 on 4 November in Vietnam
    progress.revoke_completion(done(c7, wage, "2021-10-10T03:00:00"), admin, "Ghi nhầm người")
    vice = make_user(phone="0912000011", org=units["A-1"], position="vice_chair")
    done(vice, aware, "2021-10-05T03:00:00")
    b1 = make_user(phone="0912000021", org=units["B-1"], position="chair", full_name="Đặng Văn B")
    for module in (aware, wage, talks):
        done(b1, module, "2021-10-01T03:00:00")
    db.session.commit()
    return {
        "course": course,
        "modules": {"nhan-thuc": aware, "tien-luong": wage, "thuong-luong": talks},
        "units": units,
        "chairs": {"A-1": c1, "A-2": c2, "A-3": c3, "A-4": c4, "A-7": c7, "B-1": b1},
        "admin": admin,
        "staff_a": staff_a,
        "staff_b": staff_b,
    }
