"""Importing a roster: plan a parsed file (read-only, for the dry run and the preview), then
apply the plan in bulk in the caller's transaction.

New accounts are inserted without password hashing (people set a password through an
invitation) and rows are written as multi-row INSERTs and UPDATEs by id, a slice at a time, so
a file of 150.000 people stays fast and within a few hundred megabytes.
"""

import sqlalchemy as sa

from lms import audit
from lms.accounts.models import Role, User
from lms.accounts.services import generate_username_candidates
from lms.db import begin_writing, db, slices, vn_today
from lms.orgs import services as orgs
from lms.orgs.models import GRASSROOTS, Officer, Organization
from lms.orgs.roster import ParsedRoster
from lms.orgs.roster_people import (
    current_officers,
    match_people,
    plan_positions,
    refuse_people_elsewhere,
    users_by_phone,
)
from lms.orgs.roster_plan import (
    PersonPlan,
    RosterPlan,
    UnitPlan,
    check_unit,
    in_chunks,
    load_orgs,
    merge_units,
)


def plan_roster(parsed: ParsedRoster, actor: User | None) -> RosterPlan:
    """Everything the file would change, or every reason it cannot be imported; writes nothing."""
    plan = RosterPlan(errors=list(parsed.errors))
    root = orgs.scope_root(actor) if actor is not None else None
    units = merge_units(parsed.rows, plan.errors)
    existing = load_orgs([*units, *(u.parent_code for u in units.values() if u.parent_code)], units)
    for unit in units.values():
        check_unit(unit, existing, root, plan.errors)
    plan.units = list(units.values())
    rows = [row for row in parsed.rows if row.has_person and row.unit_code in units]
    by_phone = users_by_phone([row for row in rows if row.phone])
    held = current_officers(
        [u.org.id for u in plan.units if u.org is not None], {u.id: u for u in by_phone.values()}
    )
    if root is not None:
        refuse_people_elsewhere(rows, by_phone, root, plan.errors)
    plan.people = match_people(rows, units, by_phone, held, plan.errors)
    plan_positions(plan, held)
    plan.errors.sort(key=lambda e: e.line)
    return plan


# ---- applying (one transaction; the caller commits) ------------------------------------------

# Two imports of the same file at once would both plan to create the same unions and people:
# on PostgreSQL the second would then hit the unique codes (an error page) or, for people
# without a phone, create them twice. Imports therefore take their turn under a lock held until
# the transaction ends, and plan only once they have it, so they see what the previous import
# committed. On SQLite the database's write lock, taken at BEGIN, does the same (lms.db).
IMPORT_LOCK = 0x726F73746572  # any fixed number; "roster" in ASCII


class ImportBusy(Exception):
    """Another roster import held the lock for longer than the database's lock timeout."""


def lock_imports() -> None:
    """Wait for any other roster import to end (up to the lock timeout), in this transaction."""
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(IMPORT_LOCK)))
        else:
            begin_writing()
    except sa.exc.OperationalError as exc:
        # PostgreSQL's lock_not_available, or SQLite's busy timeout: the other import is long.
        if getattr(exc.orig, "sqlstate", None) != "55P03" and "locked" not in str(exc.orig):
            raise
        db.session.rollback()
        raise ImportBusy from exc


def import_roster(parsed: ParsedRoster, actor: User | None) -> tuple[RosterPlan, dict | None]:
    """Plan and apply in one turn: the plan, and the counts (None when the plan has errors)."""
    lock_imports()
    plan = plan_roster(parsed, actor)
    return plan, apply_roster(plan, actor) if plan.ok else None


def apply_roster(plan: RosterPlan, actor: User | None) -> dict[str, int]:
    """Carry out a plan without errors: units, then closings, then new people and positions."""
    if not plan.ok:
        raise ValueError("a roster plan with errors cannot be applied")
    counts = plan.counts()  # before the new units and people get their rows
    today = vn_today()
    _create_units(plan.units_created)
    _update_units(plan.units_updated)
    # Closed chairs first: a union has one current chair (unique index).
    for chunk in in_chunks(o.id for o in plan.closing):
        db.session.execute(sa.update(Officer).where(Officer.id.in_(chunk)).values(ended_on=today))
    _update_by_id(User, [_person_values(p) for p in plan.people_updated])
    _create_people(plan.people_created)
    _open_positions(plan.opening, today)
    _attach_people(plan.people)
    # The rows were written past the ORM: objects this session loaded earlier read them again.
    db.session.expire_all()
    audit.log_event("roster.imported", by=actor.username if actor else "cli", **counts)
    return counts


# Plain multi-row INSERTs and UPDATEs by id, a slice of rows at a time: the ORM would send one
# INSERT per row to learn each new id, and keep an object per row for the whole transaction.
# render_nulls keeps every row's columns the same, so all rows go in one batched statement.


def _insert(model: type, rows: list[dict]) -> None:
    db.session.execute(sa.insert(model).execution_options(render_nulls=True), rows)


def _update_by_id(model: type, rows: list[dict]) -> None:
    for chunk in slices(rows):
        db.session.execute(sa.update(model), chunk)


def _ids(column: sa.orm.InstrumentedAttribute, keys: list[str]) -> dict[str, int]:
    """New rows' ids by their unique key (code, username)."""
    model = column.class_
    rows = db.session.execute(sa.select(column, model.id).where(column.in_(keys)))
    return {key: row_id for key, row_id in rows}


def _create_units(units: list[UnitPlan]) -> None:
    for chunk in slices(units):
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
            for unit in chunk
        ]
        _insert(Organization, rows)
        ids = _ids(Organization.code, [unit.code for unit in chunk])
        paths = []
        for unit in chunk:
            unit.new_org_id = org_id = ids[unit.code]
            paths.append({"id": org_id, "path": f"{unit.parent.path}{org_id}/"})  # type: ignore[union-attr]
        db.session.execute(sa.update(Organization), paths)


_UNIT_COLUMNS = ("id", "name", "sector", "member_count", "parent_id", "path", "depth")
_PERSON_COLUMNS = ("id", "full_name", "phone", "email")


def _update_units(units: list[UnitPlan]) -> None:
    rows = []
    for unit in units:
        org, parent = unit.org, unit.parent
        changed = {name: getattr(unit, name) for name in _UNIT_COLUMNS[1:4] if name in unit.changes}
        new = org._replace(**changed)  # type: ignore[union-attr]
        if "parent" in unit.changes and parent is not None:
            # Grassroots unions are leaves: moving one rewrites its own path only.
            path = f"{parent.path}{new.id}/"
            new = new._replace(parent_id=parent.id, path=path, depth=parent.depth + 1)
            audit.log_event("org.moved", code=unit.code, to=parent.code)
        rows.append({name: getattr(new, name) for name in _UNIT_COLUMNS})
    _update_by_id(Organization, rows)


def _person_values(person: PersonPlan) -> dict:
    changed = {name: getattr(person.row, name) for name in person.changes}
    new = person.user._replace(**changed)  # type: ignore[union-attr]
    return {name: getattr(new, name) for name in _PERSON_COLUMNS}


def _create_people(people: list[PersonPlan]) -> None:
    if not people:
        return
    names = iter(generate_username_candidates([p.row.full_name for p in people if not p.row.phone]))
    for chunk in slices(people):
        rows = [
            {
                "username": person.row.phone or next(names),
                "full_name": person.row.full_name,
                "phone": person.row.phone,
                "email": person.row.email,
                "role": Role.LEARNER,
                "org_id": person.unit.org_id,
            }
            for person in chunk
        ]
        _insert(User, rows)
        ids = _ids(User.username, [row["username"] for row in rows])
        for person, row in zip(chunk, rows, strict=True):
            person.new_user_id = ids[row["username"]]


def _open_positions(people: list[PersonPlan], today) -> None:  # type: ignore[no-untyped-def]
    for chunk in slices(people):
        rows = [
            {"user_id": p.user_id, "org_id": p.unit.org_id, "position": p.row.position,
             "started_on": today}
            for p in chunk
        ]  # fmt: skip
        _insert(Officer, rows)


def _attach_people(people: list[PersonPlan]) -> None:
    """Learners belong to the union the file lists them in (staff keep their scope)."""
    moves = [
        {"id": p.user.id, "org_id": p.unit.org_id}
        for p in people
        if p.user is not None and p.user.role == Role.LEARNER and p.user.org_id != p.unit.org_id
    ]
    _update_by_id(User, moves)
