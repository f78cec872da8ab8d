"""Attempts through the services: start and resume, limits, saving, submitting, grading."""

import pytest
import sqlalchemy as sa

from lms.catalog.models import ModuleStatus
from lms.db import db
from lms.quizzes import services
from lms.quizzes.models import Attempt, Response
from lms.quizzes.signals import attempt_graded
from tests.factories import make_module, make_quiz
from tests.quizzes.helpers import GIFT, answer_form, questions_of


def _ctx(world) -> services.QuizContext:  # type: ignore[no-untyped-def]
    return services.available_quiz(world.module.id)


def _start(world, user=None) -> Attempt:  # type: ignore[no-untyped-def]
    attempt, _started = services.start_attempt(user or world.learner, _ctx(world))
    db.session.flush()
    return attempt


def _actx(world, attempt, user=None) -> services.AttemptContext:  # type: ignore[no-untyped-def]
    return services.load_attempt(user or world.learner, attempt.public_id)


def _submit(world, attempt, form) -> Attempt:  # type: ignore[no-untyped-def]
    done = services.submit_attempt(_actx(world, attempt), world.learner, form, attempt.revision)
    db.session.flush()
    return done


def _form(world, attempt, right=True) -> dict:  # type: ignore[no-untyped-def]
    data = answer_form(attempt, right)
    return {k: v if isinstance(v, list) else [str(v)] for k, v in data.items()}


def _responses(attempt: Attempt) -> dict[int, Response]:
    db.session.expire_all()
    return services.saved_answers(attempt)


def test_start_then_resume_the_same_attempt(quiz_world) -> None:
    first, started = services.start_attempt(quiz_world.learner, _ctx(quiz_world))
    again, started_again = services.start_attempt(quiz_world.learner, _ctx(quiz_world))
    assert started and not started_again and again.id == first.id
    assert first.attempt_no == 1 and first.version == quiz_world.quiz.version
    assert len(first.public_id) == 32


def test_next_attempt_number_is_max_plus_one(quiz_world) -> None:
    first = _start(quiz_world)
    _submit(quiz_world, first, _form(quiz_world, first, right=False))
    second = _start(quiz_world)
    assert second.attempt_no == 2 and second.id != first.id


def test_max_attempts_are_enforced_sequentially(quiz_world) -> None:
    """QUIZ-05, sequential: with max_attempts=2 a third start is refused."""
    quiz_world.module.max_attempts = 2
    for _ in range(2):
        attempt = _start(quiz_world)
        _submit(quiz_world, attempt, _form(quiz_world, attempt, right=False))
    with pytest.raises(services.AttemptsExhausted):
        _start(quiz_world)
    assert len(services.attempts_of(quiz_world.learner, quiz_world.quiz)) == 2


def test_a_start_that_loses_the_race_resumes_the_winners_attempt(quiz_world, monkeypatch) -> None:
    winner = _start(quiz_world)
    real = services.attempts_of
    calls = []

    def stale_view(user, quiz):  # type: ignore[no-untyped-def]
        # The first look happened before the winner committed: it saw no attempts.
        calls.append(1)
        return [] if len(calls) == 1 else real(user, quiz)

    monkeypatch.setattr(services, "attempts_of", stale_view)
    attempt, started = services.start_attempt(quiz_world.learner, _ctx(quiz_world))
    assert (attempt.id, started) == (winner.id, False)
    count = sa.select(sa.func.count()).select_from(Attempt)
    assert db.session.scalar(count.where(Attempt.user_id == quiz_world.learner.id)) == 1


@pytest.mark.parametrize("unpublish", ["module", "course"])
def test_an_unpublished_module_or_course_has_no_quiz(quiz_world, unpublish) -> None:
    attempt = _start(quiz_world)
    if unpublish == "module":
        quiz_world.module.status = ModuleStatus.DRAFT
    else:
        quiz_world.course.published = False
    db.session.flush()
    with pytest.raises(services.NotAvailable):
        _ctx(quiz_world)
    with pytest.raises(services.AttemptNotFound):
        services.load_attempt(quiz_world.learner, attempt.public_id)
    assert services.load_attempt(quiz_world.learner, attempt.public_id, available=False)


def test_a_module_without_a_quiz_has_none(quiz_world) -> None:
    bare = make_module(quiz_world.course, "khong-co-bai")
    with pytest.raises(services.NotAvailable):
        services.available_quiz(bare.id)


def test_only_the_owner_loads_an_attempt(quiz_world) -> None:
    attempt = _start(quiz_world)
    with pytest.raises(services.AttemptNotFound):
        services.load_attempt(quiz_world.other, attempt.public_id)
    for bad in ("", "1", str(attempt.id), attempt.public_id.upper(), "x" * 32):
        with pytest.raises(services.AttemptNotFound):
            services.load_attempt(quiz_world.learner, bad)


def test_layout_is_drawn_once_and_shuffles_only_when_the_quiz_says(quiz_world) -> None:
    attempt = _start(quiz_world)
    questions = questions_of(attempt)
    assert sorted(attempt.layout["order"]) == sorted(q.id for q in questions)
    again = _start(quiz_world)
    assert again.layout == attempt.layout
    quiz_world.quiz.shuffle = False
    ordered = services.build_layout(questions, shuffle=False)
    assert ordered["order"] == [q.id for q in questions]
    mc = next(q for q in questions if q.type == "multiple_choice")
    assert [i for i, _ in ordered["questions"][str(mc.id)]["options"]] == [0, 1, 2]


def test_save_stores_answers_and_moves_the_revision(quiz_world) -> None:
    attempt = _start(quiz_world)
    form = _form(quiz_world, attempt)
    assert services.save_answers(_actx(quiz_world, attempt), form, 0) == 1
    saved = _responses(attempt)
    assert len(saved) == len(questions_of(attempt)) - 1  # every question but the description
    assert all(r.score is None for r in saved.values())
    form = _form(quiz_world, attempt, right=False)
    assert services.save_answers(_actx(quiz_world, attempt), form, 1) == 2


def test_a_stale_revision_is_refused_and_changes_nothing(quiz_world) -> None:
    """QUIZ-04: a save from an older page (another tab) does not overwrite newer answers."""
    attempt = _start(quiz_world)
    services.save_answers(_actx(quiz_world, attempt), _form(quiz_world, attempt), 0)
    before = {q: r.answer for q, r in _responses(attempt).items()}
    with pytest.raises(services.StaleRevision):
        services.save_answers(_actx(quiz_world, attempt), _form(quiz_world, attempt, False), 0)
    assert {q: r.answer for q, r in _responses(attempt).items()} == before
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).revision == 1


def test_an_old_revision_that_repeats_the_saved_answers_is_no_conflict(quiz_world) -> None:
    """A save whose reply was lost, then the same answers again from revision 0: accepted
    without writing, and the page learns the current revision; a submit likewise."""
    attempt = _start(quiz_world)
    form = _form(quiz_world, attempt)
    assert services.save_answers(_actx(quiz_world, attempt), form, 0) == 1
    assert services.save_answers(_actx(quiz_world, attempt), form, 0) == 1
    done = services.submit_attempt(_actx(quiz_world, attempt), quiz_world.learner, form, 0)
    assert done.is_submitted and done.score == 100.0 and done.revision == 2


def test_save_after_submit_is_refused_and_answers_stay(quiz_world) -> None:
    """QUIZ-08."""
    attempt = _start(quiz_world)
    _submit(quiz_world, attempt, _form(quiz_world, attempt))
    before = {q: (r.answer, r.score) for q, r in _responses(attempt).items()}
    ctx = services.load_attempt(quiz_world.learner, attempt.public_id)
    with pytest.raises(services.AlreadySubmitted):
        services.save_answers(ctx, _form(quiz_world, attempt, False), ctx.attempt.revision)
    with pytest.raises(services.AlreadySubmitted):
        services.submit_attempt(ctx, quiz_world.learner, {}, ctx.attempt.revision)
    assert {q: (r.answer, r.score) for q, r in _responses(attempt).items()} == before


def test_answers_for_other_questions_or_options_are_ignored(quiz_world) -> None:
    """QUIZ-07: a question id of another quiz and option ids of another question store nothing."""
    attempt = _start(quiz_world)
    questions = questions_of(attempt)
    mc = next(q for q in questions if q.type == "multiple_choice")
    ma = next(q for q in questions if q.type == "multiple_answer")
    other_module = make_module(quiz_world.course, "khac")
    other_quiz = make_quiz(other_module, "Khác {=A ~B}")
    foreign_q = services.current_questions(other_quiz)[0]
    ma_token = attempt.layout["questions"][str(ma.id)]["options"][0][1]
    form = {
        "q": [str(mc.id), str(foreign_q.id), "-1", "abc", "99999999999999999999"],
        f"a{mc.id}": [ma_token],
        f"a{foreign_q.id}": ["x"],
    }
    services.save_answers(_actx(quiz_world, attempt), form, 0)
    assert _responses(attempt) == {}


def test_submit_grades_from_the_key_and_ignores_forged_fields(quiz_world) -> None:
    """QUIZ-02: score, passed, correct and answer_key in the form are never read."""
    attempt = _start(quiz_world)
    form = _form(quiz_world, attempt, right=False)
    form |= {"score": ["100"], "passed": ["1"], "correct": ["true"], "answer_key": ["0"]}
    done = _submit(quiz_world, attempt, form)
    assert done.score == 0.0 and done.passed is False and done.is_submitted
    assert done.revision == 1


def test_submit_right_answers_passes_with_essay_and_description_left_out(quiz_world) -> None:
    attempt = _start(quiz_world)
    done = _submit(quiz_world, attempt, _form(quiz_world, attempt))
    assert done.score == 100.0 and done.passed is True
    scores = {r.question_id: r.score for r in _responses(attempt).values()}
    types = {q.id: q.type for q in questions_of(attempt)}
    assert {types[q] for q, s in scores.items() if s is None} == {"essay"}
    assert all(s == 1.0 for q, s in scores.items() if types[q] != "essay")


def test_submit_keeps_saved_answers_it_was_not_sent(quiz_world) -> None:
    attempt = _start(quiz_world)
    services.save_answers(_actx(quiz_world, attempt), _form(quiz_world, attempt), 0)
    done = _submit(quiz_world, attempt, {})
    assert done.score == 100.0


def test_score_has_one_decimal_and_passed_compares_with_the_pass_mark(quiz_world) -> None:
    attempt = _start(quiz_world)
    right = {"multiple_choice", "true_false", "short_answer", "numerical"}
    done = _submit(quiz_world, attempt, _form(quiz_world, attempt, right))
    assert done.score == 66.7 and done.passed is False  # 4 of 6 graded questions
    assert services.total_score([1.0, 1.0, 1.0, 1.0, 0.0]) == 80.0
    assert services.total_score([0.125] * 4 + [0.0] * 4) == 6.3  # half up, not to even
    assert services.total_score([]) == 100.0


def test_submit_sends_attempt_graded_inside_the_transaction(quiz_world) -> None:
    received = []

    def receiver(sender, **kwargs):  # type: ignore[no-untyped-def]
        received.append((sender, kwargs, sender.score, sender.passed))

    attempt = _start(quiz_world)
    with attempt_graded.connected_to(receiver):
        _submit(quiz_world, attempt, _form(quiz_world, attempt))
    [(sender, kwargs, score, passed)] = received
    assert sender.id == attempt.id and score == 100.0 and passed is True
    assert kwargs == {"user": quiz_world.learner, "module": quiz_world.module}


def test_an_attempt_keeps_its_version_when_the_quiz_changes(quiz_world) -> None:
    attempt = _start(quiz_world)
    services.sync_quiz(quiz_world.module, GIFT + "\n::Mới::Câu mới? {=A ~B}\n")
    assert quiz_world.quiz.version == 2
    assert {q.version for q in questions_of(attempt)} == {1}
    done = _submit(quiz_world, attempt, _form(quiz_world, attempt))
    assert done.score == 100.0
    assert _start(quiz_world).version == 2


def test_review_lists_answers_right_or_wrong_with_feedback(quiz_world, app_ctx) -> None:
    attempt = _start(quiz_world)
    _submit(quiz_world, attempt, _form(quiz_world, attempt, right={"multiple_choice"}))
    items = services.review_attempt(_actx(quiz_world, attempt))
    types = {q.id: q.type for q in questions_of(attempt)}
    by_type = {types[item["id"]]: item for item in items}
    assert by_type["multiple_choice"]["status"] == "right"
    assert [str(f) for f in by_type["multiple_choice"]["feedback"]] == [
        "Đúng: Quyết định 61/QĐ-TLĐ."
    ]
    assert "Mức mới áp dụng" in by_type["multiple_choice"]["general_feedback_html"]
    assert by_type["true_false"]["status"] == "wrong"
    assert by_type["essay"]["status"] is None and by_type["description"]["status"] is None
