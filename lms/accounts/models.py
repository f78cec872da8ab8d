"""Accounts, their server-side sessions and the failed sign-ins that throttling counts."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, utcnow


class Role(enum.StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.TRAINER: _l("Trainer"),
    Role.STAFF: _l("Federation staff"),
    Role.ADMIN: _l("Administrator"),
}


class User(Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Never changes after creation: a phone number, or an unaccented name plus digits.
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    role: Mapped[Role] = mapped_column(default=Role.LEARNER)
    # Staff: the root of the subtree they may see. Learners: their own union.
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_dt: Mapped[datetime | None]
    password_changed_dt: Mapped[datetime | None]

    org: Mapped["Organization | None"] = orm.relationship(  # type: ignore[name-defined] # noqa: F821
        foreign_keys=[org_id], lazy="raise_on_sql"
    )
    sessions: Mapped[list["UserSession"]] = orm.relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login protocol. The id it stores in the cookie is the server-side session token,
    # so a copied cookie stops working the moment that session is ended (SESS-03).
    session_token = None  # set per request; not a column
    session_touched = False  # the session was last seen over an hour ago: save it (not a column)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserSession(Model):
    """One signed-in device: deleting the row ends that session everywhere."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the token: a leaked database does not yield usable cookies.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_dt: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")

    user: Mapped[User] = orm.relationship(back_populates="sessions")


class LoginFailure(Model):
    """A failed sign-in, counted per account, per address and per pair within a window."""

    __tablename__ = "login_failure"
    __table_args__ = (
        sa.Index("ix_login_failure_account_created", "account", "created_dt"),
        sa.Index("ix_login_failure_ip_created", "ip", "created_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(sa.String(64))
    ip: Mapped[str] = mapped_column(sa.String(64))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InvitationKind(enum.StrEnum):
    INVITE = "invite"  # first sign-in of an account created without a password
    RESET = "reset"  # a new password, given by staff (no e-mail needed)


class Invitation(Model):
    """A single-use, expiring link (and short code) that lets one person set their password.

    Only SHA-256 hashes of the link token and of the code are stored: the secrets exist in
    the staff member's hands (a printed slip, a Zalo message) and nowhere else.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[InvitationKind]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Not unique: short codes of long-expired invitations may repeat.
    code_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    expires_dt: Mapped[datetime]
    used_dt: Mapped[datetime | None]
    # Set when a newer invitation replaces this one.
    revoked_dt: Mapped[datetime | None]

    user: Mapped[User] = orm.relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)


# `User.org` names Organization by string, so the first statement that configures the mappers
# (a module building its statements at import, e.g. lms.discussion.services) needs that class
# registered. Importing it here, once User exists, means importing any one room's models is enough.
from lms.orgs import models as _orgs_models  # noqa: E402, F401
