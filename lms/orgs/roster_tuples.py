"""What a roster plan reads of the database: tuples of the columns it needs.

A national file lists 150.000 people in 130.000 unions. As ORM objects, each union, account and
position read would cost several times the memory of these tuples, and would stay in the
session's identity map until the commit; the plan writes through bulk statements instead.
"""

from typing import NamedTuple

from lms.accounts.models import Role
from lms.orgs.models import GRASSROOTS, Position, Sector


class OrgRow(NamedTuple):
    """A union as the plan reads it."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str
    depth: int
    sector: Sector | None
    member_count: int | None

    @property
    def is_grassroots(self) -> bool:
        return self.kind == GRASSROOTS


class UserRow(NamedTuple):
    """An account as the plan reads it."""

    id: int
    full_name: str
    phone: str | None
    email: str | None
    role: Role
    org_id: int | None


class OfficerRow(NamedTuple):
    """A current position, with its holder's account."""

    id: int
    org_id: int
    position: Position
    user: UserRow

    @property
    def user_id(self) -> int:
        return self.user.id
