"""The live page for every role, editing and cancelling a session, and the text to share."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.catalog.models import CourseTrainer
from lms.db import db, utcnow
from lms.live import services
from lms.live.models import LiveAudience, LiveSession
from lms.live.providers import LiveSettings
from tests.factories import make_course, make_module, make_tree, make_user


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    course = make_course("khoa")
    module = make_module(course, "song", title="Đối thoại tại nơi làm việc")
    trainer = make_user("giangvien", role=Role.TRAINER)
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    make_user("giangvien2", role=Role.TRAINER)  # teaches nothing
    make_user("chutich_a", org=tree["a_union"], position="chair")
    make_user("chutich_b", org=tree["b_union"], position="chair")
    make_user("canbo.a", role=Role.STAFF, org=tree["a"])
    make_user("canbo.b", role=Role.STAFF, org=tree["b"])
    start = (utcnow() + timedelta(days=2)).astimezone(services.VN).replace(tzinfo=None)
    start = start.replace(hour=19, minute=30, second=0, microsecond=0)

    def schedule(**kwargs):  # type: ignore[no-untyped-def]
        values = {"title": "Đối thoại định kỳ", "start_local": start, "minutes": 90,
                  "provider": "jitsi", "audience_codes": ["A-1"],
                  "settings": LiveSettings()}  # fmt: skip
        values.update(kwargs)
        return services.schedule(trainer, module, **values)

    session = schedule()
    db.session.commit()
    return {**tree, "session": session, "schedule": schedule, "start": start}


def _page(client, user: str, url: str):  # type: ignore[no-untyped-def]
    client.login(user)
    return client.get(url)


@pytest.mark.parametrize(
    ("user", "listed"),
    [("chutich_a", True), ("chutich_b", False), ("canbo.a", True), ("canbo.b", False),
     ("giangvien", True), ("giangvien2", False)],  # fmt: skip
)
def test_the_live_page_lists_what_concerns_each_person(client, world, user, listed) -> None:
    page = _page(client, user, "/live/").get_data(as_text=True)
    assert ("Đối thoại định kỳ" in page) is listed
    assert world["session"].location not in page  # the room name never appears in a list


def test_staff_in_scope_see_the_share_text_but_cannot_join(client, world) -> None:
    session = world["session"]
    page = _page(client, "canbo.a", f"/live/{session.public_id}").get_data(as_text=True)
    assert "Chia sẻ buổi học" in page and "Đối thoại tại nơi làm việc" in page
    assert f"http://127.0.0.1:5000/live/{session.public_id}" in page  # LMS_BASE_URL, not the host
    assert "19:30 ngày" in page and "(giờ Việt Nam), 90 phút" in page
    assert "Vào phòng học" not in page and session.location not in page
    refused = client.post_form(f"/live/{session.public_id}/join")
    assert refused.status_code == 403 and session.location not in refused.get_data(as_text=True)


def test_learners_get_no_share_box_and_other_districts_get_403(client, world) -> None:
    session = world["session"]
    page = _page(client, "chutich_a", f"/live/{session.public_id}").get_data(as_text=True)
    assert "Vào phòng học" in page and "Chia sẻ buổi học" not in page
    client.logout()
    assert _page(client, "canbo.b", f"/live/{session.public_id}").status_code == 403


def _edit_form(world, **overrides):  # type: ignore[no-untyped-def]
    day = world["start"].strftime("%d/%m/%Y")
    data = {"title": "Đối thoại (đổi giờ)", "date": day, "time": "20:00", "minutes": "60",
            "url": "", "notes": "Mang theo nội quy.", "audience": "A-1, A-2"}  # fmt: skip
    data.update(overrides)
    return data


def test_trainer_edits_time_audience_and_notes_keeping_the_room(client, world) -> None:
    session = world["session"]
    room = session.location
    page = _page(client, "giangvien", f"/live/{session.public_id}/edit").get_data(as_text=True)
    assert 'value="19:30"' in page and 'value="A-1"' in page
    assert f'value="{world["start"]:%d/%m/%Y}"' in page  # dates the Vietnamese way
    assert 'name="url"' not in page  # a Jitsi room has no link to edit
    response = client.post_form(f"/live/{session.public_id}/edit", _edit_form(world))
    assert response.status_code == 302
    db.session.expire_all()
    session = db.session.get(LiveSession, session.id)
    assert session.location == room and session.minutes == 60
    assert session.start_dt.astimezone(services.VN).strftime("%H:%M") == "20:00"
    assert session.notes == "Mang theo nội quy." and session.title == "Đối thoại (đổi giờ)"
    audience = db.session.scalars(sa.select(LiveAudience.org_id).order_by(LiveAudience.org_id))
    assert list(audience) == sorted([world["a_union"].id, world["a_state"].id])


def test_an_invalid_edit_keeps_the_typed_data_and_changes_nothing(client, world) -> None:
    meet = world["schedule"](provider="google_meet", url="https://meet.google.com/abc-defg-hij")
    db.session.commit()
    client.login("giangvien")
    for field, value, message in [
        ("url", "http://meet.google.com/abc-defg-hij", "https://"),
        ("url", "javascript:alert(1)", "https://"),
        ("audience", "KHONG-CO", "KHONG-CO"),
        ("time", "25:00", "HH:MM"),
    ]:
        data = _edit_form(world, **{field: value})
        response = client.post_form(f"/live/{meet.public_id}/edit", data)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and message in page
        assert "Đối thoại (đổi giờ)" in page  # what was typed stays in the form
    db.session.expire_all()
    unchanged = db.session.get(LiveSession, meet.id)
    assert unchanged.title == "Đối thoại định kỳ"
    assert unchanged.location == "https://meet.google.com/abc-defg-hij"


def test_cancel_stops_joins_reminders_and_listing_as_upcoming(client, world) -> None:
    session = world["session"]
    client.login("giangvien")
    assert client.post_form(f"/live/{session.public_id}/cancel").status_code == 302
    client.logout()
    page = _page(client, "chutich_a", f"/live/{session.public_id}").get_data(as_text=True)
    assert "đã bị hủy" in page and "Vào phòng học" not in page
    home = client.get("/").get_data(as_text=True)
    assert "Đối thoại định kỳ" not in home
    from lms.live.reminders import due_sessions

    assert session.id not in [s.id for s in due_sessions(utcnow() + timedelta(days=1))]


def test_a_session_with_confirmed_attendance_cannot_be_cancelled(client, world) -> None:
    session = world["session"]
    chair = db.session.scalars(
        sa.select(services.User).where(services.User.username == "chutich_a")
    ).one()
    services.confirm_attendance(None, session, [chair.id])
    db.session.commit()
    client.login("giangvien")
    response = client.post_form(f"/live/{session.public_id}/cancel", follow_redirects=True)
    assert "không thể hủy" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(LiveSession, session.id).cancelled_dt is None


def test_other_trainers_cannot_edit_or_cancel(client, world) -> None:
    session = world["session"]
    client.login("giangvien2")
    assert client.get(f"/live/{session.public_id}/edit").status_code == 403
    assert client.post_form(f"/live/{session.public_id}/cancel").status_code == 403
    db.session.expire_all()
    assert db.session.get(LiveSession, session.id).cancelled_dt is None


def test_sessions_for_splits_upcoming_and_recently_ended(app_ctx, world) -> None:
    trainer = db.session.scalars(
        sa.select(services.User).where(services.User.username == "giangvien")
    ).one()
    past = world["schedule"](title="Đã học", start_local=datetime(2020, 1, 1, 8, 0))
    upcoming, recent = services.sessions_for(trainer, now=past.start_dt + timedelta(hours=3))
    assert [s.title for s in upcoming] == ["Đối thoại định kỳ"] and [s.title for s in recent] == [
        "Đã học"
    ]
