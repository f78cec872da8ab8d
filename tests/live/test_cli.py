"""`lms live create` and `lms live join-url` (DESIGN §6, §7; LIVE-01 from the command line)."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.catalog.models import CourseTrainer
from lms.db import db
from lms.live.models import Attendance, LiveAudience, LiveSession
from tests.factories import make_course, make_module, make_tree, make_user


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    old = make_course("khoa-2021", year=2021)
    make_module(old, "tien-luong")
    course = make_course("khoa-2024", year=2024)
    module = make_module(course, "tien-luong")
    trainer = make_user("giangvien", role=Role.TRAINER)
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    db.session.flush()
    make_user("chutich_a", org=tree["a_union"], position="chair")
    make_user("chutich_b", org=tree["b_union"], position="chair")
    return {"module": module, "old": old, "trainer": trainer, **tree}


def _create(runner, *extra: str):  # type: ignore[no-untyped-def]
    args = ["live", "create", "--module", "tien-luong", "--title", "Họp trực tuyến",
            "--start", "2026-03-01 19:30", "--minutes", "90", *extra]  # fmt: skip
    return runner.invoke(args=args)


def test_create_prints_the_id_alone_in_vietnam_time(runner, world) -> None:
    result = _create(runner, "--provider", "jitsi", "--trainer", "giangvien", "--audience", "A")
    assert result.exit_code == 0, result.output
    session = db.session.get(LiveSession, int(result.output.strip()))
    assert result.output == f"{session.id}\n"
    assert session.module_id == world["module"].id  # the newest course's module
    assert session.start_dt == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert session.trainer_id == world["trainer"].id
    assert db.session.scalars(sa.select(LiveAudience.org_id)).all() == [world["a"].id]


def test_create_in_a_chosen_course_with_a_google_meet_link(runner, world) -> None:
    result = _create(runner, "--course", "khoa-2021", "--provider", "google_meet",
                     "--url", "https://meet.google.com/abc-defg-hij")  # fmt: skip
    assert result.exit_code == 0, result.output
    session = db.session.get(LiveSession, int(result.output))
    assert session.location == "https://meet.google.com/abc-defg-hij"
    assert session.module_id != world["module"].id


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--provider", "google_meet"], "Đường dẫn"),
        (["--provider", "jitsi", "--audience", "NOPE"], "NOPE"),
        (["--provider", "jitsi", "--trainer", "chutich_a"], "chutich_a"),
        (["--provider", "jitsi", "--trainer", "khong-co"], "--trainer"),
        (["--provider", "jitsi", "--course", "khong-co"], "--module"),
    ],
)
def test_create_refuses_invalid_input_with_exit_1(runner, world, extra, field) -> None:
    result = _create(runner, *extra)
    assert result.exit_code == 1, result.output
    assert "Lỗi" in result.output and field in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LiveSession)) == 0


def test_create_bad_start_and_usage_errors(runner, world) -> None:
    result = runner.invoke(args=["live", "create", "--module", "tien-luong", "--title", "T",
                                 "--start", "01/03/2026 19:30", "--minutes", "60",
                                 "--provider", "jitsi"])  # fmt: skip
    assert result.exit_code == 1 and "--start" in result.output
    assert _create(runner, "--provider", "zoom").exit_code == 2
    assert runner.invoke(args=["live", "join-url", "1"]).exit_code == 2


def test_join_url_refuses_a_user_outside_the_audience(app, runner, world) -> None:
    session_id = _create(runner, "--provider", "jitsi", "--audience", "A").output.strip()
    inside = runner.invoke(args=["live", "join-url", session_id, "--user", "chutich_a"])
    assert inside.exit_code == 0, inside.output
    assert inside.output.startswith("https://meet.jit.si/") and "jwt" not in inside.output
    outside = runner.invoke(args=["live", "join-url", session_id, "--user", "chutich_b"])
    assert outside.exit_code == 1
    assert "https://" not in outside.output
    assert runner.invoke(args=["live", "join-url", "999999", "--user", "chutich_a"]).exit_code == 1
    unknown = runner.invoke(args=["live", "join-url", session_id, "--user", "khong-co"])
    assert unknown.exit_code == 1 and "--user" in unknown.output
    # Printing a URL is not joining.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_join_url_carries_a_token_only_with_app_id_and_secret(app, runner, world) -> None:
    session_id = _create(runner, "--provider", "jitsi").output.strip()
    saved = {k: app.config.get(k) for k in ("JITSI_DOMAIN", "JITSI_APP_ID", "JITSI_APP_SECRET")}
    try:
        app.config.update(JITSI_DOMAIN="meet.example.vn", JITSI_APP_ID="lms", JITSI_APP_SECRET="")
        plain = runner.invoke(args=["live", "join-url", session_id, "--user", "chutich_b"])
        assert plain.exit_code == 0, plain.output
        assert plain.output.startswith("https://meet.example.vn/") and "jwt" not in plain.output
        app.config["JITSI_APP_SECRET"] = "s" * 32
        signed = runner.invoke(args=["live", "join-url", session_id, "--user", "chutich_b"])
        assert signed.exit_code == 0, signed.output
        assert "?jwt=" in signed.output
    finally:
        app.config.update(saved)
