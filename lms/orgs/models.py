"""Organisations (any depth, addressed by a materialised path) and officers' positions."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.accounts.models import User
from lms.db import Model, PathString, utcnow, vn_today

GRASSROOTS = "grassroots"

# Labels for the kinds in use; any other lowercase label is allowed and shown as typed.
KIND_LABELS = {
    "confederation": _l("Confederation"),
    "province": _l("Provincial federation"),
    "district": _l("District federation"),
    "sector_union": _l("Sector union"),
    "zone_union": _l("Industrial-zone union"),
    "commune_union": _l("Commune union"),
    GRASSROOTS: _l("Grassroots union"),
}


class Sector(enum.StrEnum):
    STATE = "state"
    NON_STATE = "non_state"

    @property
    def label(self) -> str:
        return str(SECTOR_LABELS[self])


SECTOR_LABELS = {Sector.STATE: _l("State sector"), Sector.NON_STATE: _l("Non-state sector")}


class Position(enum.StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    GROUP_LEADER = "group_leader"
    COLLABORATOR = "collaborator"
    CORE_MEMBER = "core_member"

    @property
    def label(self) -> str:
        return str(POSITION_LABELS[self])


POSITION_LABELS = {
    Position.CHAIR: _l("Chairperson"),
    Position.VICE_CHAIR: _l("Vice-chairperson"),
    Position.GROUP_LEADER: _l("Union group leader"),
    Position.COLLABORATOR: _l("Collaborator"),
    Position.CORE_MEMBER: _l("Core member"),
}


class Organization(Model):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    # "/1/7/42/": the ids from the root down to this node. A subtree is a range of paths,
    # which one B-tree index answers on SQLite and PostgreSQL alike.
    path: Mapped[str] = mapped_column(PathString, unique=True)
    depth: Mapped[int] = mapped_column(default=0)
    sector: Mapped[Sector | None]
    member_count: Mapped[int | None]
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped["Organization | None"] = orm.relationship(remote_side=[id], lazy="raise_on_sql")

    @property
    def is_grassroots(self) -> bool:
        return self.kind == GRASSROOTS

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def __repr__(self) -> str:
        return f"<Organization {self.code}>"


class Officer(Model):
    """A person's position in a union, kept with its history (ended, never deleted)."""

    __tablename__ = "officer"
    __table_args__ = (
        sa.Index("ix_officer_org_current", "org_id", "ended_on"),
        # At most one current chair per union.
        sa.Index(
            "uq_officer_current_chair",
            "org_id",
            unique=True,
            sqlite_where=sa.text("position = 'chair' AND ended_on IS NULL"),
            postgresql_where=sa.text("position = 'chair' AND ended_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"))
    position: Mapped[Position]
    started_on: Mapped[date] = mapped_column(default=vn_today)
    ended_on: Mapped[date | None]

    user: Mapped[User] = orm.relationship(lazy="joined", innerjoin=True)
    org: Mapped[Organization] = orm.relationship(lazy="raise_on_sql")

    @property
    def is_current(self) -> bool:
        return self.ended_on is None
