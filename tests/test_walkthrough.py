"""A chairperson studies the shipped orientation module from start to finish, over HTTP:
every lesson, every check, reflection and case, a discussion post, the quiz failed then passed,
and exactly one completion recorded (with its certificate)."""

import re
from pathlib import Path

import sqlalchemy as sa

from lms.authoring.importer import import_courses
from lms.authoring.loader import load_courses
from lms.catalog.models import Lesson, LessonBlock, Module
from lms.db import db
from lms.discussion.models import Post
from lms.progress.models import BlockResponse, Certificate, Completion
from tests.factories import make_org, make_user
from tests.quizzes.helpers import answer_form, latest_attempt

COURSES = Path(__file__).resolve().parent.parent / "courses"
BASE = "/learn/chu-de-2021/dinh-huong"


def _study(client, lesson: Lesson) -> None:
    _answer_blocks(client, lesson)
    assert client.post_form(f"{BASE}/{lesson.slug}/done").status_code == 302


def _answer_blocks(client, lesson: Lesson) -> None:
    """Answer every check, reflection and case of the lesson (without marking it done)."""
    url = f"{BASE}/{lesson.slug}"
    page = client.get(url).get_data(as_text=True)
    for block in db.session.scalars(
        sa.select(LessonBlock).where(LessonBlock.lesson_id == lesson.id)
    ):
        if block.kind == "check":
            section = page[page.index(f'id="block-{block.key}"') :]
            option = re.search(r'name="answer" value="([^"]+)"', section)
            if option:
                client.post_form(f"{url}/check/{block.key}", {"answer": option.group(1)})
        elif block.kind == "reflect":
            client.post_form(
                f"{url}/reflect/{block.key}", {"text": "Công đoàn tôi sẽ họp tổ vào tháng tới."}
            )
        else:
            client.post_form(f"{url}/case/{block.key}", {"choice": "1"})


def test_a_chairperson_completes_the_orientation_module(app, client) -> None:
    import_courses(load_courses(COURSES))
    union = make_org("CD1", kind="grassroots", sector="non_state", members=420)
    chair = make_user(
        phone="0912345678", org=union, position="chair", full_name="Nguyễn Thị Hồng Nhung"
    )
    db.session.commit()
    client.login("0912 345 678")
    module = db.session.scalars(sa.select(Module).where(Module.slug == "dinh-huong")).one()
    lessons = db.session.scalars(
        sa.select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position)
    ).all()

    first = f"{BASE}/{lessons[0].slug}"
    client.post_form(f"/lessons/{lessons[0].id}/posts", {"body": "Công ty tôi chưa có thỏa ước."})
    for lesson in lessons:
        _study(client, lesson)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
    answered = db.session.scalar(sa.select(sa.func.count()).select_from(BlockResponse))
    assert answered == db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LessonBlock)
        .join(Lesson)
        .where(Lesson.module_id == module.id)
    )
    assert "Đã hoàn thành" not in client.get(BASE).get_data(
        as_text=True
    )  # the quiz is still to pass

    client.post_form(f"/modules/{module.id}/quiz/start")
    failed = latest_attempt(chair.id)
    review = client.post_form(
        f"/attempts/{failed.public_id}/submit",
        answer_form(failed, right=False),
        follow_redirects=True,
    )
    assert review.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0

    client.post_form(f"/modules/{module.id}/quiz/start")
    passed = latest_attempt(chair.id)
    assert passed.id != failed.id
    client.post_form(f"/attempts/{passed.public_id}/submit", answer_form(passed, right=True))
    db.session.expire_all()
    assert latest_attempt(chair.id).passed is True

    completions = db.session.scalars(sa.select(Completion)).all()
    assert len(completions) == 1
    assert (completions[0].user_id, completions[0].module_id, completions[0].source) == (
        chair.id,
        module.id,
        "online",
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1
    assert "Đã hoàn thành ngày" in client.get(BASE).get_data(as_text=True)
    assert client.get(first).status_code == 200
