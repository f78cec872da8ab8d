"""Posts and replies under a lesson; hidden by a trainer with a reason, never deleted."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.accounts.models import User
from lms.db import Model, utcnow


class Post(Model):
    __tablename__ = "post"
    __table_args__ = (sa.Index("ix_post_lesson_created", "lesson_id", "created_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("post.id"))
    body: Mapped[str] = mapped_column(sa.Text)  # plain text, shown escaped
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    hidden_dt: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))

    author: Mapped[User] = orm.relationship(foreign_keys=[user_id], lazy="raise_on_sql")
