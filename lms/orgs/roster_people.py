"""A roster file's plan, the people's part: who is who, and which positions open or close.

People are matched by normalised phone anywhere in the tree, otherwise by name among the
union's current officers; the accounts and positions are loaded in a few queries per file.
"""

from collections import defaultdict

import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.db import db
from lms.orgs.models import Officer, Organization, Position
from lms.orgs.roster import RosterRow, RowError, key
from lms.orgs.roster_plan import PersonPlan, RosterPlan, UnitPlan, in_chunks, message
from lms.orgs.roster_tuples import OfficerRow, UserRow

_USER_COLUMNS = [getattr(User, name) for name in UserRow._fields]
_OFFICER_COLUMNS = [Officer.id, Officer.user_id, Officer.org_id, Officer.position]
_OFFICERS = len(_OFFICER_COLUMNS)


def match_people(
    rows: list[RosterRow],
    units: dict[str, UnitPlan],
    by_phone: dict[str, UserRow],
    held: dict[int, list[OfficerRow]],
    errors: list[RowError],
) -> list[PersonPlan]:
    """Find each listed person's account: by phone anywhere, else by name among the union's
    current officers (only when one side has no phone); a new account otherwise."""
    people, seen = [], {}
    for row in rows:
        unit = units[row.unit_code]
        person = PersonPlan(row=row, unit=unit, user=by_phone.get(row.phone or ""))
        if person.user is None and unit.org is not None:
            person.user = _by_name(held[unit.org.id], row)
        # An account's id (an int: never equal to a phone or a name key, both strings).
        identity = person.user.id if person.user else row.phone or _name_key(row)
        if identity in seen:
            errors.append(
                RowError(row.line, "ho_ten", message("duplicate_person", other=seen[identity]))
            )
            continue
        if person.user is not None and person.user.role != Role.LEARNER:
            errors.append(
                RowError(row.line, "dien_thoai", message("not_learner", value=row.phone or ""))
            )
        seen[identity] = row.line
        person.changes = _person_changes(person) or ()
        people.append(person)
    return people


def _name_key(row: RosterRow) -> str:
    return f"name:{row.unit_code}:{key(row.full_name)}"


def _by_name(officers: list[OfficerRow], row: RosterRow) -> UserRow | None:
    name = key(row.full_name)
    matches = {
        o.user.id: o.user
        for o in officers
        if key(o.user.full_name) == name and (not row.phone or not o.user.phone)
    }
    return next(iter(matches.values())) if len(matches) == 1 else None


def users_by_phone(rows: list[RosterRow]) -> dict[str, UserRow]:
    """Accounts of these rows by phone, current or as username (a phone number the person had
    at creation). Keys, phones and equal names are the file's own strings, not copies."""
    listed = {row.phone: row for row in rows}
    found: dict[str, UserRow] = {}
    for chunk in in_chunks(listed):
        stmt = sa.select(User.username, *_USER_COLUMNS).where(
            sa.or_(User.phone.in_(chunk), User.username.in_(chunk))
        )
        for username, *columns in db.session.execute(stmt):
            user = UserRow._make(columns)
            user = _shared(user, listed.get(user.phone))  # type: ignore[arg-type]
            if username in listed:
                found.setdefault(listed[username].phone, user)  # type: ignore[arg-type]
            if user.phone in listed:
                found[user.phone] = user  # the current phone wins over an old one
    return found


def _shared(user: UserRow, row: RosterRow | None) -> UserRow:
    if row is None:
        return user
    name = row.full_name if row.full_name == user.full_name else user.full_name
    return user._replace(phone=row.phone, full_name=name)


def refuse_people_elsewhere(
    rows: list[RosterRow], by_phone: dict[str, UserRow], root: Organization, errors: list[RowError]
) -> None:
    """Staff may not take over an account held outside their scope (by its unit or a position)."""
    ids = {u.id for u in by_phone.values()}
    outside: set[int] = set()
    for chunk in in_chunks(ids):
        attached = sa.select(User.id, Organization.path).join(
            Organization, Organization.id == User.org_id
        )
        holding = (
            sa.select(Officer.user_id, Organization.path)
            .join(Organization, Organization.id == Officer.org_id)
            .where(Officer.ended_on.is_(None))
        )
        for user_id, path in db.session.execute(
            attached.where(User.id.in_(chunk)).union_all(holding.where(Officer.user_id.in_(chunk)))
        ):
            if not path.startswith(root.path):
                outside.add(user_id)
    for row in rows:
        user = by_phone.get(row.phone or "")
        if user is not None and user.id in outside:
            text = message("person_elsewhere", value=row.phone)
            errors.append(RowError(row.line, "dien_thoai", text))


def current_officers(org_ids: list[int], known: dict[int, UserRow]) -> dict[int, list[OfficerRow]]:
    """Current officers of these unions, by union, with their accounts (those `known`, loaded
    already, are not loaded twice): one query per CHUNK unions."""
    held: dict[int, list[OfficerRow]] = defaultdict(list)
    for chunk in in_chunks(org_ids):
        stmt = (
            sa.select(*_OFFICER_COLUMNS, *_USER_COLUMNS)
            .join(User, User.id == Officer.user_id)
            .where(Officer.org_id.in_(chunk), Officer.ended_on.is_(None))
            .order_by(Officer.id)
        )
        ids = {org_id: org_id for org_id in chunk}
        for row in db.session.execute(stmt):
            officer_id, user_id, org_id, position = row[:_OFFICERS]
            user = known.get(user_id) or UserRow._make(row[_OFFICERS:])
            org_id = ids[org_id]  # the union's id already held, not one more int per officer
            held[org_id].append(OfficerRow(officer_id, org_id, position, user))
    return held


def _person_changes(person: PersonPlan) -> list[str]:
    user, row = person.user, person.row
    if user is None:
        return []
    changes = []
    if row.full_name != user.full_name:
        changes.append("full_name")
    if row.phone and row.phone != user.phone:
        changes.append("phone")
    if row.email and row.email != user.email:
        changes.append("email")
    return changes


def plan_positions(plan: RosterPlan, current: dict[int, list[OfficerRow]]) -> None:
    """Compare each listed union's current officers with the file: keep, close, open."""
    wanted: dict[str, list[PersonPlan]] = defaultdict(list)
    for person in plan.people:
        wanted[person.unit.code].append(person)
    _refuse_two_chairs(wanted, plan.errors)
    for unit in plan.units:
        held = current[unit.org.id] if unit.org is not None else []
        _plan_unit_positions(plan, unit, held, wanted[unit.code])


def _refuse_two_chairs(wanted: dict[str, list[PersonPlan]], errors: list[RowError]) -> None:
    for code, people in wanted.items():
        chairs = [p for p in people if p.row.position == Position.CHAIR]
        for extra in chairs[1:]:
            errors.append(
                RowError(
                    extra.row.line, "chuc_vu",
                    message("two_chairs", code=code, other=chairs[0].row.line),
                )
            )  # fmt: skip


def _plan_unit_positions(
    plan: RosterPlan, unit: UnitPlan, held: list[OfficerRow], people: list[PersonPlan]
) -> None:
    kept: set[int] = set()
    for person in people:
        same = [
            o
            for o in held
            if person.user is not None
            and o.user_id == person.user.id
            and o.position == person.row.position
        ]
        if same:
            kept.add(same[0].id)
        else:
            plan.opening.append(person)
    plan.kept += len(kept)
    plan.closing += [o for o in held if o.id not in kept]
    old_chair = next((o for o in held if o.position == Position.CHAIR), None)
    new_chair = next((p for p in people if p.row.position == Position.CHAIR), None)
    if old_chair is not None and new_chair is not None and old_chair.id not in kept:
        plan.replaced_chairs.append((unit, old_chair, new_chair))
