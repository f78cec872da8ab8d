"""Knowledge checks graded on the server, and the discussion under each lesson."""

import re

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.db import db
from lms.discussion.models import Post
from lms.progress.models import BlockResponse
from tests.factories import make_course, make_lesson, make_module, make_org, make_user

BODY = """Đọc kỹ.

```check luong-vung-3
Lương tối thiểu vùng III từ 01/01/2026? {
=4.140.000 đồng#Đúng theo NĐ 293/2025.
~3.860.000 đồng#Đây là mức cũ của NĐ 74/2024.
~3.700.000 đồng#Đây là mức vùng IV.
}
```

```check ghep
Ghép văn bản với nội dung. {
=NĐ 293/2025 -> lương tối thiểu
=NĐ 145/2020 -> quy chế dân chủ
}
```
"""
URL = "/learn/khoa/tien-luong/bai"


@pytest.fixture
def lesson(app):
    union = make_org("CD1", kind="grassroots", sector="non_state", members=50)
    make_user(phone="0912000001", org=union, position="chair", full_name="Nguyễn Văn An")
    make_user(phone="0912000002", org=union, full_name="Trần Thị Bình")
    make_user("giangvien", role=Role.TRAINER, full_name="Giảng Viên")
    found = make_lesson(make_module(make_course("khoa"), "tien-luong"), "bai", body_md=BODY)
    db.session.commit()
    return found


def _option_id(page: str, label: str) -> str:
    match = re.search(
        r'value="([^"]+)" id="check-luong-vung-3-[^"]+">\s*<label[^>]*>' + re.escape(label), page
    )
    assert match, label
    return match.group(1)


def test_check_page_carries_no_key(client, lesson) -> None:
    client.login("0912000001")
    page = client.get(URL).get_data(as_text=True)
    assert "4.140.000 đồng" in page and "3.700.000 đồng" in page
    for secret in ("NĐ 293/2025.", "mức cũ", "fraction", "feedback", "correct"):
        assert secret not in page
    ids = re.findall(r'name="answer" value="([^"]+)"', page)
    assert sorted(ids) == ["o0", "o1", "o2"]  # positions, not the authored order


def test_right_and_wrong_answers_get_feedback(client, lesson) -> None:
    client.login("0912000001")
    page = client.get(URL).get_data(as_text=True)
    client.post_form(f"{URL}/check/luong-vung-3", {"answer": _option_id(page, "3.860.000 đồng")})
    page = client.get(URL).get_data(as_text=True)
    assert "Chưa đúng." in page and "Đây là mức cũ của NĐ 74/2024." in page
    client.post_form(f"{URL}/check/luong-vung-3", {"answer": _option_id(page, "4.140.000 đồng")})
    page = client.get(URL).get_data(as_text=True)
    assert "Đúng theo NĐ 293/2025." in page
    assert db.session.scalars(sa.select(BlockResponse)).one().value["score"] == 1.0


def test_forged_option_ids_and_scores_are_ignored(client, lesson) -> None:
    client.login("0912000001")
    client.post_form(f"{URL}/check/luong-vung-3", {"answer": "o9", "score": "1"})
    client.post_form(f"{URL}/check/khong-co", {"answer": "o0"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BlockResponse)) == 0


def test_matching_check(client, lesson) -> None:
    client.login("0912000001")
    page = client.get(URL).get_data(as_text=True)
    selects = re.findall(r'<select name="(answer-s\d)"', page)
    assert len(selects) == 2
    assert "quy chế dân chủ" in page and "lương tối thiểu" in page


def test_post_reply_and_hide(app, client, lesson) -> None:
    client.login("0912000001")
    first = client.post_form(
        f"/lessons/{lesson.id}/posts", {"body": "<script>alert(1)</script> Hỏi?"}
    )
    assert first.status_code == 302 and "#post-" in first.headers["Location"]
    post = db.session.scalars(sa.select(Post)).one()
    client.post_form(f"/lessons/{lesson.id}/posts", {"body": "Trả lời", "parent_id": str(post.id)})
    page = client.get(URL).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hỏi?" in page and "<script>alert" not in page
    assert client.post_form(f"/posts/{post.id}/hide", {"reason": "Sai chủ đề"}).status_code == 403
    trainer = app.test_client()
    trainer.login("giangvien")
    trainer.post_form(f"/posts/{post.id}/hide", {"reason": "Sai chủ đề"})
    learner_view = client.get(URL).get_data(as_text=True)
    assert "Hỏi?" not in learner_view and "đã được giảng viên ẩn" in learner_view
    assert "Sai chủ đề" in trainer.get(URL).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 2  # kept, not deleted


def test_empty_post_is_refused_and_a_long_one_keeps_the_text(client, lesson) -> None:
    client.login("0912000001")
    refused = client.post_form(
        f"/lessons/{lesson.id}/posts", {"body": "   "}, follow_redirects=True
    )
    assert "Tin nhắn đang để trống." in refused.get_data(as_text=True)
    long_text = "Ý kiến dài " * 500
    kept = client.post_form(
        f"/lessons/{lesson.id}/posts", {"body": long_text}, follow_redirects=True
    )
    text = kept.get_data(as_text=True)
    assert "quá dài" in text and "Ý kiến dài Ý kiến dài" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_reply_to_a_post_of_another_lesson_is_refused(client, lesson) -> None:
    client.login("0912000001")
    other = make_lesson(make_module(make_course("khac"), "mo-dun"), "bai-khac")
    author = db.session.scalars(sa.select(Post.user_id)).first()
    db.session.commit()
    client.post_form(f"/lessons/{other.id}/posts", {"body": "Ở bài khác"})
    foreign = db.session.scalars(sa.select(Post)).one()
    response = client.post_form(
        f"/lessons/{lesson.id}/posts",
        {"body": "Trả lời", "parent_id": str(foreign.id)},
        follow_redirects=True,
    )
    assert "không thuộc bài học này" in response.get_data(as_text=True)
    assert author is None
