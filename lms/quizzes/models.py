"""Quizzes, their versioned questions, attempts and the answers saved in them."""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.accounts.models import User
from lms.catalog.models import Module
from lms.db import Model, utcnow


def new_public_id() -> str:
    return uuid.uuid4().hex


class Quiz(Model):
    """One module's quiz. Its questions are versioned: a change makes a new version, so
    past attempts keep the questions, keys and scores they were taken with."""

    __tablename__ = "quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id"), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    gift_source: Mapped[str] = mapped_column(sa.Text, default="")
    # A trainer's unpublished GIFT; the published version (above) is what learners take.
    draft_source: Mapped[str | None] = mapped_column(sa.Text)
    # Optimistic lock for the web editor.
    edit_version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    shuffle: Mapped[bool] = mapped_column(default=True)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    module: Mapped[Module] = orm.relationship(lazy="raise_on_sql")


class Question(Model):
    __tablename__ = "question"
    __table_args__ = (sa.Index("ix_question_quiz_version", "quiz_id", "version", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id"))
    version: Mapped[int]
    position: Mapped[int]
    # A name from the question_types registry (the DESIGN.md §6 vocabulary).
    type: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str | None] = mapped_column(sa.String(300))
    text_html: Mapped[str] = mapped_column(sa.Text, default="")
    general_feedback_html: Mapped[str | None] = mapped_column(sa.Text)
    # Answers with fractions and feedback (rendered): the key, never sent while an attempt runs.
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class Attempt(Model):
    __tablename__ = "attempt"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "quiz_id", "attempt_no", name="uq_attempt_user_quiz_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Used in URLs instead of the sequential id (AC-02).
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id"), index=True)
    version: Mapped[int]
    attempt_no: Mapped[int]
    started_dt: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_dt: Mapped[datetime | None]
    # Shuffled once per attempt: question ids, and per question the order of its options.
    layout: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Bumped by every save, so a stale tab is detected (QUIZ-04).
    revision: Mapped[int] = mapped_column(default=0)
    score: Mapped[float | None]  # 0..100
    passed: Mapped[bool | None]

    user: Mapped[User] = orm.relationship(lazy="raise_on_sql")
    quiz: Mapped[Quiz] = orm.relationship(lazy="raise_on_sql")

    @property
    def is_submitted(self) -> bool:
        return self.submitted_dt is not None


class Response(Model):
    __tablename__ = "response"
    __table_args__ = (
        sa.UniqueConstraint("attempt_id", "question_id", name="uq_response_attempt_question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("attempt.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("question.id"))
    answer: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    score: Mapped[float | None]  # 0..1 once graded
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
