"""Quiz test data: a GIFT quiz with every question type, and forms that answer it."""

from typing import Any

import sqlalchemy as sa

from lms.db import db
from lms.quizzes.models import Attempt, Question

# One question of each type; right answers are known so that tests can pass or fail at will.
GIFT = """
::Đoàn phí::Từ 01/7/2025 đoàn viên ở doanh nghiệp ngoài nhà nước đóng đoàn phí bao nhiêu? {
=0,5 phần trăm tiền lương#Đúng: Quyết định 61/QĐ-TLĐ.
~1 phần trăm tiền lương#Chưa đúng: đó là mức cũ.
~2 phần trăm tiền lương#Chưa đúng.
####Mức mới áp dụng từ 01/7/2025.
}

::Luật mới::Luật Công đoàn 2024 có hiệu lực từ 01/7/2025. {T#Sai rồi: đã có hiệu lực.#Chính xác.}

::Thủ đô::Thủ đô của Việt Nam là gì? {=Hà Nội#Đúng, Hà Nội. =%50%Ha Noi#Gần đúng: nhớ viết có dấu.}

::Giờ hoạt động::Chủ tịch CĐCS không chuyên trách được bao nhiêu giờ mỗi tháng? {#24#Đúng: 24 giờ.
~#Chưa đúng: 24 giờ.}

::Ghép::Ghép mỗi chức danh với số giờ. {
=Chủ tịch -> 24 giờ
=Tổ phó -> 12 giờ
= -> 48 giờ
}

::Chọn nhiều::Chọn tất cả nhận định đúng. {
~%50%Nhận định A#A đúng.
~%50%Nhận định B#B đúng.
~%-100%Nhận định C#C sai.
}

::Suy nghĩ::Anh/chị sẽ làm gì đầu tiên? {}

::Giới thiệu::Phần tiếp theo là một tình huống.
"""

GRADED = 6  # questions that count towards the score (not the essay, not the description)


def questions_of(attempt: Attempt) -> list[Question]:
    stmt = sa.select(Question).where(
        Question.quiz_id == attempt.quiz_id, Question.version == attempt.version
    )
    return list(db.session.scalars(stmt.order_by(Question.position)))


def latest_attempt(user_id: int) -> Attempt:
    db.session.expire_all()
    stmt = sa.select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.id.desc())
    return db.session.scalars(stmt).first()


def _token(pairs: list[list[Any]], index: int) -> str:
    return next(token for i, token in pairs if i == index)


def answer_form(attempt: Attempt, right: bool | set[str] = True) -> dict[str, Any]:
    """Form fields answering every question right (True), wrong (False), or right only for the
    question types named in a set."""
    questions = questions_of(attempt)
    data: dict[str, Any] = {"q": [str(q.id) for q in questions], "revision": str(attempt.revision)}
    for q in questions:
        good = right if isinstance(right, bool) else q.type in right
        entry = attempt.layout.get("questions", {}).get(str(q.id), {})
        value = _answer(q, entry, good)
        if value is not None:
            data.update(value)
    return data


def _answer(q: Question, entry: dict[str, Any], good: bool) -> dict[str, Any] | None:
    items, name = q.data["answers"], f"a{q.id}"
    if q.type == "multiple_choice":
        pick = max if good else min
        index = pick(range(len(items)), key=lambda i: items[i]["fraction"])
        return {name: _token(entry["options"], index)}
    if q.type == "multiple_answer":
        chosen = [i for i, a in enumerate(items) if (a["fraction"] > 0) == good]
        return {name: [_token(entry["options"], i) for i in chosen]}
    if q.type == "true_false":
        return {name: next(a["text"] for a in items if (a["fraction"] > 0) == good)}
    if q.type == "short_answer":
        return {name: items[0]["text"] if good else "Sài Gòn"}
    if q.type == "numerical":
        return {name: "24" if good else "12"}
    if q.type == "matching":
        return _matching(q, entry, good)
    if q.type == "essay":
        return {name: "Gặp gỡ công nhân để lắng nghe."}
    return None


def _matching(q: Question, entry: dict[str, Any], good: bool) -> dict[str, Any]:
    items, out = q.data["answers"], {}
    for stem, stem_token in entry["stems"]:
        for choice, choice_token in entry["choices"]:
            if (items[choice]["match"] == items[stem]["match"]) == good:
                out[f"a{q.id}-{stem_token}"] = choice_token
                break
    return out
