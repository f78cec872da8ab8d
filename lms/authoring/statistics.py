"""Item statistics of a quiz version, so that weak questions show up: how many answered each
question, its facility index, and how often each option of a choice question was chosen.

Only submitted attempts count. The figures cost three SQL statements whatever the number of
attempts: the questions, one aggregate over the attempts, and one read of their responses.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from markupsafe import Markup, escape

from lms.db import db
from lms.quizzes.models import Attempt, Question, Quiz, Response
from lms.quizzes.question_types import answers_of, kind, stored_html

# A facility index (percent) below HARD or above EASY flags the question (Moodle's rule of thumb).
HARD, EASY = 30.0, 95.0
CHOICE_TYPES = ("multiple_choice", "multiple_answer", "true_false")


@dataclass
class OptionStat:
    html: Markup
    right: bool
    fraction: float
    count: int = 0
    percent: float = 0.0


@dataclass
class ItemStat:
    question: Question
    number: int
    graded: bool
    answered: int = 0
    scores: list[float] = field(default_factory=list)
    options: list[OptionStat] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # "hard", "easy", "distractor"

    @property
    def facility(self) -> float | None:
        """The mean score of the question over the attempts, 0-100 (None when not graded)."""
        return sum(self.scores) / len(self.scores) * 100 if self.scores else None


@dataclass
class QuizStats:
    version: int
    attempts: int
    mean_score: float | None
    pass_rate: float | None
    items: list[ItemStat]


def _submitted(quiz: Quiz, version: int) -> tuple[Any, ...]:
    return (
        Attempt.quiz_id == quiz.id,
        Attempt.version == version,
        Attempt.submitted_dt.is_not(None),
    )


def quiz_statistics(quiz: Quiz, version: int) -> QuizStats:
    """The figures of one version of a quiz over its submitted attempts."""
    questions = db.session.scalars(
        sa.select(Question)
        .where(Question.quiz_id == quiz.id, Question.version == version)
        .order_by(Question.position)
    ).all()
    passed = sa.func.sum(sa.case((Attempt.passed.is_(True), 1), else_=0))
    count, mean, passes = db.session.execute(
        sa.select(sa.func.count(Attempt.id), sa.func.avg(Attempt.score), passed).where(
            *_submitted(quiz, version)
        )
    ).one()
    responses = db.session.execute(
        sa.select(Response.question_id, Response.answer, Response.score)
        .join(Attempt, Attempt.id == Response.attempt_id)
        .where(*_submitted(quiz, version))
    ).all()
    items = _items(questions, responses, count)
    return QuizStats(
        version=version,
        attempts=count,
        mean_score=float(mean) if count and mean is not None else None,
        pass_rate=(passes or 0) / count * 100 if count else None,
        items=items,
    )


def _items(
    questions: Sequence[Question], responses: Sequence[Any], attempts: int
) -> list[ItemStat]:
    """Aggregate the responses per question, then flag the weak questions."""
    items, number = {}, 0
    for q in questions:
        if kind(q).input:
            number += 1
            items[q.id] = ItemStat(q, number, kind(q).graded, options=_options(q))
    for question_id, answer, score in responses:
        item = items.get(question_id)
        if item is None:
            continue
        if any((answer or {}).values()):
            item.answered += 1
        if score is not None and item.graded:
            item.scores.append(float(score))
        for index in _chosen(item.question, answer or {}):
            item.options[index].count += 1
    for item in items.values():
        for option in item.options:
            option.percent = option.count / attempts * 100 if attempts else 0.0
        item.flags = _flags(item) if attempts else []
    return list(items.values())


def _options(q: Question) -> list[OptionStat]:
    """The options of a choice question, in authored order, with the right ones marked."""
    if q.type not in CHOICE_TYPES:
        return []
    labels = {"true": _("True"), "false": _("False")}
    return [
        OptionStat(
            html=escape(labels[a["text"]])
            if q.type == "true_false"
            else stored_html(a["text_html"]),
            right=float(a["fraction"]) > 0,
            fraction=float(a["fraction"]),
        )
        for a in answers_of(q)
    ]


def _chosen(q: Question, answer: dict[str, Any]) -> list[int]:
    """The indices of the options a stored answer chose (none for other question types)."""
    size = len(answers_of(q)) if q.type in CHOICE_TYPES else 0
    if q.type == "true_false":
        texts = [a["text"] for a in answers_of(q)]
        value = answer.get("value")
        return [texts.index(value)] if value in texts else []
    choices = answer.get("choices", []) if size else []
    return sorted({i for i in choices if isinstance(i, int) and 0 <= i < size})


def _flags(item: ItemStat) -> list[str]:
    """Why a question looks weak: too hard, too easy, or a wrong option beats the right one."""
    flags = []
    facility = item.facility
    if facility is not None and facility < HARD:
        flags.append("hard")
    if facility is not None and facility > EASY:
        flags.append("easy")
    if item.options:
        best = max(o.fraction for o in item.options)
        right = max(o.count for o in item.options if o.fraction == best)
        if any(o.count > right for o in item.options if not o.right):
            flags.append("distractor")
    return flags
