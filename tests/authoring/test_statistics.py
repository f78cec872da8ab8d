"""Item statistics: hand-computed figures over submitted attempts only, weak questions flagged,
per version, and a fixed number of SQL statements however many attempts there are."""

import pytest
import sqlalchemy as sa
from markupsafe import escape

from lms.accounts.models import Role, User
from lms.authoring import services
from lms.authoring.statistics import quiz_statistics
from lms.catalog.models import CourseTrainer
from lms.db import db
from lms.quizzes import services as quizzes
from lms.quizzes.models import Attempt
from tests.factories import make_course, make_module, make_quiz, make_user

GIFT = """::Đoàn phí::Đoàn phí bao nhiêu? {=Nửa phần trăm ~Một phần trăm ~Hai phần trăm}

::Luật::Luật mới có hiệu lực từ 01/7/2025. {T}

::Thủ đô::Thủ đô của Việt Nam? {=Hà Nội}

::Cộng::Hai cộng hai? {=Bốn ~Năm}
"""
# Per learner: answers to questions 1-4 by position (an option index, "true"/"false", a text).
SUBMITTED = [
    (0, "true", "Hà Nội", 0),  # 4/4 right: 100, passes
    (1, "false", "Hà Nội", 0),  # 2/4: 50
    (1, "true", None, 0),  # 2/4: 50, question 3 left blank
    (1, "true", "Huế", 0),  # 2/4: 50
]
IN_PROGRESS = (2, "false", "Huế", 1)  # saved, never submitted: counts nowhere


@pytest.fixture
def module(app):
    course = make_course("khoa-thong-ke")
    module = make_module(course, "mo-dun", pass_mark=80)
    make_quiz(module, GIFT)
    trainer = make_user("gv.thongke", role=Role.TRAINER)
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    db.session.flush()
    return module


def take(module, answers, submit: bool = True) -> Attempt:  # type: ignore[no-untyped-def]
    """One learner's attempt through the quiz services, answering by question position."""
    user = make_user()
    attempt, _started = quizzes.start_attempt(user, quizzes.available_quiz(module.id))
    db.session.flush()
    posted: dict[str, list[str]] = {"q": []}
    for q in quizzes.attempt_questions(attempt):
        posted["q"].append(str(q.id))
        value = answers[q.position]
        if value is None:
            continue
        if q.type == "multiple_choice":
            options = attempt.layout["questions"][str(q.id)]["options"]
            value = next(token for index, token in options if index == value)
        posted[f"a{q.id}"] = [value]
    ctx = quizzes.load_attempt(user, attempt.public_id)
    if submit:
        quizzes.submit_attempt(ctx, user, posted, attempt.revision)
    else:
        quizzes.save_answers(ctx, posted, attempt.revision)
    db.session.flush()
    return attempt


def test_figures_match_a_hand_computed_set_of_attempts(module) -> None:
    for answers in SUBMITTED:
        take(module, answers)
    take(module, IN_PROGRESS, submit=False)
    stats = quiz_statistics(quizzes.quiz_for_module(module), 1)
    assert (stats.attempts, stats.mean_score, stats.pass_rate) == (4, 62.5, 25.0)
    fee, law, capital, sum_ = stats.items
    assert [item.answered for item in stats.items] == [4, 4, 3, 4]
    assert [item.facility for item in stats.items] == [25.0, 75.0, 50.0, 100.0]
    assert [(o.count, o.percent, o.right) for o in fee.options] == [
        (1, 25.0, True),
        (3, 75.0, False),
        (0, 0.0, False),
    ]
    assert [(o.count, o.percent, o.right) for o in law.options] == [
        (3, 75.0, True),
        (1, 25.0, False),
    ]
    assert capital.options == []
    assert fee.flags == ["hard", "distractor"]
    assert law.flags == [] and capital.flags == []
    assert sum_.flags == ["easy"]


def test_each_version_has_its_own_figures(module) -> None:
    for answers in SUBMITTED:
        take(module, answers)
    quiz = quizzes.quiz_for_module(module)
    trainer = db.session.scalars(sa.select(User).where(User.username == "gv.thongke")).one()
    services.save_quiz(
        module, trainer, GIFT + "\n::Mới::Câu mới? {=Có ~Không}\n", quiz.edit_version
    )
    services.publish_quiz(quiz, module, trainer)
    assert quiz.version == 2
    fresh = quiz_statistics(quiz, 2)
    assert (fresh.attempts, fresh.mean_score, fresh.pass_rate) == (0, None, None)
    assert len(fresh.items) == 5 and all(not item.flags for item in fresh.items)
    assert quiz_statistics(quiz, 1).attempts == 4


def test_the_page_shows_the_figures_and_the_weak_questions(app, client, module) -> None:
    for answers in SUBMITTED:
        take(module, answers)
    db.session.commit()
    client.login("gv.thongke")
    page = client.get("/teach/khoa-thong-ke/mo-dun/quiz/stats").get_data(as_text=True)
    with app.test_request_context():
        from flask_babel import gettext

        weak = str(escape(gettext("Weak: a wrong answer is chosen more often than the right one.")))
    assert page.count(weak) == 1
    assert "<dd>4</dd>" in page and "62,5%" in page and "<dd>3 / 4</dd>" in page
    assert "<td>3</td><td>75%</td>" in page
    chosen = client.get("/teach/khoa-thong-ke/mo-dun/quiz/stats?version=1")
    assert chosen.status_code == 200 and "<dd>4</dd>" in chosen.get_data(as_text=True)


@pytest.mark.parametrize("attempts", [5, 50])
def test_the_statistics_cost_a_fixed_number_of_statements(
    module, count_statements, attempts
) -> None:
    for n in range(attempts):
        take(module, SUBMITTED[n % len(SUBMITTED)])
    quiz = quizzes.quiz_for_module(module)
    with count_statements() as counter:
        stats = quiz_statistics(quiz, 1)
    assert stats.attempts == attempts
    assert counter.count == 3, counter.statements
