"""`lms demo`: a believable federation, loadable twice, where every demo account can sign in."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.db import db
from lms.demo import DEMO_PASSWORD, PEOPLE, UNITS
from lms.orgs.models import Officer, Organization


def _counts() -> tuple[int, int, int]:
    count = lambda m: db.session.scalar(sa.select(sa.func.count()).select_from(m))  # noqa: E731
    return count(Organization), count(User), count(Officer)


def test_demo_loads_once_and_again_without_duplicates(app, runner, client) -> None:
    app.config["SECURE_COOKIES"] = False
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output and "canbo.dmc" in first.output
    counts = _counts()
    assert counts == (len(UNITS), len(PEOPLE), sum(1 for p in PEOPLE if p[4]))
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert _counts() == counts

    from lms.catalog.models import CourseTrainer

    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(CourseTrainer)) == 0
    )  # no course yet
    grassroots = db.session.scalars(
        sa.select(Organization).where(Organization.kind == "grassroots")
    ).all()
    assert len(grassroots) == 12
    assert {g.sector for g in grassroots} == {"state", "non_state"}
    assert min(g.member_count for g in grassroots) < 1000 <= max(g.member_count for g in grassroots)
    positions = set(db.session.scalars(sa.select(Officer.position)))
    assert positions == {"chair", "vice_chair", "group_leader", "collaborator", "core_member"}

    homes = {
        "admin": "Toàn hệ thống",
        "canbo.tinh": "LĐLĐ tỉnh Tây Ninh",
        "canbo.dmc": "Dương Minh Châu",
        "canbo.godau": "Gò Dầu",
        "giangvien": "Khu vực giảng viên",
        "0901000001": "bốn chuyên đề kỹ năng",
        "0901000009": "chuyên đề định hướng",
    }
    for username, expected in homes.items():
        assert client.login(username, DEMO_PASSWORD).status_code == 302, username
        assert expected in client.get("/").get_data(as_text=True), username
        client.logout()


def test_demo_refuses_a_production_configuration(app, runner) -> None:
    app.config["SECURE_COOKIES"] = True
    try:
        result = runner.invoke(args=["demo"])
    finally:
        app.config["SECURE_COOKIES"] = False
    assert result.exit_code == 1
    assert "mật khẩu công khai" in result.output


def test_demo_trainer_teaches_the_imported_courses(app, runner, client) -> None:
    from pathlib import Path

    from lms.catalog.models import CourseTrainer

    app.config["SECURE_COOKIES"] = False
    courses = Path(__file__).resolve().parent.parent / "courses"
    assert runner.invoke(args=["import-courses", str(courses)]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseTrainer)) == 1
    client.login("giangvien", DEMO_PASSWORD)
    assert "Bồi dưỡng Chủ tịch công đoàn cơ sở" in client.get("/teach/").get_data(as_text=True)
