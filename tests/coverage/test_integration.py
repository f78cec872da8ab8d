"""One chairperson's year, driven through the real pages: every way a completion is written or
taken back (online lessons and quiz, a covering live session, required live attendance, an
external class recorded by staff, a completion file, revocation) moves the coverage JSON, and
an as-of day before a class leaves that class out."""

import io
import re
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.catalog.models import CourseTrainer
from lms.db import db, vn_today
from lms.live import services as live
from lms.live.providers import LiveSettings
from lms.progress.models import Completion
from tests.factories import (
    make_course,
    make_lesson,
    make_module,
    make_org,
    make_quiz,
    make_tree,
    make_user,
)
from tests.quizzes.helpers import answer_form, latest_attempt

COURSE = "chu-de-2021"
MULTIPART = "multipart/form-data"
QUIZ = "::Vai trò::Công đoàn cơ sở đại diện cho người lao động. {T}"


@pytest.fixture
def year(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    union = make_org("A-3", kind="grassroots", parent=tree["a"], sector="non_state", members=300)
    course = make_course(COURSE, title="Chủ đề năm 2021", year=2099)
    aware = make_module(course, "nhan-thuc", kind="awareness", position=1)
    make_lesson(aware, "bai-1")
    make_quiz(aware, QUIZ)
    modules = {
        "nhan-thuc": aware,
        "tien-luong": make_module(course, "tien-luong", position=2),
        "thuong-luong": make_module(course, "thuong-luong", position=3, requires_live=True),
        "tai-chinh": make_module(course, "tai-chinh", position=4),
        "to-chuc": make_module(course, "to-chuc", position=5),
    }
    make_lesson(modules["thuong-luong"], "bai-1")
    trainer = make_user("giangvien", role=Role.TRAINER)
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    make_user("canbo.a", role=Role.STAFF, org=tree["a"])
    chair = make_user(phone="0912000003", org=union, position="chair", full_name="Lê Văn Cường")
    held = vn_today() - timedelta(days=3)  # both sessions were held three days ago, 09:00-10:30

    def session(module: str, covers: bool):  # type: ignore[no-untyped-def]
        return live.schedule(
            None, modules[module], title=f"Buổi học {module}", minutes=90, provider="jitsi",
            start_local=datetime.combine(held, time(9)), covers_module=covers,
            settings=LiveSettings(),
        ).public_id  # fmt: skip

    sessions = {"covering": session("tien-luong", True), "required": session("thuong-luong", False)}
    db.session.commit()
    return {"chair": chair, "modules": modules, "sessions": sessions, "held": held}


def _client(app, username: str):  # type: ignore[no-untyped-def]
    """A signed-in client of its own (the `client` fixture chose the class with CSRF help)."""
    client = app.test_client()
    assert client.login(username).status_code == 302
    return client


def _coverage(staff, as_of=None) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """(the chair's unit, the targets) from the JSON, for today or an earlier day."""
    url = "/reports/coverage?format=json&course=" + COURSE
    data = staff.get(url + (f"&as_of={as_of.isoformat()}" if as_of else "")).get_json()
    unit = next(u for u in data["units"] if u["code"] == "A-3")
    return unit, data["targets"]


def _state(staff, as_of=None) -> tuple[bool, int, bool]:  # type: ignore[no-untyped-def]
    unit, targets = _coverage(staff, as_of)
    assert targets["awareness"]["done"] == int(unit["awareness_done"])
    assert targets["trained_by_district"]["done"] == int(unit["trained"])
    return unit["awareness_done"], unit["core_modules_done"], unit["trained"]


def _standing(chair, module) -> Completion:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Completion).where(
            Completion.user_id == chair.id,
            Completion.module_id == module.id,
            Completion.revoked_dt.is_(None),
        )
    ).one()


def test_coverage_follows_every_way_a_completion_is_written_or_taken_back(
    app, client, year
) -> None:
    chair, modules = year["chair"], year["modules"]
    staff = _client(app, "canbo.a")
    learner = _client(app, "0912000003")
    trainer = _client(app, "giangvien")
    assert _state(staff) == (False, 0, False)

    # Online: the lesson, then the quiz, complete the awareness module.
    done = learner.post_form(f"/learn/{COURSE}/nhan-thuc/bai-1/done")
    assert done.status_code == 302
    assert _state(staff) == (False, 0, False)  # the quiz is still to pass
    started = learner.post_form(f"/modules/{modules['nhan-thuc'].id}/quiz/start")
    attempt = latest_attempt(chair.id)
    submitted = learner.post_form(started.headers["Location"] + "/submit", answer_form(attempt))
    assert submitted.status_code == 302
    assert _state(staff) == (True, 0, False)

    # A covering live session: confirmed, withdrawn by mistake, confirmed again.
    covering = f"/live/{year['sessions']['covering']}/attendance"
    assert trainer.post_form(covering, {"user_id": str(chair.id)}).status_code == 302
    assert _state(staff) == (True, 1, False)
    assert _state(staff, year["held"]) == (False, 1, False)  # counted on the day it was held
    withdrawn = trainer.post_form(covering + "/withdraw", {"withdraw": str(chair.id)})
    assert withdrawn.status_code == 302
    assert _state(staff) == (True, 0, False)
    trainer.post_form(covering, {"user_id": str(chair.id)})
    assert _state(staff) == (True, 1, False)

    # Required live attendance: the lessons alone are not enough, the confirmation completes.
    learner.post_form(f"/learn/{COURSE}/thuong-luong/bai-1/done")
    assert _state(staff) == (True, 1, False)
    required = f"/live/{year['sessions']['required']}/attendance"
    assert trainer.post_form(required, {"user_id": str(chair.id)}).status_code == 302
    assert _state(staff) == (True, 2, False)

    # An external class ten days ago, recorded by staff from the person's page.
    class_day = vn_today() - timedelta(days=10)
    form = {"module": str(modules["tai-chinh"].id), "day": class_day.strftime("%d/%m/%Y"),
            "class_name": "Lớp bồi dưỡng của LĐLĐ tỉnh"}  # fmt: skip
    recorded = staff.post_form(f"/people/{chair.id}/completions", form)
    assert recorded.status_code == 302
    assert _state(staff) == (True, 3, False)
    assert _state(staff, class_day) == (False, 1, False)  # only the class counted by then
    assert _state(staff, class_day - timedelta(days=1)) == (False, 0, False)

    # The last core module from a class's attendance list (preview, then apply).
    file_day = vn_today() - timedelta(days=5)
    row = f"+84 912 000 003;to-chuc;{file_day:%d/%m/%Y};Lớp huyện"
    csv = "dien_thoai;chuyen_de;ngay;lop\r\n" + row + "\r\n"
    upload = {"file": (io.BytesIO(("\ufeff" + csv).encode()), "diem-danh.csv")}
    preview = staff.post_form("/completions/import", upload, content_type=MULTIPART)
    assert preview.status_code == 200
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview.text)[1]
    assert staff.post_form("/completions/import/apply", {"payload": payload}).status_code == 302
    assert _state(staff) == (True, 4, True)
    assert _state(staff, file_day - timedelta(days=1)) == (False, 1, False)

    # Revoked from the person's page, then recorded again for another class.
    wrong = _standing(chair, modules["tai-chinh"])
    revoked = staff.post_form(f"/completions/{wrong.id}/revoke", {"reason": "Ghi nhầm lớp"})
    assert revoked.status_code == 302
    assert _state(staff) == (True, 3, False)
    form["day"] = (vn_today() - timedelta(days=2)).strftime("%d/%m/%Y")
    assert staff.post_form(f"/people/{chair.id}/completions", form).status_code == 302
    assert _state(staff) == (True, 4, True)
    assert _state(staff, vn_today() - timedelta(days=2)) == (False, 3, False)
    assert _state(staff, vn_today() - timedelta(days=3)) == (False, 2, False)  # not 10 days ago


def test_staff_attached_to_no_unit_are_refused_not_failed(client, year, caplog) -> None:
    """AC-08: a staff account with no unit has no scope; every staff page refuses it (403,
    logged) instead of failing with a 500, and nothing is recorded."""
    make_user("canbo.moi", role=Role.STAFF)
    db.session.commit()
    client.login("canbo.moi")
    person = year["chair"].id
    pages = ("/", "/reports/coverage", "/reports/coverage?format=json", "/api/v1/statements",
             "/reports/coverage/print", f"/people/{person}/completions",
             "/completions/1/evidence")  # fmt: skip
    form = {"module": year["modules"]["tai-chinh"].id, "day": "01/10/2021", "class_name": "Lớp"}
    csv = "dien_thoai;chuyen_de;ngay;lop\r\n0912000003;tai-chinh;01/10/2021;Lớp\r\n"
    upload = {"file": (io.BytesIO(csv.encode()), "lop.csv")}
    with caplog.at_level("INFO", logger="lms.audit"):
        for url in pages:
            response = client.get(url)
            assert response.status_code == 403, url
        assert client.post_form(f"/people/{person}/completions", form).status_code == 403
        imported = client.post_form(
            "/completions/import", upload, content_type="multipart/form-data"
        )
        assert imported.status_code == 403
    assert "chưa được gắn với đơn vị nào" in response.text
    assert any(getattr(r, "event", "") == "access.denied" for r in caplog.records)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0
