"""Live sessions (Jitsi, Google Meet or another link), who they are for, and who attended."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.accounts.models import User
from lms.catalog.models import Module
from lms.db import Model, utcnow


class LiveSession(Model):
    __tablename__ = "live_session"
    __table_args__ = (sa.Index("ix_live_session_module_start", "module_id", "start_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # In URLs and calendar UIDs instead of the sequential id.
    public_id: Mapped[str] = mapped_column(
        sa.String(32), unique=True, default=lambda: uuid.uuid4().hex
    )
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id"))
    title: Mapped[str] = mapped_column(sa.String(300))
    start_dt: Mapped[datetime] = mapped_column(index=True)
    minutes: Mapped[int]
    # A name from lms.live.providers.PROVIDERS; `location` is its room name or validated URL.
    provider: Mapped[str] = mapped_column(sa.String(32))
    location: Mapped[str] = mapped_column(sa.String(500))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    trainer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # An in-person or fully live class: confirmed attendance completes the whole module.
    covers_module: Mapped[bool] = mapped_column(default=False)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_dt: Mapped[datetime | None]

    module: Mapped[Module] = orm.relationship(lazy="raise_on_sql")
    trainer: Mapped[User | None] = orm.relationship(lazy="raise_on_sql")


class LiveAudience(Model):
    """A unit (and its subtree) a session is for; a session with no rows is for everyone."""

    __tablename__ = "live_audience"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "org_id", name="uq_live_audience_session_org"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("live_session.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"))


class Attendance(Model):
    """A person at a session: joins are recorded automatically; a trainer's confirmation is
    what counts for completion."""

    __tablename__ = "attendance"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id", name="uq_attendance_session_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("live_session.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    first_join_dt: Mapped[datetime | None]
    join_count: Mapped[int] = mapped_column(default=0)
    confirmed_dt: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # How the confirmation came: the trainer's check list, or a CSV export of the conferencing tool.
    confirmed_via: Mapped[str | None] = mapped_column(sa.String(16))


class LiveReminder(Model):
    """A day-before reminder e-mailed to one person; its presence stops a second one, and a
    failed send leaves no row, so the next run of `lms send-reminders` tries again."""

    __tablename__ = "live_reminder"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id", name="uq_live_reminder_session_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("live_session.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    sent_dt: Mapped[datetime] = mapped_column(default=utcnow)
