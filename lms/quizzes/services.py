"""Quizzes: keeping them in step with their GIFT source, attempts, saving, grading.

Versioning rule: a quiz whose questions change gets a new version with new Question rows; rows
of earlier versions are never changed, so past attempts keep their questions, keys and scores.
An attempt in progress stays on the version it started with.
"""

import hashlib

import sqlalchemy as sa

from lms.catalog.models import Module
from lms.db import db
from lms.quizzes import gift
from lms.quizzes.models import Question, Quiz
from lms.quizzes.rendering import question_fields


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
