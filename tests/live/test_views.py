"""Live-session pages: scheduling, the audience only (LIVE-01), joining, calendar, attendance."""

from datetime import datetime, timedelta

import jwt
import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.catalog.models import CourseTrainer
from lms.db import db, utcnow
from lms.live import services
from lms.live.models import Attendance, LiveSession
from lms.progress import services as progress
from lms.progress.models import Completion
from tests.factories import make_course, make_lesson, make_module, make_tree, make_user

SECRET = "s" * 32


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    tree = make_tree()
    course = make_course("khoa")
    module = make_module(course, "song", requires_live=True)
    lesson = make_lesson(module, "bai")
    trainer = make_user("giangvien", role=Role.TRAINER, full_name="Giảng Viên")
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    a_chair = make_user("chutich_a", org=tree["a_union"], position="chair", phone="0912345678")
    b_chair = make_user("chutich_b", org=tree["b_union"], position="chair")
    other_trainer = make_user("giangvien2", role=Role.TRAINER)
    db.session.commit()
    return {
        **tree,
        "course": course,
        "module": module,
        "lesson": lesson,
        "trainer": trainer,
        "a_chair": a_chair,
        "b_chair": b_chair,
        "other_trainer": other_trainer,
    }


URL = "/teach/khoa/song/live"


def _day() -> str:
    """A date two days ahead in Vietnam time, YYYY-MM-DD."""
    return (utcnow().astimezone(services.VN) + timedelta(days=2)).strftime("%Y-%m-%d")


def _form(**overrides) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "title": "Thương lượng tập thể",
        "date": _day(),
        "time": "19:30",
        "minutes": "90",
        "provider": "jitsi",
        "url": "",
        "notes": "Chuẩn bị câu hỏi trước.",
        "audience": "A",
    }
    data.update(overrides)
    return data


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LiveSession))


def _scheduled(client) -> LiveSession:  # type: ignore[no-untyped-def]
    client.login("giangvien")
    response = client.post_form(URL, _form())
    assert response.status_code == 302
    client.logout()
    return db.session.scalars(sa.select(LiveSession)).one()


def test_trainer_schedules_a_jitsi_session_at_1930_for_district_a(client, world) -> None:
    client.login("giangvien")
    page = client.get(URL)
    assert page.status_code == 200
    response = client.post_form(URL, _form())
    assert response.status_code == 302
    session = db.session.scalars(sa.select(LiveSession)).one()
    assert session.provider == "jitsi" and session.trainer_id == world["trainer"].id
    assert session.start_dt.astimezone(services.VN).strftime("%H:%M") == "19:30"
    html = client.get(URL).get_data(as_text=True)
    shown = datetime.strptime(_day(), "%Y-%m-%d").strftime("%d/%m/%Y")
    assert f"19:30 {shown}" in html
    assert f"/live/{session.public_id}/attendance" in html
    # The date typed the Vietnamese way lands on the same day.
    assert client.post_form(URL, _form(date=shown, title="Buổi hai")).status_code == 302
    second = db.session.scalars(sa.select(LiveSession).where(LiveSession.title == "Buổi hai")).one()
    assert second.start_dt == session.start_dt


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": ""},
        {"time": "25:61"},
        {"time": "7h30"},
        {"date": "31/02/2026"},
        {"date": "mai"},
        {"provider": "other", "url": "http://meet.jit.si/phong"},
        {"provider": "google_meet", "url": "https://meet.google.com/not a code"},
        {"provider": "google_meet", "url": "https://example.com/abc-defg-hij"},
        {"audience": "A, KHONG-CO"},
        {"minutes": "5"},
    ],
)
def test_bad_input_keeps_the_typed_data_and_saves_nothing(client, world, overrides) -> None:
    client.login("giangvien")
    data = _form(notes="Ghi chú <đã gõ>", **overrides)
    response = client.post_form(URL, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Ghi chú &lt;đã gõ&gt;" in html
    if overrides.get("url"):
        assert overrides["url"].replace("&", "&amp;") in html
    if overrides.get("time"):
        assert f'value="{overrides["time"]}"' in html
    assert _count() == 0


def test_only_course_trainers_and_admins_schedule(client, world) -> None:
    client.login("giangvien2")
    assert client.get(URL).status_code == 403
    assert client.post_form(URL, _form()).status_code == 403
    client.logout()
    client.login("chutich_a")
    assert client.get(URL).status_code == 403
    client.logout()
    client.login("giangvien")
    assert client.get("/teach/khoa/khong-co/live").status_code == 404
    assert _count() == 0


def test_learner_of_district_a_sees_downloads_and_joins(client, world) -> None:
    session = _scheduled(client)
    client.login("chutich_a")
    shown = datetime.strptime(_day(), "%Y-%m-%d").strftime("%d/%m/%Y")
    for page in ("/learn/khoa/song", "/"):
        html = client.get(page).get_data(as_text=True)
        assert "Thương lượng tập thể" in html
        assert f"19:30 {shown}" in html
        assert f"/live/{session.public_id}" in html
        assert f"/live/{session.public_id}.ics" in html
    ics = client.get(f"/live/{session.public_id}.ics")
    assert ics.status_code == 200
    assert ics.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert ics.headers["Content-Disposition"] == 'attachment; filename="buoi-hoc.ics"'
    body = ics.get_data(as_text=True)
    assert "TZID=Asia/Ho_Chi_Minh" in body and "BEGIN:VTIMEZONE" in body
    assert "T193000" in body
    page = client.get(f"/live/{session.public_id}")
    assert page.status_code == 200
    assert f"/live/{session.public_id}/join" in page.get_data(as_text=True)
    joined = client.post_form(f"/live/{session.public_id}/join")
    assert joined.status_code == 302
    assert joined.headers["Location"] == f"https://meet.jit.si/{session.location}"
    row = db.session.scalars(sa.select(Attendance)).one()
    assert (row.user_id, row.join_count) == (world["a_chair"].id, 1)
    assert row.first_join_dt is not None


def test_learner_of_district_b_is_refused_everywhere(client, world) -> None:
    session = _scheduled(client)
    client.login("chutich_b")
    page = client.get(f"/live/{session.public_id}")
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert session.location not in html and "meet.jit.si" not in html
    assert "/join" not in html
    ics = client.get(f"/live/{session.public_id}.ics")
    assert ics.status_code == 403 and session.location not in ics.get_data(as_text=True)
    joined = client.post_form(f"/live/{session.public_id}/join")
    assert joined.status_code == 403 and session.location not in joined.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    for html in (client.get("/").get_data(as_text=True),):
        assert session.public_id not in html
    assert client.get("/live/0000/join").status_code == 405
    assert client.get("/live/khong-co").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, world) -> None:
    session = _scheduled(client)
    for path in (f"/live/{session.public_id}", f"/live/{session.public_id}.ics"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_self_hosted_jitsi_is_embedded_with_a_token_and_its_own_csp(
    app, client, world, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "JITSI_DOMAIN", "meet.example.vn")
    monkeypatch.setitem(app.config, "JITSI_APP_ID", "lms")
    monkeypatch.setitem(app.config, "JITSI_APP_SECRET", SECRET)
    session = _scheduled(client)
    client.login("chutich_a")
    response = client.post_form(f"/live/{session.public_id}/join")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://meet.example.vn;" in csp
    assert "frame-src https://meet.example.vn;" in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    # The meeting frame may use the camera and microphone; the rest of the app may not.
    assert 'camera=("https://meet.example.vn")' in response.headers["Permissions-Policy"]
    assert "camera=()" in client.get("/").headers["Permissions-Policy"]
    html = response.get_data(as_text=True)
    assert 'src="https://meet.example.vn/external_api.js"' in html
    assert "/static/jitsi.js" in html
    assert 'data-domain="meet.example.vn"' in html
    assert f'data-room="{session.location}"' in html
    token = html.split('data-jwt="', 1)[1].split('"', 1)[0]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi")
    assert claims["room"] == session.location
    assert db.session.scalars(sa.select(Attendance)).one().join_count == 1
    # Other pages keep the app's default policy.
    assert "meet.example.vn" not in client.get("/").headers["Content-Security-Policy"]


def test_trainer_confirms_by_check_boxes_and_module_completes(client, world) -> None:
    session = _scheduled(client)
    learner = world["a_chair"]
    progress.complete_lesson(learner, world["lesson"])
    db.session.commit()
    client.login("chutich_a")
    client.post_form(f"/live/{session.public_id}/join")
    client.logout()
    client.login("giangvien")
    page = client.get(f"/live/{session.public_id}/attendance")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert learner.full_name in html
    first = db.session.scalars(sa.select(Attendance)).one().first_join_dt
    assert first.astimezone(services.VN).strftime("%d/%m/%Y %H:%M") in html
    response = client.post_form(
        f"/live/{session.public_id}/attendance", {"user_id": str(learner.id), "via": "list"}
    )
    assert response.status_code == 302
    row = db.session.scalars(sa.select(Attendance)).one()
    assert row.confirmed_dt is not None and row.confirmed_via == "list"
    done = db.session.scalars(
        sa.select(Completion).where(
            Completion.user_id == learner.id, Completion.module_id == world["module"].id
        )
    ).all()
    assert len(done) == 1


def test_trainer_confirms_from_a_csv_export(client, world) -> None:
    session = _scheduled(client)
    learner = world["a_chair"]
    progress.complete_lesson(learner, world["lesson"])
    db.session.commit()
    client.login("giangvien")
    data = (
        "\ufeffHọ tên;Số điện thoại;Email\n"
        "Chủ tịch A;+84 912 345 678;\n"
        "Người lạ;0999 000 111;\n"
        ";;\n"
        "Không rõ;;\n"
    ).encode()
    import io

    page = client.post_form(
        f"/live/{session.public_id}/attendance",
        {"file": (io.BytesIO(data), "diem-danh.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'value="{learner.id}" checked' in html
    assert "0999 000 111" in html and str(services.MESSAGES["row_not_found"]) in html
    assert ">3<" in html and ">5<" in html  # row numbers of the unmatched rows (header = 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    response = client.post_form(
        f"/live/{session.public_id}/attendance", {"user_id": str(learner.id), "via": "csv"}
    )
    assert response.status_code == 302
    row = db.session.scalars(sa.select(Attendance)).one()
    assert (row.confirmed_via, row.join_count) == ("csv", 0)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Completion)
            .where(Completion.user_id == learner.id, Completion.module_id == world["module"].id)
        )
        == 1
    )
    bad = client.post_form(
        f"/live/{session.public_id}/attendance",
        {"file": (io.BytesIO("x".encode("utf-16")), "a.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400


def test_nobody_outside_the_audience_is_confirmed_by_swapping_ids(client, world) -> None:
    """The session is for district A: posting the id of B's chair (or matching it from a file)
    confirms nothing and completes nothing for district B (AC-03)."""
    session = _scheduled(client)
    outsider = world["b_chair"]
    client.login("giangvien")
    url = f"/live/{session.public_id}/attendance"
    ids = {"user_id": [str(world["a_chair"].id), str(outsider.id)]}
    response = client.post_form(url, ids)
    assert response.status_code == 400
    assert "không thuộc đối tượng của buổi học trực tuyến này" in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0
    import io

    data = f"ten_dang_nhap\n{outsider.username}\n".encode()
    page = client.post_form(url, {"file": (io.BytesIO(data), "diem-danh.csv")},
                            content_type="multipart/form-data")  # fmt: skip
    assert f'value="{outsider.id}" checked' not in page.text
    assert "Người này không thuộc đối tượng của buổi học" in page.text


def test_attendance_page_is_for_the_course_trainers_only(client, world) -> None:
    session = _scheduled(client)
    for username in ("giangvien2", "chutich_a"):
        client.login(username)
        assert client.get(f"/live/{session.public_id}/attendance").status_code == 403
        response = client.post_form(
            f"/live/{session.public_id}/attendance", {"user_id": str(world["a_chair"].id)}
        )
        assert response.status_code == 403
        client.logout()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_every_post_refuses_a_missing_csrf_token(client, world) -> None:
    session = _scheduled(client)
    client.login("giangvien")
    for path, data in (
        (URL, _form()),
        (f"/live/{session.public_id}/join", {}),
        (f"/live/{session.public_id}/attendance", {"user_id": str(world["a_chair"].id)}),
    ):
        assert client.post_form(path, data, csrf=False).status_code == 400
    assert _count() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("https://meet.google.com/abc-defg-hij", False),
        ("https://meet.google.com/abcd-efgh-ijkl", True),
    ],
)
def test_unusual_google_meet_codes_are_accepted_with_a_warning(client, world, url, warned) -> None:
    client.login("giangvien")
    response = client.post_form(URL, _form(provider="google_meet", url=url), follow_redirects=True)
    assert response.status_code == 200 and _count() == 1
    assert ("abc-defg-hij" in response.get_data(as_text=True)) is warned
