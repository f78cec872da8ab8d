"""Importing a roster: plan a parsed file (read-only, for the dry run and the preview), then
apply the plan in bulk in the caller's transaction.

New accounts are inserted without password hashing (people set a password through an
invitation) and new rows go in as multi-row INSERTs, so a file of 150.000 people stays fast.
"""

import sqlalchemy as sa

from lms import audit
from lms.accounts.models import Role, User
from lms.accounts.services import generate_username_candidates
from lms.db import begin_writing, db, vn_today
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
    CHUNK,
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
    existing = load_orgs([*units, *(u.parent_code for u in units.values() if u.parent_code)])
    for unit in units.values():
        check_unit(unit, existing, root, plan.errors)
    plan.units = list(units.values())
    rows = [row for row in parsed.rows if row.has_person and row.unit_code in units]
    by_phone = users_by_phone([row.phone for row in rows if row.phone])
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
    created = {org.code: org for org in load_orgs(unit.code for unit in units).values()}
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
    for chunk in in_chunks(row["username"] for row in rows):
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
