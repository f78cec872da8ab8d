"""Trainers build and revise modules in the browser: drafts, publishing, conflicts, history,
images, and learners' records that edits never change."""

import io

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.authoring import services
from lms.catalog.models import CourseTrainer, Lesson, Module
from lms.db import db
from lms.progress.models import BlockResponse
from lms.quizzes.models import Attempt
from tests.factories import make_course, make_lesson, make_module, make_org, make_user
from tests.quizzes.helpers import answer_form, latest_attempt

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
QUIZ_V1 = (
    "::Một:: Hai cộng hai? {=bốn#Đúng. ~ba#Sai.}\n\n::Hai:: Thủ đô? {=Hà Nội#Đúng. ~Huế#Sai.}\n"
)


@pytest.fixture
def setup(app):
    course = make_course("khoa", title="Khóa thử")
    other = make_course("khoa-khac", title="Khóa khác")
    trainer = make_user("giangvien", role=Role.TRAINER, full_name="Giảng Viên A")
    make_user("giangvien.b", role=Role.TRAINER, full_name="Giảng Viên B")
    make_user("quantri", role=Role.ADMIN)
    make_user("canbo", role=Role.STAFF, org=make_org("D1"))
    union = make_org("CD1", kind="grassroots", sector="non_state", members=80)
    make_user(phone="0912000001", org=union, position="chair", full_name="Học Viên")
    db.session.add_all([CourseTrainer(course_id=course.id, user_id=trainer.id)])
    make_lesson(make_module(other, "mo-dun-khac"), "bai-khac")
    db.session.commit()
    return course


def _ids(client, path: str, pattern: str = 'name="version" value="(\\d+)"') -> str:
    import re

    return re.search(pattern, client.get(path).get_data(as_text=True)).group(1)


def test_trainer_builds_publishes_and_revises_a_module(app, client, setup) -> None:
    client.login("giangvien")
    created = client.post_form(
        "/teach/khoa/modules",
        {"title": "Đối thoại tại nơi làm việc", "kind": "core", "pass_mark": "50"},
    )
    assert created.headers["Location"] == "/teach/khoa/doi-thoai-tai-noi-lam-viec"
    base = "/teach/khoa/doi-thoai-tai-noi-lam-viec"
    for title in ("Bài một", "Bài hai"):
        client.post_form(f"{base}/lessons", {"title": title, "minutes": "6", "kind": "reading"})
    body = (
        "## Mở đầu\n\nNội dung **chính**.\n\n```reflect y-kien\nCông đoàn anh/chị thế nào?\n```\n"
    )
    version = _ids(client, f"{base}/bai-mot")
    preview = client.post_form(
        f"{base}/bai-mot",
        {
            "title": "Bài một",
            "minutes": "6",
            "kind": "reading",
            "body": body,
            "version": version,
            "action": "preview",
        },
    )
    assert "Nội dung <strong>chính</strong>." in preview.get_data(as_text=True)
    client.post_form(
        f"{base}/bai-mot",
        {
            "title": "Bài một",
            "minutes": "6",
            "kind": "reading",
            "body": body,
            "version": version,
            "action": "save",
        },
    )
    module = db.session.scalars(
        sa.select(Module).where(Module.slug == "doi-thoai-tai-noi-lam-viec")
    ).one()
    services.save_quiz(
        module,
        db.session.scalars(
            sa.select(services.User).where(services.User.username == "giangvien")
        ).one(),
        QUIZ_V1,
        1,
    )
    db.session.commit()
    learner = app.test_client()
    learner.login("0912000001")
    assert learner.get("/learn/khoa/doi-thoai-tai-noi-lam-viec").status_code == 404  # still a draft
    client.post_form(f"{base}/status", {"status": "published"})
    lesson_page = learner.get("/learn/khoa/doi-thoai-tai-noi-lam-viec/bai-mot").get_data(
        as_text=True
    )
    assert (
        "Nội dung <strong>chính</strong>." in lesson_page
        and "Công đoàn anh/chị thế nào?" in lesson_page
    )

    learner.post_form(f"/modules/{module.id}/quiz/start")
    user_id = db.session.scalars(
        sa.select(services.User.id).where(services.User.username == "0912000001")
    ).one()
    first = latest_attempt(user_id)
    learner.post_form(f"/attempts/{first.public_id}/submit", answer_form(first, right=True))
    assert latest_attempt(user_id).score == 100.0

    # The trainer changes the quiz (the old answers are now wrong) and republishes.
    admin = db.session.scalars(
        sa.select(services.User).where(services.User.username == "giangvien")
    ).one()
    quiz = services.quiz_for_module(module)
    services.save_quiz(
        module,
        admin,
        QUIZ_V1.replace("=bốn#Đúng. ~ba#Sai.", "=năm#Đúng. ~bốn#Sai."),
        quiz.edit_version,
    )
    db.session.commit()
    client.post_form(f"{base}/status", {"status": "published"})
    db.session.expire_all()
    assert services.quiz_for_module(module).version == 2
    earlier = db.session.get(Attempt, first.id)
    assert (earlier.version, earlier.score, earlier.passed) == (1, 100.0, True)


def test_another_trainers_course_is_forbidden(client, setup) -> None:
    client.login("giangvien.b")
    assert client.get("/teach/").status_code == 200
    assert "Khóa thử" not in client.get("/teach/").get_data(as_text=True)
    for path in ("/teach/khoa", "/teach/khoa-khac"):
        assert client.get(path).status_code == 403
    assert (
        client.post_form("/teach/khoa/modules", {"title": "X", "kind": "core"}).status_code == 403
    )


@pytest.mark.parametrize("username", ["0912000001", "canbo"])
def test_learners_and_staff_cannot_author(client, setup, username) -> None:
    client.login(username)
    for path in ("/teach/", "/teach/khoa", "/teach/khoa-khac/mo-dun-khac/bai-khac"):
        assert client.get(path).status_code == 403


def test_stale_edit_shows_a_conflict_and_keeps_the_trainers_text(app, client, setup) -> None:
    admin = app.test_client()
    admin.login("quantri")
    client.login("giangvien")
    path = "/teach/khoa-khac/mo-dun-khac/bai-khac"
    version = _ids(admin, path)
    fields = {
        "title": "bai-khac",
        "minutes": "5",
        "kind": "reading",
        "version": version,
        "action": "save",
    }
    assert admin.post_form(path, {**fields, "body": "Bản của quản trị."}).status_code == 302
    conflict = admin.post_form(path, {**fields, "body": "Bản thứ hai, viết song song."})
    assert conflict.status_code == 409
    page = conflict.get_data(as_text=True)
    assert "Bản thứ hai, viết song song." in page and "Bản của quản trị." in page
    new_version = _ids(admin, path)
    again = admin.post_form(
        path, {**fields, "version": new_version, "body": "Bản thứ hai, viết song song."}
    )
    assert again.status_code == 302


def test_broken_block_and_oversized_lessons_keep_the_text(client, setup) -> None:
    client.login("quantri") if False else None
    client.login("giangvien")
    module = db.session.scalars(sa.select(Module).where(Module.slug == "mo-dun-khac")).one()
    db.session.add(
        CourseTrainer(
            course_id=module.course_id,
            user_id=db.session.scalars(
                sa.select(services.User.id).where(services.User.username == "giangvien")
            ).one(),
        )
    )
    db.session.commit()
    path = "/teach/khoa-khac/mo-dun-khac/bai-khac"
    fields = {"title": "bai-khac", "minutes": "5", "kind": "reading", "action": "save"}
    broken = "Dòng một.\n\n```check hong\nCâu hỏi {=đúng ~sai\n```\n"
    response = client.post_form(path, {**fields, "version": _ids(client, path), "body": broken})
    assert response.status_code == 400
    assert "Dòng 4" in response.get_data(
        as_text=True
    ) and "Câu hỏi {=đúng ~sai" in response.get_data(as_text=True)
    long_text = "Đoạn văn dài về thương lượng tập thể. " * 3500  # ≈ 130.000 characters: saves
    assert (
        client.post_form(
            path, {**fields, "version": _ids(client, path), "body": long_text}
        ).status_code
        == 302
    )
    too_long = "x" * (services.MAX_LESSON_CHARS + 1)
    refused = client.post_form(path, {**fields, "version": _ids(client, path), "body": too_long})
    assert refused.status_code == 400 and "quá dài" in refused.get_data(as_text=True)
    huge = client.post_form(
        path, {**fields, "version": _ids(client, path), "body": "y" * 3_000_000}
    )
    assert huge.status_code == 413 and "quá lớn" in huge.get_data(as_text=True)
    lesson = db.session.scalars(sa.select(Lesson).where(Lesson.slug == "bai-khac")).one()
    db.session.refresh(lesson)
    assert lesson.draft_md == long_text.replace("\r\n", "\n").strip() or lesson.draft_md.startswith(
        "Đoạn"
    )


def test_history_shows_who_changed_what_and_restores(client, setup) -> None:
    client.login("quantri")
    path = "/teach/khoa-khac/mo-dun-khac/bai-khac"
    fields = {"title": "bai-khac", "minutes": "5", "kind": "reading", "action": "save"}
    client.post_form(
        path, {**fields, "version": _ids(client, path), "body": "Dòng cũ.\nDòng chung."}
    )
    client.post_form(
        path, {**fields, "version": _ids(client, path), "body": "Dòng mới.\nDòng chung."}
    )
    page = client.get(f"{path}/history").get_data(as_text=True)
    assert '<span class="del">- Dòng cũ.' in page and '<span class="add">+ Dòng mới.' in page
    from lms.authoring.models import Revision

    oldest = db.session.scalars(sa.select(Revision).order_by(Revision.id)).first()
    client.post_form(f"{path}/history/{oldest.id}/restore")
    lesson = db.session.scalars(sa.select(Lesson).where(Lesson.slug == "bai-khac")).one()
    db.session.refresh(lesson)
    assert lesson.draft_md == "Dòng cũ.\nDòng chung."


def test_image_upload_checks_content_and_serves_safely(app, client, setup) -> None:
    client.login("giangvien")

    def upload(data: bytes, name: str):  # type: ignore[no-untyped-def]
        return client.post_form(
            "/teach/khoa/uploads",
            {"image": (io.BytesIO(data), name)},
            headers={"Accept": "application/json"},
            content_type="multipart/form-data",
        )

    ok = upload(PNG, "anh.png")
    assert ok.status_code == 200
    url = ok.get_json()["markdown"].split("(")[1].rstrip(")")
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    served.close()
    for data, name in (
        (b"<html><script>alert(1)</script></html>", "anh.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg"),
        (b"", "trong.png"),
    ):
        refused = upload(data, name)
        assert refused.status_code == 400 and refused.get_json()["error"]
    app.config["UPLOAD_MAX_BYTES"] = 100  # the limit is a setting; a small one keeps the test light
    try:
        assert upload(PNG + b"0" * 100, "to.png").status_code == 400
    finally:
        app.config.pop("UPLOAD_MAX_BYTES")
    for name in ("../../etc/passwd", "..%2fapp.py", "x.png", "a" * 32 + ".svg"):
        assert client.get(f"/uploads/{name}").status_code == 404


def test_trainers_read_reflections_of_their_modules_only(app, client, setup) -> None:
    module = db.session.scalars(sa.select(Module).where(Module.slug == "mo-dun-khac")).one()
    lesson = make_lesson(module, "suy-ngam", body_md="```reflect r\nNghĩ gì?\n```")
    block = db.session.scalars(sa.select(services.Lesson).where(Lesson.id == lesson.id)).one()
    learner_id = db.session.scalars(
        sa.select(services.User.id).where(services.User.username == "0912000001")
    ).one()
    from lms.catalog.models import LessonBlock

    block = db.session.scalars(
        sa.select(LessonBlock).where(LessonBlock.lesson_id == lesson.id)
    ).one()
    db.session.add(
        BlockResponse(
            user_id=learner_id,
            block_id=block.id,
            lesson_id=lesson.id,
            value={"text": "Công đoàn tôi cần đối thoại."},
        )
    )
    db.session.commit()
    client.login("giangvien")
    assert client.get("/teach/khoa-khac/mo-dun-khac/learners").status_code == 403
    admin = app.test_client()
    admin.login("quantri")
    assert "Công đoàn tôi cần đối thoại." in admin.get(
        "/teach/khoa-khac/mo-dun-khac/learners"
    ).get_data(as_text=True)


def test_autosave_keeps_drafts_and_reports_conflicts(app, client, setup) -> None:
    client.login("quantri")
    path = "/teach/khoa-khac/mo-dun-khac/bai-khac"
    version = _ids(client, path)
    fields = {"title": "bai-khac", "minutes": "5", "kind": "reading", "version": version}
    saved = client.post_form(f"{path}/autosave", {**fields, "body": "Bản nháp tự lưu."})
    assert saved.status_code == 200 and saved.get_json()["saved"] is True
    lesson = db.session.scalars(sa.select(Lesson).where(Lesson.slug == "bai-khac")).one()
    db.session.refresh(lesson)
    assert lesson.draft_md == "Bản nháp tự lưu." and lesson.body_md != "Bản nháp tự lưu."
    stale = client.post_form(f"{path}/autosave", {**fields, "body": "Bản cũ hơn."})
    assert stale.status_code == 409 and stale.get_json()["error"] == "conflict"
    learner = app.test_client()
    learner.login("0912000001")
    page = learner.get("/learn/khoa-khac/mo-dun-khac/bai-khac")
    assert page.status_code == 404 or "Bản nháp tự lưu." not in page.get_data(as_text=True)


def test_admin_assigns_and_removes_trainers(app, client, setup) -> None:
    client.login("quantri")
    client.post_form("/teach/khoa-khac/trainers", {"username": "giangvien.b"})
    trainer_b = app.test_client()
    trainer_b.login("giangvien.b")
    assert trainer_b.get("/teach/khoa-khac").status_code == 200
    refused = client.post_form(
        "/teach/khoa-khac/trainers", {"username": "0912000001"}, follow_redirects=True
    )
    assert "không phải tài khoản giảng viên" in refused.get_data(as_text=True)
    user_id = db.session.scalars(
        sa.select(services.User.id).where(services.User.username == "giangvien.b")
    ).one()
    client.post_form(f"/teach/khoa-khac/trainers/{user_id}/remove")
    assert trainer_b.get("/teach/khoa-khac").status_code == 403
    assert (
        trainer_b.post_form("/teach/khoa-khac/trainers", {"username": "giangvien.b"}).status_code
        == 403
    )
