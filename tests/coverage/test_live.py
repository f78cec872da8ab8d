"""A module that requires live attendance completes only once a trainer confirms the
attendance, and the coverage figures move with it (issue [4/7], counted here)."""

from datetime import datetime

from lms.accounts.models import Role
from lms.coverage import services
from lms.coverage.services import Params
from lms.db import db, vn_today
from lms.live import services as live
from lms.live.providers import LiveSettings
from lms.progress import services as progress
from tests.factories import make_course, make_lesson, make_module, make_org, make_user


def awareness(actor) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    ctx = services.resolve(actor, Params(as_of=vn_today().isoformat()))
    target = services.targets(ctx)["awareness"]
    return target.done, target.eligible


def test_confirmed_attendance_completes_the_module_and_moves_coverage(app) -> None:
    district = make_org("H", kind="district")
    union = make_org("H-1", kind="grassroots", parent=district, sector="state", members=20)
    staff = make_user(role=Role.STAFF, org=district)
    chair = make_user(org=union, position="chair")
    course = make_course("co-buoi-hoc", year=2040)
    module = make_module(course, "nhan-thuc", kind="awareness", requires_live=True)
    lesson = make_lesson(module, "bai-1")
    trainer = make_user(role=Role.TRAINER)
    assert progress.complete_lesson(chair, lesson) is None  # every lesson done, live missing
    assert awareness(staff) == (0, 1)
    session = live.schedule(
        None, module, title="Buổi học trực tuyến", start_local=datetime(2040, 3, 1, 19, 30),
        minutes=60, provider="jitsi", trainer=None, settings=LiveSettings(),
    )  # fmt: skip
    live.confirm_attendance(None, session, [trainer.id])  # someone else's attendance
    assert awareness(staff) == (0, 1)
    assert live.confirm_attendance(None, session, [chair.id]) == 1
    db.session.flush()
    assert progress.completions_of(chair, [module.id])[module.id].source.value == "online"
    assert awareness(staff) == (1, 1)
