"""Quizzes: keeping them in step with their GIFT source, attempts, saving, grading.

Versioning rule: a quiz whose questions change gets a new version with new Question rows; rows
of earlier versions are never changed, so past attempts keep their questions, keys and scores.
An attempt in progress stays on the version it started with.
"""

import hashlib
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import User
from lms.catalog.models import Course, Module, ModuleStatus
from lms.db import db, start_writing, utcnow
from lms.quizzes import gift
from lms.quizzes.models import Attempt, Question, Quiz, Response
from lms.quizzes.question_types import Posted, kind, stored_html
from lms.quizzes.rendering import question_fields
from lms.quizzes.signals import attempt_graded


def quiz_for_module(module: Module) -> Quiz | None:
    """The quiz of a module, if it has one."""
    return db.session.scalars(sa.select(Quiz).where(Quiz.module_id == module.id)).first()


def current_questions(quiz: Quiz) -> list[Question]:
    """The questions of the quiz's current version, in authored order."""
    return list(
        db.session.scalars(
            sa.select(Question)
            .where(Question.quiz_id == quiz.id, Question.version == quiz.version)
            .order_by(Question.position)
        )
    )


def sync_quiz(module: Module, source: str) -> tuple[Quiz, bool]:
    """Make the module's quiz match a GIFT source; return (quiz, changed). Raises GiftError."""
    # Line endings and trailing blank lines do not change a quiz (no new version for them).
    source = source.replace("\r\n", "\n").rstrip() + "\n" if source.strip() else ""
    digest = hashlib.sha256(source.encode()).hexdigest()
    quiz = quiz_for_module(module)
    if quiz is not None and quiz.content_hash == digest:
        return quiz, False
    questions = [q for q in gift.parse(source)]
    if quiz is None:
        quiz = Quiz(module_id=module.id, version=1)
        db.session.add(quiz)
    else:
        quiz.version += 1
    quiz.gift_source = source
    quiz.content_hash = digest
    db.session.flush()
    for position, parsed in enumerate(questions):
        db.session.add(
            Question(
                quiz_id=quiz.id, version=quiz.version, position=position, **question_fields(parsed)
            )
        )
    db.session.flush()
    return quiz, True


# ---------------------------------------------------------------- attempts


class QuizError(Exception):
    """A refusal; the views map each kind to a status."""


class NotAvailable(QuizError):
    """No quiz for learners here: none, or its module or course is not published (404)."""


class AttemptNotFound(QuizError):
    """No such attempt of this user; another user's attempt looks the same (404, AC-02)."""


class AttemptsExhausted(QuizError):
    """The module's max_attempts are used up (409, QUIZ-05)."""


class AttemptConflict(QuizError):
    """A concurrent start took the attempt number and left nothing to resume (409)."""


class AlreadySubmitted(QuizError):
    """The attempt was submitted before this request (409, QUIZ-03, QUIZ-08)."""


class StaleRevision(QuizError):
    """The page was older than the saved answers, e.g. an old tab (409, QUIZ-04)."""


@dataclass
class QuizContext:
    quiz: Quiz
    module: Module
    course: Course


@dataclass
class AttemptContext(QuizContext):
    attempt: Attempt


_PUBLIC_ID = re.compile(r"[0-9a-f]{32}")
_PUBLISHED = (Module.status == ModuleStatus.PUBLISHED, Course.published.is_(True))


def _with_module(stmt: sa.Select[Any]) -> sa.Select[Any]:
    return stmt.join(Module, Module.id == Quiz.module_id).join(
        Course, Course.id == Module.course_id
    )


def available_quiz(module_id: int) -> QuizContext:
    """The quiz of a published module in a published course, or NotAvailable."""
    stmt = _with_module(sa.select(Quiz, Module, Course)).where(Module.id == module_id, *_PUBLISHED)
    row = db.session.execute(stmt).first()
    if row is None:
        raise NotAvailable
    return QuizContext(*row)


# The attempt's hot statements (every save, submit and review runs them) are built once: building
# one costs more CPU than running it, and a statement kept whole keeps its cache key, so each
# request only binds its values.
_ATTEMPT_OF_USER = _with_module(
    sa.select(Attempt, Quiz, Module, Course).join(Quiz, Quiz.id == Attempt.quiz_id)
).where(Attempt.public_id == sa.bindparam("public_id"), Attempt.user_id == sa.bindparam("user_id"))
_AVAILABLE_ATTEMPT_OF_USER = _ATTEMPT_OF_USER.where(*_PUBLISHED)
_QUESTIONS = (
    sa.select(Question)
    .where(Question.quiz_id == sa.bindparam("quiz_id"), Question.version == sa.bindparam("version"))
    .order_by(Question.position)
)
# A retry must see the latest rows.
_SAVED = (
    sa.select(Response)
    .where(Response.attempt_id == sa.bindparam("attempt_id"))
    .execution_options(populate_existing=True)
)
_CLAIM = (
    sa.update(Attempt)
    .where(
        Attempt.id == sa.bindparam("attempt_id"),
        Attempt.submitted_dt.is_(None),
        Attempt.revision == sa.bindparam("seen_revision"),
    )
    .execution_options(synchronize_session=False)
)
_claims: dict[tuple[str, ...], sa.Update] = {}


def _claim_statement(names: tuple[str, ...]) -> sa.Update:
    """The guarded UPDATE that sets these columns (a save sets the revision, a submit the
    grade too), built the first time it is asked for."""
    stmt = _claims.get(names)
    if stmt is None:
        stmt = _claims[names] = _CLAIM.values({n: sa.bindparam(f"new_{n}") for n in names})
    return stmt


def load_attempt(user: User, public_id: str, *, available: bool = True) -> AttemptContext:
    """The user's own attempt by public id; AttemptNotFound for anyone else's (AC-02).

    With `available`, the module and course must still be published (taking a quiz); the
    review of a finished attempt stays readable whatever happens to the module later.
    """
    if not _PUBLIC_ID.fullmatch(public_id or ""):
        raise AttemptNotFound
    stmt = _AVAILABLE_ATTEMPT_OF_USER if available else _ATTEMPT_OF_USER
    row = db.session.execute(stmt, {"public_id": public_id, "user_id": user.id}).first()
    if row is None:
        raise AttemptNotFound
    attempt, quiz, module, course = row
    return AttemptContext(quiz, module, course, attempt)


def attempts_of(user: User, quiz: Quiz) -> list[Attempt]:
    """The user's attempts at the quiz, oldest first."""
    stmt = sa.select(Attempt).where(Attempt.user_id == user.id, Attempt.quiz_id == quiz.id)
    return list(db.session.scalars(stmt.order_by(Attempt.attempt_no)))


def build_layout(
    questions: Sequence[Question], shuffle: bool, rng: random.Random | None = None
) -> dict[str, Any]:
    """Draw an attempt's question order and option ids once; the order is shuffled only when
    the quiz says so, the ids are always fresh random tokens (QUIZ-01)."""
    rng = rng or random.SystemRandom()
    order = [q.id for q in questions]
    if shuffle:
        rng.shuffle(order)
    entries = {str(q.id): kind(q).layout(q, shuffle, rng) for q in questions}
    return {"order": order, "questions": {k: v for k, v in entries.items() if v is not None}}


def start_attempt(user: User, ctx: QuizContext) -> tuple[Attempt, bool]:
    """Resume the user's attempt in progress, or start the next one within the module's
    limit; return (attempt, started). Two starts at once get the same attempt (QUIZ-05)."""
    attempts = attempts_of(user, ctx.quiz)
    current = next((a for a in attempts if not a.is_submitted), None)
    if current is not None:
        return current, False
    limit = ctx.module.max_attempts
    if limit is not None and len(attempts) >= limit:
        raise AttemptsExhausted
    attempt = Attempt(
        user_id=user.id,
        quiz_id=ctx.quiz.id,
        version=ctx.quiz.version,
        attempt_no=max((a.attempt_no for a in attempts), default=0) + 1,
        layout=build_layout(current_questions(ctx.quiz), ctx.quiz.shuffle),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except sa.exc.IntegrityError:
        # uq_attempt_user_quiz_no: a concurrent start (a double tap) took this number first.
        current = next((a for a in attempts_of(user, ctx.quiz) if not a.is_submitted), None)
        if current is None:
            raise AttemptConflict from None
        return current, False
    return attempt, True


def attempt_questions(attempt: Attempt) -> list[Question]:
    """The attempt's questions (of the quiz version it started on) in the order it shows them."""
    params = {"quiz_id": attempt.quiz_id, "version": attempt.version}
    questions = list(db.session.scalars(_QUESTIONS, params))
    rank = {qid: n for n, qid in enumerate(attempt.layout.get("order", []))}
    return sorted(questions, key=lambda q: rank.get(q.id, len(rank) + q.position))


def saved_answers(attempt: Attempt) -> dict[int, Response]:
    """The attempt's saved responses by question id."""
    return {r.question_id: r for r in db.session.scalars(_SAVED, {"attempt_id": attempt.id})}


def _entry(attempt: Attempt, question: Question) -> dict[str, Any]:
    return dict(attempt.layout.get("questions", {}).get(str(question.id)) or {})


def field_name(question: Question) -> str:
    return f"a{question.id}"


def read_answers(
    attempt: Attempt, questions: Sequence[Question], posted: Posted
) -> dict[int, dict[str, Any]]:
    """The answers in a posted form for the questions it lists in `q`; ids that are not this
    attempt's questions or options are ignored (QUIZ-07), and so is every other field."""
    listed = {v for v in posted.get("q", []) if v.isdigit()}
    answers = {}
    for q in questions:
        if str(q.id) in listed and kind(q).input:
            answer = kind(q).read(q, _entry(attempt, q), field_name(q), posted)
            if answer is not None:
                answers[q.id] = answer
    return answers


def _claim(attempt: Attempt, revision: int, **values: Any) -> None:
    """Move the attempt to revision+1 only if it is still open at `revision`: one guarded
    UPDATE, so of two racing requests exactly one wins (QUIZ-03, QUIZ-04, QUIZ-08).

    This is where a save or submit starts writing (lms.db.start_writing): what it read before
    (the attempt, its answers) was read at `revision`, and the UPDATE succeeds only if no one
    has moved the attempt on since, so those reads still hold for what it writes next. A
    request already refused by what it read takes no write lock."""
    if attempt.is_submitted:
        raise AlreadySubmitted
    if revision != attempt.revision:
        raise StaleRevision
    start_writing()
    values["revision"] = revision + 1
    params = {f"new_{name}": value for name, value in values.items()}
    result = db.session.execute(
        _claim_statement(tuple(sorted(values))),
        {"attempt_id": attempt.id, "seen_revision": revision, **params},
    )
    if result.rowcount != 1:
        db.session.refresh(attempt)
        raise AlreadySubmitted if attempt.is_submitted else StaleRevision
    for key, value in values.items():
        set_committed_value(attempt, key, value)


def _write(
    attempt: Attempt,
    existing: dict[int, Response],
    answers: dict[int, dict[str, Any]],
    scores: Mapping[int, float | None] | None = None,
) -> None:
    """Upsert responses with one INSERT and one UPDATE, however many questions there are."""
    now, inserts, updates = utcnow(), [], []
    for qid, answer in answers.items():
        values = {"answer": answer, "updated_dt": now, "score": (scores or {}).get(qid)}
        row = existing.get(qid)
        if row is None:
            inserts.append({"attempt_id": attempt.id, "question_id": qid, **values})
        else:
            updates.append({"id": row.id, **values})
            db.session.expire(row)
    if inserts:
        db.session.execute(sa.insert(Response), inserts)
    if updates:
        db.session.execute(sa.update(Response), updates)


def _blank(answer: dict[str, Any]) -> bool:
    return not any(answer.values())


def _unchanged(attempt: Attempt, questions: Sequence[Question], posted: Posted) -> bool:
    """Whether a form says exactly what is saved: then an older revision conflicts with
    nothing (a save whose reply was lost, a reload while a save was on its way)."""
    saved = {qid: r.answer for qid, r in saved_answers(attempt).items()}
    return all(
        saved.get(qid, {}) == answer or (_blank(saved.get(qid, {})) and _blank(answer))
        for qid, answer in read_answers(attempt, questions, posted).items()
    )


def save_answers(ctx: AttemptContext, posted: Posted, revision: int) -> int:
    """Save the posted answers of an open attempt seen at `revision`; return the new revision."""
    attempt = ctx.attempt
    questions = attempt_questions(attempt)
    try:
        _claim(attempt, revision)
    except StaleRevision:
        if not _unchanged(attempt, questions, posted):
            raise
        return attempt.revision
    _write(attempt, saved_answers(attempt), read_answers(attempt, questions, posted))
    return attempt.revision


def total_score(scores: Sequence[float]) -> float:
    """Percent 0..100, one decimal rounded half up; a quiz with nothing graded scores 100."""
    raw = sum(scores) / len(scores) * 100 if scores else 100.0
    return float(Decimal(repr(raw)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def submit_attempt(
    ctx: AttemptContext, user: User, posted: Posted, revision: int, *, retry: bool = True
) -> Attempt:
    """Save the posted answers, then submit and grade the attempt from the stored key; other
    posted fields (score, passed...) are never read (QUIZ-02). Sends attempt_graded."""
    attempt = ctx.attempt
    if attempt.is_submitted:
        raise AlreadySubmitted
    questions = attempt_questions(attempt)
    existing = saved_answers(attempt)
    answers = {qid: r.answer for qid, r in existing.items()}
    answers |= read_answers(attempt, questions, posted)
    final = {q.id: answers.get(q.id, {}) for q in questions if kind(q).input}
    scores = {q.id: kind(q).grade(q, final[q.id]) if kind(q).graded else None for q in questions}
    score = total_score([s for s in scores.values() if s is not None])
    passed = score >= ctx.module.pass_mark
    try:
        _claim(attempt, revision, submitted_dt=utcnow(), score=score, passed=passed)
    except StaleRevision:
        if not (retry and _unchanged(attempt, questions, posted)):
            raise
        return submit_attempt(ctx, user, posted, attempt.revision, retry=False)
    _write(attempt, existing, final, scores)
    attempt_graded.send(attempt, user=user, module=ctx.module)
    return attempt


def _question_head(q: Question, number: int | None) -> dict[str, Any]:
    return {
        "id": q.id,
        "name": field_name(q),
        "number": number,
        "title": q.title,
        "text_html": stored_html(q.text_html),
        "input": kind(q).input,
    }


def _numbered(questions: Sequence[Question]) -> list[tuple[Question, int | None]]:
    """Number the questions that take an answer; descriptions get no number."""
    out, n = [], 0
    for q in questions:
        n += 1 if kind(q).input else 0
        out.append((q, n if kind(q).input else None))
    return out


def present_attempt(ctx: AttemptContext) -> list[dict[str, Any]]:
    """The attempt page's questions with the saved answers: ids and texts only, no key,
    no fraction and no feedback (QUIZ-01)."""
    attempt = ctx.attempt
    saved = saved_answers(attempt)
    return [
        _question_head(q, n)
        | kind(q).present(q, _entry(attempt, q), saved[q.id].answer if q.id in saved else {})
        for q, n in _numbered(attempt_questions(attempt))
    ]


def _status(score: float | None, graded: bool) -> str | None:
    if not graded:
        return None
    if score is not None and score >= 1 - 1e-9:
        return "right"
    return "partial" if score else "wrong"


def review_attempt(ctx: AttemptContext) -> list[dict[str, Any]]:
    """A submitted attempt question by question: the learner's answer, right or wrong, the
    feedback of the chosen answers and the general feedback."""
    attempt = ctx.attempt
    saved = saved_answers(attempt)
    items = []
    for q, n in _numbered(attempt_questions(attempt)):
        qt, row = kind(q), saved.get(q.id)
        answer = row.answer if row else {}
        items.append(
            _question_head(q, n)
            | {
                "status": _status(row.score if row else 0.0, qt.graded) if qt.input else None,
                "chosen": qt.describe(q, _entry(attempt, q), answer),
                "feedback": [stored_html(f) for f in qt.feedback(q, answer)],
                "general_feedback_html": stored_html(q.general_feedback_html),
            }
        )
    return items
