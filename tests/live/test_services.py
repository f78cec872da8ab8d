"""Live sessions through the services: scheduling, audience (LIVE-01), joins, attendance."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.catalog.models import CourseTrainer
from lms.db import db
from lms.live import attendance_file, services
from lms.live.models import Attendance, LiveAudience, LiveSession
from lms.live.providers import LiveSettings
from lms.live.signals import attendance_confirmed
from lms.progress import services as progress
from lms.progress.models import Completion, CompletionSource
from tests.factories import make_course, make_lesson, make_module, make_tree, make_user

SETTINGS = LiveSettings()
SELF_HOSTED = LiveSettings(
    jitsi_domain="meet.example.vn", jitsi_app_id="lms", jitsi_app_secret="s" * 32
)
NOW = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def world(app_ctx):  # type: ignore[no-untyped-def]
    tree = make_tree()
    course = make_course()
    module = make_module(course)
    trainer = make_user("giangvien", role=Role.TRAINER)
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    db.session.flush()
    return {
        **tree,
        "course": course,
        "module": module,
        "trainer": trainer,
        "a_chair": make_user("chutich_a", org=tree["a_union"], position="chair"),
        "b_chair": make_user("chutich_b", org=tree["b_union"], position="chair"),
    }


def _schedule(world, **kwargs):  # type: ignore[no-untyped-def]
    values = {
        "title": "Họp trực tuyến",
        "start_local": datetime(2026, 3, 1, 19, 30),
        "minutes": 90,
        "provider": "jitsi",
        "settings": SETTINGS,
    }
    values.update(kwargs)
    return services.schedule(world["trainer"], world["module"], **values)


def test_start_is_taken_in_vietnam_time_and_stored_in_utc(world) -> None:
    session = _schedule(world)
    assert session.start_dt == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert session.trainer_id == world["trainer"].id
    db.session.expire_all()
    stored = db.session.get(LiveSession, session.id)
    assert stored.start_dt == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert stored.location.startswith("khoa-thu-hop-truc-tuyen-")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"title": " "}, "bad_title"),
        ({"title": "x" * 301}, "bad_title"),
        ({"minutes": 10}, "bad_minutes"),
        ({"minutes": 601}, "bad_minutes"),
        ({"provider": "zoom"}, "unknown_provider"),
        ({"provider": "google_meet", "url": "https://example.com/x"}, "bad_google_meet"),
        ({"provider": "other", "url": "https://evil.example/x"}, "host_not_allowed"),
        ({"audience_codes": ["A", "NOPE"]}, "unknown_org"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(world, kwargs, code) -> None:
    with pytest.raises(services.LiveError) as caught:
        _schedule(world, **kwargs)
    assert caught.value.code == code
    assert services.message(caught.value)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LiveSession)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LiveAudience)) == 0


def test_only_course_trainers_and_admins_may_schedule(world) -> None:
    other = make_user(role=Role.TRAINER)
    learner = make_user()
    for actor in (other, learner):
        with pytest.raises(services.LiveError) as caught:
            services.schedule(
                actor, world["module"], title="T", start_local=datetime(2026, 3, 1, 8, 0),
                minutes=60, provider="jitsi", settings=SETTINGS,
            )  # fmt: skip
        assert caught.value.code == "forbidden"
    admin = make_user(role=Role.ADMIN)
    session = services.schedule(
        admin, world["module"], title="T", start_local=datetime(2026, 3, 1, 8, 0),
        minutes=60, provider="google_meet", url="https://meet.google.com/abc-defg-hij",
        settings=SETTINGS,
    )  # fmt: skip
    assert session.location == "https://meet.google.com/abc-defg-hij"


def test_audience_of_a_district(world) -> None:
    district = _schedule(world, audience_codes=["A"])
    everyone = _schedule(world, title="Cho mọi người")
    assert services.in_audience(world["a_chair"], district)
    assert not services.in_audience(world["b_chair"], district)
    assert services.in_audience(world["b_chair"], everyone)
    assert services.in_audience(world["trainer"], district)
    assert services.in_audience(make_user(role=Role.ADMIN), district)
    # A position in a union of district A counts even when the account belongs elsewhere.
    elsewhere = make_user(org=world["b"])
    assert not services.in_audience(elsewhere, district)
    from lms.orgs.services import appoint

    appoint(elsewhere, world["a_state"], "collaborator")
    assert services.in_audience(elsewhere, district)


def test_join_is_refused_outside_the_audience_and_nothing_recorded(world) -> None:
    session = _schedule(world, audience_codes=["A"])
    with pytest.raises(services.LiveError) as caught:
        services.join(world["b_chair"], session, SETTINGS, now=NOW)
    assert caught.value.code == "not_in_audience"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_joins_are_recorded_once_per_person_with_a_count(world) -> None:
    session = _schedule(world)
    first = services.join(world["a_chair"], session, SETTINGS, now=NOW)
    services.join(world["a_chair"], session, SETTINGS, now=NOW + timedelta(minutes=5))
    services.join(world["b_chair"], session, SETTINGS, now=NOW)
    assert first.url.startswith("https://meet.jit.si/") and first.token is None
    rows = {a.user_id: a for a in db.session.scalars(sa.select(Attendance))}
    assert len(rows) == 2
    mine = rows[world["a_chair"].id]
    assert mine.join_count == 2
    assert mine.first_join_dt == NOW
    assert mine.confirmed_dt is None


def test_token_only_with_app_id_and_secret_and_moderator_for_the_trainer(world) -> None:
    import jwt

    session = _schedule(world)
    learner = services.join(world["a_chair"], session, SELF_HOSTED, now=NOW)
    assert learner.token and learner.url.endswith(f"?jwt={learner.token}")
    claims = jwt.decode(learner.token, options={"verify_signature": False})
    assert claims["moderator"] is False
    trainer = services.join(world["trainer"], session, SELF_HOSTED, now=NOW)
    assert jwt.decode(trainer.token, options={"verify_signature": False})["moderator"] is True


def test_upcoming_for_filters_audience_cancelled_and_past(world) -> None:
    now = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)  # 20:00 in Vietnam
    ongoing = _schedule(world, title="Đang diễn ra")  # 19:30-21:00 local
    _schedule(world, title="Đã xong", start_local=datetime(2026, 3, 1, 8, 0))
    for_a = _schedule(world, title="Cho A", start_local=datetime(2026, 3, 2, 8, 0),
                      audience_codes=["A"])  # fmt: skip
    cancelled = _schedule(world, title="Hủy", start_local=datetime(2026, 3, 3, 8, 0))
    cancelled.cancelled_dt = now
    db.session.flush()
    assert services.upcoming_for(world["a_chair"], now=now) == [ongoing, for_a]
    assert services.upcoming_for(world["b_chair"], now=now) == [ongoing]
    assert services.upcoming_for(world["a_chair"], now=now, limit=1) == [ongoing]
    other = make_module(world["course"], "khac", position=2)
    assert services.upcoming_for(world["a_chair"], module=other, now=now) == []


CSV_EXPORT = (
    "\ufeffHọ tên;Số điện thoại;Tên đăng nhập;Email\n"
    "Chủ tịch A;;chutich_a;\n"
    "Người có số;+84 912 345 678;;\n"
    "Người lạ;0987 000 111;;\n"
    ";;;\n"
    "Không định danh;;;\n"
    "Chủ tịch A lần 2;;CHUTICH_A;\n"
).encode()


def test_csv_import_matches_username_and_phone_and_reports_the_rest(world) -> None:
    by_phone = make_user(phone="0912345678", org=world["a_union"])
    session = _schedule(world)
    trainer = world["trainer"]
    matched, unmatched = attendance_file.import_attendance_csv(trainer, session, CSV_EXPORT)
    assert matched == [world["a_chair"].id, by_phone.id]
    assert [(u.row, u.reason) for u in unmatched] == [(4, "row_not_found"), (6, "row_empty")]
    assert unmatched[0].value == "0987 000 111"
    # Importing confirms nobody.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_csv_import_with_commas_and_english_headers(world) -> None:
    session = _schedule(world)
    data = b"Name,Username,Phone\nA,chutich_b,\n"
    assert attendance_file.import_attendance_csv(None, session, data) == ([world["b_chair"].id], [])
    with pytest.raises(services.LiveError) as caught:
        attendance_file.import_attendance_csv(None, session, b"Name,Minutes\nA,30\n")
    assert caught.value.code == "csv_no_columns"
    with pytest.raises(services.LiveError) as caught:
        attendance_file.import_attendance_csv(None, session, "Tên đăng nhập\nx\n".encode("utf-16"))
    assert caught.value.code == "csv_encoding"
    with pytest.raises(services.LiveError) as caught:
        attendance_file.import_attendance_csv(make_user(), session, data)
    assert caught.value.code == "forbidden"


@pytest.fixture
def live_module(world):  # type: ignore[no-untyped-def]
    module = make_module(world["course"], "song-truc-tuyen", position=2, requires_live=True)
    lesson = make_lesson(module)
    return module, lesson


def _completions(user, module) -> list[Completion]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            sa.select(Completion).where(
                Completion.user_id == user.id, Completion.module_id == module.id
            )
        )
    )


def test_confirmed_attendance_completes_a_module_that_requires_it(world, live_module) -> None:
    module, lesson = live_module
    learner = world["a_chair"]
    session = services.schedule(
        world["trainer"], module, title="Buổi sống", start_local=datetime(2026, 3, 1, 19, 30),
        minutes=60, provider="jitsi", settings=SETTINGS,
    )  # fmt: skip
    progress.complete_lesson(learner, lesson)
    assert _completions(learner, module) == []  # live attendance still missing
    services.join(learner, session, SETTINGS, now=NOW)
    assert progress.complete_module_if_done(learner, module) is None  # joining is not enough
    assert services.confirm_attendance(world["trainer"], session, [learner.id], now=NOW) == 1
    [completion] = _completions(learner, module)
    assert completion.source == CompletionSource.ONLINE
    row = db.session.scalars(sa.select(Attendance)).one()
    assert (row.confirmed_by_id, row.confirmed_via, row.join_count) == (
        world["trainer"].id, "list", 1,
    )  # fmt: skip


def test_confirmation_alone_does_not_complete_unfinished_lessons(world, live_module) -> None:
    module, _ = live_module
    session = services.schedule(
        world["trainer"], module, title="Buổi sống", start_local=datetime(2026, 3, 1, 19, 30),
        minutes=60, provider="jitsi", settings=SETTINGS,
    )  # fmt: skip
    services.confirm_attendance(world["trainer"], session, [world["b_chair"].id], via="csv")
    assert _completions(world["b_chair"], module) == []
    row = db.session.scalars(sa.select(Attendance)).one()
    assert (row.join_count, row.first_join_dt, row.confirmed_via) == (0, None, "csv")


def test_covering_session_writes_one_live_completion_per_person(world) -> None:
    session = _schedule(world, covers_module=True)
    people = [world["a_chair"], world["b_chair"]]
    sent = []

    def listener(sender, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(kwargs["user"].id)

    attendance_confirmed.connect(listener)
    try:
        ids = [p.id for p in people]
        assert services.confirm_attendance(world["trainer"], session, ids, now=NOW) == 2
        assert services.confirm_attendance(world["trainer"], session, ids, now=NOW) == 0
    finally:
        attendance_confirmed.disconnect(listener)
    assert sorted(sent) == sorted(ids)
    for person in people:
        [completion] = _completions(person, world["module"])
        assert completion.source == CompletionSource.LIVE
        assert completion.completed_dt == NOW


def test_confirmation_errors_write_nothing(world) -> None:
    session = _schedule(world, covers_module=True)
    with pytest.raises(services.LiveError) as caught:
        services.confirm_attendance(world["trainer"], session, [world["a_chair"].id, 999999])
    assert caught.value.code == "unknown_user"
    with pytest.raises(services.LiveError) as caught:
        services.confirm_attendance(world["a_chair"], session, [world["a_chair"].id])
    assert caught.value.code == "forbidden"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0


def test_cancelled_sessions_do_not_count_for_the_rule(world, live_module) -> None:
    module, lesson = live_module
    learner = world["a_chair"]
    session = services.schedule(
        world["trainer"], module, title="Buổi sống", start_local=datetime(2026, 3, 1, 19, 30),
        minutes=60, provider="jitsi", settings=SETTINGS,
    )  # fmt: skip
    services.confirm_attendance(world["trainer"], session, [learner.id], now=NOW)
    session.cancelled_dt = NOW
    db.session.flush()
    progress.complete_lesson(learner, lesson)
    assert _completions(learner, module) == []


def test_calendar_file_has_a_stable_uid_and_no_token(world) -> None:
    session = _schedule(world)
    ics = services.session_ics_for(session, SELF_HOSTED, "https://hoc.example.vn/", now=NOW)
    text = ics.decode()
    assert f"UID:{session.public_id}@hoc.example.vn" in text
    assert "jwt" not in text
    assert "TZID=Asia/Ho_Chi_Minh:20260301T193000" in text
