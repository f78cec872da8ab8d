"""Applying a roster: what a file would change (the plan, read-only) and then doing it in bulk.

A file speaks only for the unions it lists (shared/DESIGN.md §7): their officers missing from
the file have their positions closed, other unions are untouched. Existing rows are loaded in a
few queries per file (not per row), and new people and positions are inserted in bulk, without
password hashing: people set their password through an invitation.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from lms import audit
from lms.accounts.models import Role, User
from lms.accounts.services import generate_username_candidates
from lms.db import db, vn_today
from lms.orgs import services as orgs
from lms.orgs.models import GRASSROOTS, Officer, Organization, Position, Sector
from lms.orgs.roster import ParsedRoster, RosterRow, RowError, key

CHUNK = 5000  # values per IN (...) list: well under SQLite's and PostgreSQL's limits

MESSAGES = {
    "conflict": _l("Unit %(code)s has “%(value)s” here but “%(first)s” on row %(other)s."),
    "members_conflict": _l(
        "Conflicting member counts for unit %(code)s: %(value)s here, %(first)s on row %(other)s."
    ),
    "new_unit_name": _l("Unit %(code)s is new: its name (Tên đơn vị) is needed."),
    "new_unit_parent": _l(
        "Unit %(code)s is new: the code of the unit above (Mã cấp trên) is needed."
    ),
    "new_unit_sector": _l("Unit %(code)s is new: its sector (Khu vực) is needed."),
    "not_grassroots": _l(
        "“%(value)s” is not a grassroots union: a roster lists grassroots unions."
    ),
    "parent_grassroots": _l("“%(value)s” is a grassroots union: no union can be under it."),
    "duplicate_person": _l("This person is already listed on row %(other)s."),
    "two_chairs": _l(
        "Unit %(code)s already has a chairperson on row %(other)s: a union has one chairperson."
    ),
    "person_elsewhere": _l(
        "The phone number %(value)s belongs to a person outside the part of the organisation "
        "you manage."
    ),
    "not_learner": _l(
        "The phone number %(value)s belongs to a staff, trainer or administrator account; "
        "such accounts are not managed by roster files."
    ),
}


def _message(which: str, **params: object) -> str:
    table = MESSAGES if which in MESSAGES else orgs.MESSAGES
    return str(table[which]) % params


@dataclass
class UnitPlan:
    code: str
    line: int
    name: str = ""
    parent_code: str = ""
    sector: Sector | None = None
    member_count: int | None = None
    org: Organization | None = None  # the existing unit, None for a new one
    parent: Organization | None = None
    changes: list[str] = field(default_factory=list)  # changed fields of an existing unit
    seen: dict[str, int] = field(default_factory=dict)  # field -> row that first gave it


@dataclass
class PersonPlan:
    row: RosterRow
    unit: UnitPlan
    user: User | None = None  # the existing account, None for a new one
    changes: list[str] = field(default_factory=list)
    new_user_id: int | None = None  # set when the new account is inserted

    @property
    def user_id(self) -> int:
        return self.user.id if self.user is not None else int(self.new_user_id or 0)


@dataclass
class RosterPlan:
    errors: list[RowError] = field(default_factory=list)
    units: list[UnitPlan] = field(default_factory=list)
    people: list[PersonPlan] = field(default_factory=list)
    opening: list[PersonPlan] = field(default_factory=list)
    closing: list[Officer] = field(default_factory=list)
    kept: int = 0
    replaced_chairs: list[tuple[UnitPlan, Officer, PersonPlan]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def units_created(self) -> list[UnitPlan]:
        return [u for u in self.units if u.org is None]

    @property
    def units_updated(self) -> list[UnitPlan]:
        return [u for u in self.units if u.org is not None and u.changes]

    @property
    def people_created(self) -> list[PersonPlan]:
        return [p for p in self.people if p.user is None]

    @property
    def people_updated(self) -> list[PersonPlan]:
        return [p for p in self.people if p.user is not None and p.changes]

    @property
    def unit_codes(self) -> dict[int, str]:
        return {u.org.id: u.code for u in self.units if u.org is not None}

    def counts(self) -> dict[str, int]:
        return {
            "units_created": len(self.units_created),
            "units_updated": len(self.units_updated),
            "units_unchanged": len(self.units) - len(self.units_created) - len(self.units_updated),
            "people_created": len(self.people_created),
            "people_updated": len(self.people_updated),
            "positions_opened": len(self.opening),
            "positions_closed": len(self.closing),
            "positions_kept": self.kept,
        }


def _in_chunks(values: Iterable[object]) -> list[list[object]]:
    items = list(dict.fromkeys(values))
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


# ---- planning (reads only) -------------------------------------------------------------------


def plan_roster(parsed: ParsedRoster, actor: User | None) -> RosterPlan:
    """Everything the file would change, or every reason it cannot be imported; writes nothing."""
    plan = RosterPlan(errors=list(parsed.errors))
    root = orgs.scope_root(actor) if actor is not None else None
    units = _merge_units(parsed.rows, plan.errors)
    existing = _load_orgs([*units, *(u.parent_code for u in units.values() if u.parent_code)])
    for unit in units.values():
        _check_unit(unit, existing, root, plan.errors)
    plan.units = list(units.values())
    rows = [row for row in parsed.rows if row.has_person and row.unit_code in units]
    by_phone = _users_by_phone([row.phone for row in rows if row.phone])
    held = _current_officers(
        [u.org.id for u in plan.units if u.org is not None], {u.id: u for u in by_phone.values()}
    )
    if root is not None:
        _refuse_people_elsewhere(rows, by_phone, root, plan.errors)
    plan.people = _match_people(rows, units, by_phone, held, plan.errors)
    _plan_positions(plan, held)
    plan.errors.sort(key=lambda e: e.line)
    return plan


def _merge_units(rows: Sequence[RosterRow], errors: list[RowError]) -> dict[str, UnitPlan]:
    """One plan per unit code; a field given differently on two rows is an error."""
    units: dict[str, UnitPlan] = {}
    for row in rows:
        if not row.unit_code:
            continue
        unit = units.setdefault(row.unit_code, UnitPlan(code=row.unit_code, line=row.line))
        for name, value in (
            ("ten_don_vi", row.unit_name),
            ("ma_cap_tren", row.parent_code),
            ("khu_vuc", row.sector),
            ("so_doan_vien", row.member_count),
        ):
            if value not in (None, ""):
                _merge_field(unit, name, value, row.line, errors)
    return units


_ATTRS = {
    "ten_don_vi": "name",
    "ma_cap_tren": "parent_code",
    "khu_vuc": "sector",
    "so_doan_vien": "member_count",
}


def _merge_field(unit: UnitPlan, name: str, value: object, line: int, errors: list) -> None:
    attr = _ATTRS[name]
    first = getattr(unit, attr)
    if name not in unit.seen:
        unit.seen[name] = line
        setattr(unit, attr, value)
    elif first != value:
        which = "members_conflict" if name == "so_doan_vien" else "conflict"
        shown = (getattr(first, "label", first), getattr(value, "label", value))
        params = {"code": unit.code, "value": shown[1], "first": shown[0]}
        errors.append(RowError(line, name, _message(which, other=unit.seen[name], **params)))


def _load_orgs(codes: Iterable[str]) -> dict[str, Organization]:
    found: dict[str, Organization] = {}
    for chunk in _in_chunks(codes):
        for org in db.session.scalars(sa.select(Organization).where(Organization.code.in_(chunk))):
            found[org.code] = org
    return found


def _check_unit(
    unit: UnitPlan,
    existing: dict[str, Organization],
    root: Organization | None,
    errors: list[RowError],
) -> None:
    def fail(name: str, which: str, **params: object) -> None:
        errors.append(RowError(unit.seen.get(name, unit.line), name, _message(which, **params)))

    unit.org = existing.get(unit.code)
    if unit.org is None:
        _check_new_unit(unit, fail)
    elif not unit.org.is_grassroots:
        fail("ma_don_vi", "not_grassroots", value=unit.code)
    elif root is not None and not unit.org.path.startswith(root.path):
        fail("ma_don_vi", "out_of_scope", value=unit.code)
    if unit.parent_code:
        unit.parent = existing.get(unit.parent_code)
        if unit.parent is None:
            fail("ma_cap_tren", "unknown_org", value=unit.parent_code)
        elif unit.parent.is_grassroots:
            fail("ma_cap_tren", "parent_grassroots", value=unit.parent_code)
        elif root is not None and not unit.parent.path.startswith(root.path):
            fail("ma_cap_tren", "out_of_scope", value=unit.parent_code)
    if unit.org is not None and unit.org.is_grassroots:
        unit.changes = _unit_changes(unit)


def _check_new_unit(unit: UnitPlan, fail) -> None:  # type: ignore[no-untyped-def]
    if not orgs.CODE_RE.fullmatch(unit.code):
        fail("ma_don_vi", "invalid_code", value=unit.code)
    for name, attr, which in (
        ("ten_don_vi", "name", "new_unit_name"),
        ("ma_cap_tren", "parent_code", "new_unit_parent"),
        ("khu_vuc", "sector", "new_unit_sector"),
    ):
        if getattr(unit, attr) in (None, ""):
            fail(name, which, code=unit.code)


def _unit_changes(unit: UnitPlan) -> list[str]:
    org = unit.org
    changes = []
    if unit.name and unit.name != org.name:
        changes.append("name")
    if unit.sector is not None and unit.sector != org.sector:
        changes.append("sector")
    if unit.member_count is not None and unit.member_count != org.member_count:
        changes.append("member_count")
    if unit.parent is not None and unit.parent.id != org.parent_id:
        changes.append("parent")
    return changes


def _match_people(
    rows: list[RosterRow],
    units: dict[str, UnitPlan],
    by_phone: dict[str, User],
    held: dict[int, list[Officer]],
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
        identity = f"user:{person.user.id}" if person.user else row.phone or _name_key(row)
        if identity in seen:
            errors.append(
                RowError(row.line, "ho_ten", _message("duplicate_person", other=seen[identity]))
            )
            continue
        if person.user is not None and person.user.role != Role.LEARNER:
            errors.append(
                RowError(row.line, "dien_thoai", _message("not_learner", value=row.phone or ""))
            )
        seen[identity] = row.line
        person.changes = _person_changes(person)
        people.append(person)
    return people


def _name_key(row: RosterRow) -> str:
    return f"name:{row.unit_code}:{key(row.full_name)}"


def _by_name(officers: list[Officer], row: RosterRow) -> User | None:
    name = key(row.full_name)
    matches = {
        o.user.id: o.user
        for o in officers
        if key(o.user.full_name) == name and (not row.phone or not o.user.phone)
    }
    return next(iter(matches.values())) if len(matches) == 1 else None


def _users_by_phone(phones: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _in_chunks(phones):
        stmt = sa.select(User).where(sa.or_(User.phone.in_(chunk), User.username.in_(chunk)))
        for user in db.session.scalars(stmt):
            found[user.phone or user.username] = user
    return found


def _refuse_people_elsewhere(
    rows: list[RosterRow], by_phone: dict[str, User], root: Organization, errors: list[RowError]
) -> None:
    """Staff may not take over an account held outside their scope (by its unit or a position)."""
    ids = {u.id for u in by_phone.values()}
    outside: set[int] = set()
    for chunk in _in_chunks(ids):
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
            text = _message("person_elsewhere", value=row.phone)
            errors.append(RowError(row.line, "dien_thoai", text))


def _current_officers(org_ids: list[int], known: dict[int, User]) -> dict[int, list[Officer]]:
    """Current officers of these unions, by union, with their accounts: those not `known`
    (loaded already) are loaded in bulk, so that officer.user never costs a query of its own."""
    held: dict[int, list[Officer]] = defaultdict(list)
    for chunk in _in_chunks(org_ids):
        for officer in db.session.scalars(
            sa.select(Officer)
            .where(Officer.org_id.in_(chunk), Officer.ended_on.is_(None))
            .options(sa.orm.lazyload(Officer.user))
            .order_by(Officer.id)
        ):
            held[officer.org_id].append(officer)
    users = dict(known)
    missing = {o.user_id for officers in held.values() for o in officers} - set(users)
    for chunk in _in_chunks(missing):
        users.update(
            (u.id, u) for u in db.session.scalars(sa.select(User).where(User.id.in_(chunk)))
        )
    for officers in held.values():
        for officer in officers:
            set_committed_value(officer, "user", users[officer.user_id])
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


def _plan_positions(plan: RosterPlan, current: dict[int, list[Officer]]) -> None:
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
                    _message("two_chairs", code=code, other=chairs[0].row.line),
                )
            )  # fmt: skip


def _plan_unit_positions(
    plan: RosterPlan, unit: UnitPlan, held: list[Officer], people: list[PersonPlan]
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


# ---- applying (one transaction; the caller commits) ------------------------------------------


def apply_roster(plan: RosterPlan, actor: User | None) -> dict[str, int]:
    """Carry out a plan without errors: units, then closings, then new people and positions."""
    if not plan.ok:
        raise ValueError("a roster plan with errors cannot be applied")
    counts = plan.counts()  # before the new units and people get their rows
    today = vn_today()
    _create_units(plan.units_created)
    _update_units(plan.units_updated)
    for officer in plan.closing:
        officer.ended_on = today
    for person in plan.people_updated:
        _update_person(person)
    db.session.flush()  # closed chairs first: a union has one current chair (unique index)
    _create_people(plan.people_created)
    _open_positions(plan.opening, today)
    _attach_people(plan.people)
    db.session.flush()
    audit.log_event("roster.imported", by=actor.username if actor else "cli", **counts)
    return counts


def _create_units(units: list[UnitPlan]) -> None:
    # Plain multi-row INSERTs: the ORM would send one INSERT per row to learn each new id.
    rows = [
        {
            "code": unit.code,
            "name": unit.name,
            "kind": GRASSROOTS,
            "parent_id": unit.parent.id,  # type: ignore[union-attr]
            "sector": unit.sector,
            "member_count": unit.member_count,
            "path": f"/new/{unit.code}/",  # unique until the id is known
            "depth": unit.parent.depth + 1,  # type: ignore[union-attr]
        }
        for unit in units
    ]
    _insert_many(Organization, rows)
    created = {org.code: org for org in _load_orgs(unit.code for unit in units).values()}
    for unit in units:
        unit.org = created[unit.code]
        unit.org.path = f"{unit.parent.path}{unit.org.id}/"  # type: ignore[union-attr]


def _insert_many(model: type, rows: list[dict]) -> None:
    # render_nulls keeps every row's columns the same, so all rows go in one batched statement.
    stmt = sa.insert(model).execution_options(render_nulls=True)
    for start in range(0, len(rows), CHUNK):
        db.session.execute(stmt, rows[start : start + CHUNK])


def _update_units(units: list[UnitPlan]) -> None:
    for unit in units:
        org = unit.org
        if "name" in unit.changes:
            org.name = unit.name
        if "sector" in unit.changes:
            org.sector = unit.sector
        if "member_count" in unit.changes:
            org.member_count = unit.member_count
        if "parent" in unit.changes and unit.parent is not None:
            # Grassroots unions are leaves: moving one rewrites its own path only.
            org.parent_id = unit.parent.id
            org.path = f"{unit.parent.path}{org.id}/"
            org.depth = unit.parent.depth + 1
            audit.log_event("org.moved", code=org.code, to=unit.parent.code)


def _update_person(person: PersonPlan) -> None:
    user, row = person.user, person.row
    if "full_name" in person.changes:
        user.full_name = row.full_name
    if "phone" in person.changes:
        user.phone = row.phone
    if "email" in person.changes:
        user.email = row.email


def _create_people(people: list[PersonPlan]) -> None:
    if not people:
        return
    names = generate_username_candidates([p.row.full_name for p in people if not p.row.phone])
    rows = []
    for person in people:
        username = person.row.phone or names.pop(0)
        rows.append(
            {
                "username": username,
                "full_name": person.row.full_name,
                "phone": person.row.phone,
                "email": person.row.email,
                "role": Role.LEARNER,
                "org_id": person.unit.org.id,
            }
        )
    _insert_many(User, rows)
    ids: dict[str, int] = {}
    for chunk in _in_chunks(row["username"] for row in rows):
        stmt = sa.select(User.username, User.id).where(User.username.in_(chunk))
        ids.update({username: user_id for username, user_id in db.session.execute(stmt)})
    for person, row in zip(people, rows, strict=True):
        person.new_user_id = ids[row["username"]]


def _open_positions(people: list[PersonPlan], today) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {
            "user_id": p.user_id,
            "org_id": p.unit.org.id,  # type: ignore[union-attr]
            "position": p.row.position,
            "started_on": today,
        }
        for p in people
    ]
    _insert_many(Officer, rows)


def _attach_people(people: list[PersonPlan]) -> None:
    """Learners belong to the union the file lists them in (staff keep their scope)."""
    for person in people:
        user = person.user
        if user is not None and user.role == Role.LEARNER and person.unit.org is not None:
            if user.org_id != person.unit.org.id:
                user.org_id = person.unit.org.id
