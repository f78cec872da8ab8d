"""A learner studies over HTTP: pages, reflections, cases, lesson and module completion."""

import pytest
import sqlalchemy as sa

from lms.catalog.models import ModuleStatus
from lms.db import db, utcnow
from lms.progress import services
from lms.progress.models import BlockResponse, Completion, CompletionSource, LessonProgress
from lms.quizzes.models import Attempt
from tests.factories import make_course, make_lesson, make_module, make_org, make_quiz, make_user

REFLECT = "Mở đầu.\n\n```reflect cua-ban\nCông đoàn của anh/chị **đã** làm gì?\n```\n\nKết."
CASE = """Tình huống:

```case chon
title = "Tăng ca"
situation = "Giám đốc yêu cầu tăng ca 46 giờ."
[[choice]]
text = "Đồng ý ngay"
consequence = "Công nhân kiệt sức."
feedback = "Chưa phù hợp: vượt 40 giờ/tháng."
[[choice]]
text = "Đối thoại"
consequence = "Hai bên thống nhất 40 giờ."
feedback = "Phù hợp."
best = true
```
"""
QUIZ = "::Q1:: Hai cộng hai? {=bốn#Đúng. ~ba#Sai.}"


@pytest.fixture
def course(app):
    union = make_org("CD1", kind="grassroots", sector="non_state", members=300)
    make_user(phone="0912000001", org=union, position="chair", full_name="Nguyễn Thị Hồng Nhung")
    make_user(phone="0912000002", org=union, position="vice_chair", full_name="Người Khác")
    make_user("giangvien", role="trainer")
    course = make_course("chu-de", title="Chủ đề thử")
    module = make_module(course, "tien-luong", title="Tiền lương")
    make_lesson(module, "bai-1", position=1, title="Bài một", body_md=REFLECT)
    make_lesson(module, "bai-2", position=2, title="Bài hai", body_md=CASE)
    make_quiz(module, QUIZ)
    db.session.commit()
    return course


def _pass_quiz(username: str) -> None:
    user = db.session.scalars(
        sa.select(services.User).where(services.User.username == username)
    ).one()
    quiz = db.session.scalars(sa.select(services.Module)).one()
    from lms.quizzes.services import quiz_for_module

    q = quiz_for_module(quiz)
    db.session.add(
        Attempt(
            user_id=user.id,
            quiz_id=q.id,
            version=q.version,
            attempt_no=1,
            submitted_dt=utcnow(),
            score=100.0,
            passed=True,
        )
    )
    db.session.commit()


def test_course_and_module_pages_show_requirement_and_progress(client, course) -> None:
    client.login("0912000001")
    page = client.get("/learn/chu-de").get_data(as_text=True)
    assert "Tiền lương" in page and "bắt buộc với anh/chị" in page
    module = client.get("/learn/chu-de/tien-luong").get_data(as_text=True)
    assert "Bắt đầu: Bài một" in module and "Vượt qua bài kiểm tra" in module
    home = client.get("/").get_data(as_text=True)
    assert "Tiếp theo: Bài một" in home


def test_lesson_page_renders_blocks_without_state_leaks(client, course) -> None:
    client.login("0912000001")
    page = client.get("/learn/chu-de/tien-luong/bai-1").get_data(as_text=True)
    assert "Công đoàn của anh/chị <strong>đã</strong> làm gì?" in page
    assert 'name="text"' in page and "Mở đầu." in page and "Kết." in page


def test_reflection_is_required_saved_and_private(app, client, course) -> None:
    client.login("0912000001")
    refused = client.post_form("/learn/chu-de/tien-luong/bai-1/done", follow_redirects=True)
    assert "trả lời câu hỏi suy ngẫm" in refused.get_data(as_text=True)
    empty = client.post_form(
        "/learn/chu-de/tien-luong/bai-1/reflect/cua-ban", {"text": "  "}, follow_redirects=True
    )
    assert "chưa viết gì" in empty.get_data(as_text=True)
    client.post_form(
        "/learn/chu-de/tien-luong/bai-1/reflect/cua-ban",
        {"text": "Chu\u0301ng tôi <b>đã</b> đối thoại."},
    )
    saved = db.session.scalars(sa.select(BlockResponse)).one()
    assert saved.value["text"] == "Chúng tôi <b>đã</b> đối thoại."  # NFC, stored as typed
    page = client.get("/learn/chu-de/tien-luong/bai-1").get_data(as_text=True)
    assert "Chúng tôi &lt;b&gt;đã&lt;/b&gt; đối thoại." in page
    assert "Chúng tôi &lt;b&gt;đã&lt;/b&gt;" in client.get("/notebook").get_data(as_text=True)
    other = app.test_client()
    other.login("0912000002")
    assert "đối thoại." not in other.get("/learn/chu-de/tien-luong/bai-1").get_data(as_text=True)
    done = client.post_form("/learn/chu-de/tien-luong/bai-1/done")
    assert done.headers["Location"].endswith("/learn/chu-de/tien-luong/bai-2")


def test_case_choice_shows_its_consequence(client, course) -> None:
    client.login("0912000001")
    client.post_form("/learn/chu-de/tien-luong/bai-2/case/chon", {"choice": "0"})
    page = client.get("/learn/chu-de/tien-luong/bai-2").get_data(as_text=True)
    assert (
        "Công nhân kiệt sức." in page
        and "Chưa phù hợp" in page
        and "Hai bên thống nhất" not in page
    )
    bad = client.post_form(
        "/learn/chu-de/tien-luong/bai-2/case/chon", {"choice": "7"}, follow_redirects=True
    )
    assert "Vui lòng chọn một phương án" in bad.get_data(as_text=True)


def test_whole_module_gives_exactly_one_completion(client, course) -> None:
    client.login("0912000001")
    client.post_form("/learn/chu-de/tien-luong/bai-1/reflect/cua-ban", {"text": "Đã làm."})
    client.post_form("/learn/chu-de/tien-luong/bai-1/done")
    client.post_form("/learn/chu-de/tien-luong/bai-2/done")
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0
    )  # quiz not passed
    _pass_quiz("0912000001")
    user = db.session.scalars(
        sa.select(services.User).where(services.User.username == "0912000001")
    ).one()
    module = db.session.scalars(sa.select(services.Module)).one()
    services.complete_module_if_done(user, module)
    services.complete_module_if_done(user, module)
    db.session.commit()
    completions = db.session.scalars(sa.select(Completion)).all()
    assert len(completions) == 1 and completions[0].source == CompletionSource.ONLINE
    page = client.get("/learn/chu-de/tien-luong").get_data(as_text=True)
    assert "Đã hoàn thành ngày" in page


def test_revoking_needs_a_reason_and_keeps_the_row(app_ctx, course) -> None:
    user = db.session.scalars(
        sa.select(services.User).where(services.User.username == "0912000001")
    ).one()
    admin = make_user("quantri", role="admin")
    module = db.session.scalars(sa.select(services.Module)).one()
    first = services.record_completion(user, module, CompletionSource.EXTERNAL)
    assert services.record_completion(user, module, CompletionSource.ONLINE) is first
    with pytest.raises(ValueError, match="reason"):
        services.revoke_completion(first, admin, " ")
    services.revoke_completion(first, admin, "Ghi nhầm người")
    second = services.record_completion(user, module, CompletionSource.ONLINE)
    assert second.id != first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 2


def test_unpublished_module_and_retired_lesson_are_not_found(client, course) -> None:
    client.login("0912000001")
    lesson = db.session.scalars(
        sa.select(services.Lesson).where(services.Lesson.slug == "bai-2")
    ).one()
    lesson.retired = True
    db.session.commit()
    assert client.get("/learn/chu-de/tien-luong/bai-2").status_code == 404
    module = db.session.scalars(sa.select(services.Module)).one()
    module.status = ModuleStatus.DRAFT
    db.session.commit()
    assert client.get("/learn/chu-de/tien-luong").status_code == 404
    assert client.get("/learn/chu-de/tien-luong/bai-1").status_code == 404


def test_visit_is_recorded_once_for_continue_where_you_left_off(client, course) -> None:
    client.login("0912000001")
    client.get("/learn/chu-de/tien-luong/bai-2")
    client.get("/learn/chu-de/tien-luong/bai-2")
    rows = db.session.scalars(sa.select(LessonProgress)).all()
    assert len(rows) == 1 and rows[0].completed_dt is None
    assert "Tiếp tục: Bài hai" in client.get("/learn/chu-de/tien-luong").get_data(as_text=True)


def test_a_chair_opening_a_module_is_counted_in_the_funnel_once(
    client, course, count_statements
) -> None:
    """The first lesson opened in a module reaches the dashboard's funnel without counting the
    union again (one look-up, the union's row, the module's roll-ups; PostgreSQL also locks the
    union and looks again); the module's other lessons opened later change nothing there."""
    from lms.progress import rollup
    from lms.progress.models import ModuleRollup, UnitStanding

    client.login("0912000001")  # the chair of CD1
    with count_statements() as first:
        assert client.get("/learn/chu-de/tien-luong/bai-2").status_code == 200
    assert any(s.startswith("UPDATE unit_standing") for s in first.statements)
    assert not any("group_concat" in s or "string_agg" in s for s in first.statements)  # recount
    module_id = db.session.scalars(sa.select(services.Module.id)).one()
    assert rollup.funnel(course.id, rollup.FEDERATION)[module_id] == (1, 0, 1, 0)
    started = sa.select(UnitStanding.modules_started).where(UnitStanding.course_id == course.id)
    assert db.session.scalars(started).one() == str(module_id)
    with count_statements() as second:
        assert client.get("/learn/chu-de/tien-luong/bai-1").status_code == 200
    assert not any("unit_standing" in s or "officer" in s for s in second.statements)
    # The first also writes the course's last-seen day (the module had no lesson seen today),
    # and its copy on the union the person chairs.
    extra = 5 if db.engine.dialect.name == "sqlite" else 8
    assert len(first.statements) <= len(second.statements) + extra, first.statements
    assert db.session.scalar(sa.select(sa.func.sum(ModuleRollup.started))) >= 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress)) == 2


def test_a_learner_who_chairs_nothing_opening_a_module_costs_one_look_up(
    client, course, count_statements
) -> None:
    from lms.progress.models import ModuleRollup

    client.login("0912000002")  # vice-chair of CD1
    with count_statements() as first:
        assert client.get("/learn/chu-de/tien-luong/bai-2").status_code == 200
    with count_statements() as second:
        assert client.get("/learn/chu-de/tien-luong/bai-1").status_code == 200
    # One look-up for the chair's unions, one write of the course's last-seen day and one of
    # its copy on the unions the person chairs (none: an index probe).
    assert len(first.statements) == len(second.statements) + 3, first.statements
    assert any(s.startswith("INSERT INTO learner_activity") for s in first.statements)
    assert not any("learner_activity" in s for s in second.statements)
    assert not any(s.startswith(("UPDATE unit_standing SET modules_started",
                                 "INSERT INTO module_rollup"))
                   for s in first.statements)  # fmt: skip
    assert not db.session.scalar(sa.select(sa.func.sum(ModuleRollup.started)))


def test_a_chair_who_completed_a_module_in_class_opening_it_changes_nothing(
    client, course, count_statements
) -> None:
    """The module is among the union's started ones already (a completion counts as started)."""
    from lms.progress import rollup

    find = sa.select(services.User).where(services.User.username == "0912000001")
    chair = db.session.scalars(find).one()
    module = db.session.scalars(sa.select(services.Module)).one()
    services.record_completion(chair, module, CompletionSource.EXTERNAL)
    db.session.commit()
    assert rollup.funnel(course.id, rollup.FEDERATION)[module.id] == (1, 1, 1, 1)
    client.login("0912000001")
    with count_statements() as counter:
        assert client.get("/learn/chu-de/tien-luong/bai-2").status_code == 200
    assert not any(s.startswith(("UPDATE unit_standing SET modules_started",
                                 "INSERT INTO module_rollup"))
                   for s in counter.statements)  # fmt: skip
    assert rollup.funnel(course.id, rollup.FEDERATION)[module.id] == (1, 1, 1, 1)


def test_lesson_page_costs_at_most_six_statements(client, course, count_statements) -> None:
    """Whatever the number of lessons, blocks, answers and posts (the second visit: no write)."""
    client.login("0912000001")
    lesson_id = db.session.scalars(
        sa.select(services.Lesson.id).where(services.Lesson.slug == "bai-2")
    ).one()
    client.get("/learn/chu-de/tien-luong/bai-2")  # the first visit records progress
    client.post_form("/learn/chu-de/tien-luong/bai-2/case/chon", {"choice": "1"})
    for n in range(5):
        client.post_form(f"/lessons/{lesson_id}/posts", {"body": f"Ý kiến {n}"})
    with count_statements() as counter:
        response = client.get("/learn/chu-de/tien-luong/bai-2")
    assert response.status_code == 200 and "Ý kiến 4" in response.get_data(as_text=True)
    assert counter.count <= 6, counter.statements
