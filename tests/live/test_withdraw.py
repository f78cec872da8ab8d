"""Withdrawing a confirmation made by mistake, and what it does to completions."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.catalog.models import CourseTrainer
from lms.db import db
from lms.live import services
from lms.live.models import Attendance
from lms.live.providers import LiveSettings
from lms.progress import services as progress
from lms.progress.models import Completion, CompletionSource
from tests.factories import make_course, make_lesson, make_module, make_tree, make_user

NOW = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    course = make_course("khoa")
    module = make_module(course, "song")
    live_module = make_module(course, "song-truc-tuyen", position=2, requires_live=True)
    lesson = make_lesson(live_module)
    trainer = make_user("giangvien", role=Role.TRAINER)
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    make_user("giangvien2", role=Role.TRAINER)
    chair = make_user("chutich_a", org=tree["a_union"], position="chair")
    db.session.commit()

    def schedule(target, **kwargs):  # type: ignore[no-untyped-def]
        return services.schedule(
            trainer, target, title=kwargs.pop("title", "Lớp trực tiếp"),
            start_local=datetime(2026, 3, 1, 19, 30), minutes=60, provider="jitsi",
            settings=LiveSettings(), **kwargs,
        )  # fmt: skip

    return {"module": module, "live_module": live_module, "lesson": lesson, "trainer": trainer,
            "chair": chair, "schedule": schedule}  # fmt: skip


def _standing(user, module) -> list[Completion]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            sa.select(Completion).where(
                Completion.user_id == user.id,
                Completion.module_id == module.id,
                Completion.revoked_dt.is_(None),
            )
        )
    )


def test_withdrawing_a_covering_session_revokes_its_live_completion(world) -> None:
    session = world["schedule"](world["module"], covers_module=True)
    chair, trainer = world["chair"], world["trainer"]
    services.join(chair, session, LiveSettings(), now=NOW)
    services.confirm_attendance(trainer, session, [chair.id], now=NOW)
    [completion] = _standing(chair, world["module"])
    assert services.withdraw_attendance(trainer, session, chair.id) is True
    assert _standing(chair, world["module"]) == []
    assert "Lớp trực tiếp" in completion.revoke_reason and completion.revoked_by_id == trainer.id
    row = db.session.scalars(sa.select(Attendance)).one()
    assert row.confirmed_dt is None and row.join_count == 1  # the join history stays
    assert services.withdraw_attendance(trainer, session, chair.id) is False


def test_another_covering_session_or_an_online_completion_keeps_it(world) -> None:
    first = world["schedule"](world["module"], covers_module=True)
    second = world["schedule"](world["module"], covers_module=True, title="Lớp bù")
    chair, trainer = world["chair"], world["trainer"]
    services.confirm_attendance(trainer, first, [chair.id], now=NOW)
    services.confirm_attendance(trainer, second, [chair.id], now=NOW)
    services.withdraw_attendance(trainer, first, chair.id)
    assert len(_standing(chair, world["module"])) == 1

    online = make_user("hoc_truc_tuyen")
    progress.record_completion(online, world["module"], CompletionSource.ONLINE)
    services.confirm_attendance(trainer, first, [online.id], now=NOW)
    services.withdraw_attendance(trainer, first, online.id)
    assert [c.source for c in _standing(online, world["module"])] == [CompletionSource.ONLINE]


def test_withdrawing_the_required_attendance_revokes_the_module(world) -> None:
    session = world["schedule"](world["live_module"])
    chair, trainer = world["chair"], world["trainer"]
    progress.complete_lesson(chair, world["lesson"])
    services.confirm_attendance(trainer, session, [chair.id], now=NOW)
    assert len(_standing(chair, world["live_module"])) == 1
    services.withdraw_attendance(trainer, session, chair.id)
    assert _standing(chair, world["live_module"]) == []
    services.confirm_attendance(trainer, session, [chair.id], now=NOW)  # confirmed again
    assert len(_standing(chair, world["live_module"])) == 1


def test_withdraw_over_http_for_the_course_trainer_only(client, world) -> None:
    session = world["schedule"](world["module"], covers_module=True)
    services.confirm_attendance(world["trainer"], session, [world["chair"].id], now=NOW)
    db.session.commit()
    url = f"/live/{session.public_id}/attendance/withdraw"
    client.login("giangvien2")
    assert client.post_form(url, {"withdraw": world["chair"].id}).status_code == 403
    client.logout()
    client.login("giangvien")
    page = client.get(f"/live/{session.public_id}/attendance").get_data(as_text=True)
    assert "rút xác nhận" in page
    response = client.post_form(url, {"withdraw": world["chair"].id}, follow_redirects=True)
    assert "Đã rút xác nhận" in response.get_data(as_text=True)
    assert _standing(world["chair"], world["module"]) == []
    again = client.post_form(url, {"withdraw": world["chair"].id}, follow_redirects=True)
    assert "chưa được xác nhận" in again.get_data(as_text=True)
    assert client.post_form(url, {"withdraw": "x"}).status_code == 400


def test_withdrawing_a_covering_session_leaves_the_online_completion_earned_since(world) -> None:
    """The covering session completed the module first, so finishing its lessons later wrote
    nothing; once the confirmation is withdrawn, that online work completes the module."""
    module = world["live_module"]
    module.requires_live = False
    session = world["schedule"](module, covers_module=True)
    chair, trainer = world["chair"], world["trainer"]
    services.confirm_attendance(trainer, session, [chair.id], now=NOW)
    progress.complete_lesson(chair, world["lesson"])
    assert [c.source for c in _standing(chair, module)] == [CompletionSource.LIVE]
    services.withdraw_attendance(trainer, session, chair.id)
    assert [c.source for c in _standing(chair, module)] == [CompletionSource.ONLINE]
