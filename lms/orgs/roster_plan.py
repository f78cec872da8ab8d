"""A roster file's plan: what it would change, checked against the tree; the unions' part.

A file speaks only for the unions it lists (shared/DESIGN.md §7). Nothing here writes.

What it reads of the database it holds as tuples of columns (lms.orgs.roster_tuples).
"""

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.db import db
from lms.orgs import services as orgs
from lms.orgs.models import Organization, Sector
from lms.orgs.roster import RosterRow, RowError
from lms.orgs.roster_tuples import OfficerRow, OrgRow, UserRow

CHUNK = 5000  # values per IN (...) list: well under SQLite's and PostgreSQL's limits

# What changed on an existing union or person, as people read it.
CHANGE_LABELS = {
    "name": _l("name"),
    "sector": _l("sector"),
    "member_count": _l("number of members"),
    "parent": _l("unit above (moved)"),
    "full_name": _l("name"),
    "phone": _l("phone number"),
    "email": _l("e-mail"),
}

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


def message(which: str, **params: object) -> str:
    table = MESSAGES if which in MESSAGES else orgs.MESSAGES
    return str(table[which]) % params


# The columns of a union that several rows of the file may give (each row must agree).
MERGED = ("ten_don_vi", "ma_cap_tren", "khu_vuc", "so_doan_vien")


@dataclass(slots=True)
class UnitPlan:
    code: str
    line: int
    name: str = ""
    parent_code: str = ""
    sector: Sector | None = None
    member_count: int | None = None
    org: OrgRow | None = None  # the existing unit, None for a new one
    parent: OrgRow | None = None
    changes: list[str] | tuple[()] = ()  # changed fields of an existing unit (no empty lists)
    # The row that first gave each of the MERGED fields (0: none yet); a list is a third of
    # a dict's size, for 130.000 unions.
    seen: list[int] = field(default_factory=lambda: [0] * len(MERGED))
    new_org_id: int | None = None  # set when the new union is inserted

    @property
    def org_id(self) -> int | None:
        return self.org.id if self.org is not None else self.new_org_id

    def line_of(self, name: str) -> int:
        """The row that first gave this field, else the unit's first row."""
        first = self.seen[MERGED.index(name)] if name in MERGED else 0
        return first or self.line


@dataclass(slots=True)
class PersonPlan:
    row: RosterRow
    unit: UnitPlan
    user: UserRow | None = None  # the existing account, None for a new one
    changes: list[str] | tuple[()] = ()
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
    closing: list[OfficerRow] = field(default_factory=list)
    kept: int = 0
    replaced_chairs: list[tuple[UnitPlan, OfficerRow, PersonPlan]] = field(default_factory=list)

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


def in_chunks(values: Iterable[object]) -> list[list[object]]:
    items = list(dict.fromkeys(values))
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def merge_units(rows: Sequence[RosterRow], errors: list[RowError]) -> dict[str, UnitPlan]:
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
    attr, index = _ATTRS[name], MERGED.index(name)
    first = getattr(unit, attr)
    if not unit.seen[index]:
        unit.seen[index] = line
        setattr(unit, attr, value)
    elif first != value:
        which = "members_conflict" if name == "so_doan_vien" else "conflict"
        shown = (getattr(first, "label", first), getattr(value, "label", value))
        params = {"code": unit.code, "value": shown[1], "first": shown[0]}
        errors.append(RowError(line, name, message(which, other=unit.seen[index], **params)))


_ORG_COLUMNS = [getattr(Organization, name) for name in OrgRow._fields]


def load_orgs(codes: Iterable[str], units: dict[str, UnitPlan] | None = None) -> dict[str, OrgRow]:
    """Unions by code. Equal values are shared rather than held twice, 130.000 times: the
    file's own code and name, one kind string, one int per parent."""
    found: dict[str, OrgRow] = {}
    units = units or {}
    parents: dict[int | None, int | None] = {}
    for chunk in in_chunks(codes):
        listed = {code: code for code in chunk}
        stmt = sa.select(*_ORG_COLUMNS).where(Organization.code.in_(chunk))
        for org in map(OrgRow._make, db.session.execute(stmt)):
            code = listed.get(org.code, org.code)
            unit = units.get(code)
            found[code] = org._replace(
                code=code,
                name=unit.name if unit is not None and unit.name == org.name else org.name,
                kind=sys.intern(org.kind),
                parent_id=parents.setdefault(org.parent_id, org.parent_id),
            )
    return found


def check_unit(
    unit: UnitPlan,
    existing: dict[str, OrgRow],
    root: Organization | None,
    errors: list[RowError],
) -> None:
    def fail(name: str, which: str, **params: object) -> None:
        errors.append(RowError(unit.line_of(name), name, message(which, **params)))

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
        unit.changes = _unit_changes(unit) or ()


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
