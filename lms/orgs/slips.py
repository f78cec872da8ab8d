"""Who staff may hand a sign-in link to, and whose slips a union's print-out holds."""

from dataclasses import dataclass

import sqlalchemy as sa

from lms.accounts.models import Invitation, Role, User
from lms.db import db, utcnow
from lms.orgs.models import Officer, Organization, Position
from lms.orgs.services import get_person_in_scope, subtree_clause


def may_invite(actor: User, user: User) -> bool:
    """Who may hand someone a sign-in link: staff for learners in their scope, admin for anyone
    else (nobody for their own account, which has its own password page)."""
    if user.id == actor.id:
        return False
    if actor.role == Role.ADMIN:
        return True
    return user.role == Role.LEARNER and get_person_in_scope(actor, user.id) is not None


@dataclass(frozen=True)
class SlipRow:
    user: User
    unit: Organization
    position: Position


def people_to_invite(
    org: Organization, *, include_invited: bool, limit: int = 500
) -> list[SlipRow]:
    """Officers in org's subtree who have not set a password yet, by union then position; those
    holding an unexpired invitation are left out unless include_invited (which replaces it)."""
    order = sa.case({p.value: i for i, p in enumerate(Position)}, value=Officer.position)
    stmt = (
        sa.select(Officer)
        .join(Organization, Organization.id == Officer.org_id)
        .join(User, User.id == Officer.user_id)
        .where(
            subtree_clause(org),
            Officer.ended_on.is_(None),
            User.password_hash.is_(None),
            User.active.is_(True),
            User.role == Role.LEARNER,
        )
        .options(sa.orm.contains_eager(Officer.org))
        .order_by(Organization.name, Organization.id, order, User.full_name, Officer.id)
        .limit(limit)
    )
    if not include_invited:
        open_invitation = sa.select(Invitation.id).where(
            Invitation.user_id == User.id,
            Invitation.used_dt.is_(None),
            Invitation.revoked_dt.is_(None),
            Invitation.expires_dt > utcnow(),
        )
        stmt = stmt.where(~open_invitation.exists())
    rows, seen = [], set()
    for officer in db.session.scalars(stmt):
        if officer.user_id not in seen:  # one slip per person, at their first union
            seen.add(officer.user_id)
            rows.append(SlipRow(officer.user, officer.org, officer.position))
    return rows
