"""The editing history of lessons and quizzes, and images uploaded for lessons."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.accounts.models import User
from lms.db import Model, utcnow


class RevisionKind(enum.StrEnum):
    LESSON = "lesson"
    QUIZ = "quiz"


class Revision(Model):
    """One saved edit of a lesson's Markdown or a quiz's GIFT: who, when, and the whole text
    (diffs are computed when shown, so any two revisions can be compared)."""

    __tablename__ = "revision"
    __table_args__ = (sa.Index("ix_revision_kind_object", "kind", "object_id", "created_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RevisionKind]
    object_id: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(sa.Text)
    # What happened: saved, published, restored (from revision n), imported.
    action: Mapped[str] = mapped_column(sa.String(32), default="saved")

    author: Mapped[User | None] = orm.relationship(lazy="raise_on_sql")


class Upload(Model):
    """An image for lessons, stored under a generated name, never the uploader's file name."""

    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)  # "<uuid hex>.<ext>"
    content_type: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
