"""The organisation tree, staff scope and the people in it: the rules, without HTTP."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.db import db, fold, folded, vn_today
from lms.orgs.models import GRASSROOTS, Officer, Organization, Position, Sector

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
KIND_RE = re.compile(r"[a-z][a-z_]{1,39}")


class OrgError(ValueError):
    """A rule about organisations or positions was broken; `code` names it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


MESSAGES = {
    "invalid_code": _l(
        "“%(value)s” cannot be a unit code: use up to 40 letters, digits, dots or "
        "dashes, without spaces or accents."
    ),
    "code_taken": _l("A unit with the code “%(value)s” already exists."),
    "unknown_org": _l("There is no unit with the code “%(value)s”."),
    "out_of_scope": _l("The unit “%(value)s” is outside the part of the organisation you manage."),
    "invalid_kind": _l(
        "“%(value)s” cannot be a kind of unit: use lowercase unaccented letters "
        "and underscores, e.g. province, district, grassroots."
    ),
    "missing_name": _l("Please enter the unit's name."),
    "parent_is_grassroots": _l("A grassroots union cannot have units under it."),
    "grassroots_needs_sector": _l("A grassroots union needs its sector (state or non-state)."),
    "invalid_member_count": _l("The number of members must be a whole number, 0 or more."),
    "not_grassroots": _l("Sector and member count belong to grassroots unions only."),
    "invalid_sector": _l("Unknown sector “%(value)s”: use state or non_state."),
    "invalid_position": _l("Unknown position “%(value)s”."),
    "position_needs_grassroots": _l("Positions are held in a grassroots union."),
    "chair_taken": _l("“%(value)s” already has a chairperson. End that position first."),
    "invalid_role": _l("Unknown role “%(value)s”."),
    "staff_needs_org": _l("A staff account must be attached to the unit whose data it manages."),
    "own_account": _l("You cannot change your own role or disable your own account."),
}


def message(error: "OrgError | accounts.AccountError") -> str:
    """The translated sentence for an OrgError or AccountError."""
    if isinstance(error, accounts.AccountError):
        return accounts.message(error)
    text = str(MESSAGES[error.code])
    return text % error.params if error.params else text


# ---- the tree ------------------------------------------------------------------------------


def subtree_clause(root: Organization, column: sa.ColumnElement[str] = Organization.path):  # type: ignore[assignment]
    """Rows whose path lies in root's subtree: a range scan, '/1/7/' <= path < '/1/70'."""
    upper = root.path[:-1] + chr(ord("/") + 1)
    return sa.and_(column >= root.path, column < upper)


def get_org_by_code(code: str) -> Organization | None:
    return db.session.scalars(
        sa.select(Organization).where(Organization.code == code.strip())
    ).first()


def require_org(code: str) -> Organization:
    org = get_org_by_code(code or "")
    if org is None:
        raise OrgError("unknown_org", value=code)
    return org


def scope_root(actor: User) -> Organization | None:
    """The subtree an actor may see: staff their own node; None means everything (admin)."""
    if actor.role == Role.ADMIN:
        return None
    if actor.role == Role.STAFF and actor.org_id is not None:
        return db.session.get(Organization, actor.org_id)
    raise PermissionError("no organisation scope")


def in_scope(actor: User, org: Organization) -> bool:
    """True when the actor may see this unit."""
    try:
        root = scope_root(actor)
    except PermissionError:
        return False
    return root is None or org.path.startswith(root.path)


def get_org_in_scope(actor: User, code: str) -> Organization | None:
    """The unit with this code if the actor may see it; None otherwise (so views 404)."""
    try:
        root = scope_root(actor)
    except PermissionError:
        return None
    stmt = sa.select(Organization).where(Organization.code == code)
    if root is not None:
        stmt = stmt.where(subtree_clause(root))
    return db.session.scalars(stmt).first()


def create_org(
    *,
    code: str,
    name: str,
    kind: str,
    parent: Organization | None = None,
    sector: str | None = None,
    member_count: int | None = None,
    actor: User | None = None,
) -> Organization:
    """Add a unit under parent (or a root), checking code, kind and the grassroots fields."""
    code = unicodedata.normalize("NFC", code or "").strip()
    name = unicodedata.normalize("NFC", name or "").strip()
    kind = (kind or "").strip()
    if not CODE_RE.fullmatch(code):
        raise OrgError("invalid_code", value=code)
    if not name:
        raise OrgError("missing_name")
    if not KIND_RE.fullmatch(kind):
        raise OrgError("invalid_kind", value=kind)
    if parent is not None and parent.is_grassroots:
        raise OrgError("parent_is_grassroots")
    if actor is not None and parent is not None and not in_scope(actor, parent):
        raise OrgError("out_of_scope", value=parent.code)
    sector_value = _check_grassroots_fields(kind, sector, member_count)
    if get_org_by_code(code):
        raise OrgError("code_taken", value=code)
    org = Organization(
        code=code,
        name=name,
        kind=kind,
        parent_id=parent.id if parent else None,
        sector=sector_value,
        member_count=member_count,
        path="/pending/",
        depth=parent.depth + 1 if parent else 0,
    )
    db.session.add(org)
    db.session.flush()  # the id is part of the path
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    db.session.flush()
    audit.log_event("org.created", code=org.code, kind=org.kind)
    return org


def _check_grassroots_fields(
    kind: str, sector: str | None, member_count: int | None
) -> Sector | None:
    if kind != GRASSROOTS:
        if sector or member_count is not None:
            raise OrgError("not_grassroots")
        return None
    if not sector:
        raise OrgError("grassroots_needs_sector")
    try:
        value = Sector(sector)
    except ValueError as exc:
        raise OrgError("invalid_sector", value=sector) from exc
    if member_count is not None and member_count < 0:
        raise OrgError("invalid_member_count")
    return value


def ancestors(org: Organization, *, within: Organization | None = None) -> list[Organization]:
    """The chain from the root (or from `within`) down to org's parent, in one query."""
    ids = org.ancestor_ids
    if within is not None:
        ids = ids[ids.index(within.id) :] if within.id in ids else []
    if not ids:
        return []
    rows = db.session.scalars(sa.select(Organization).where(Organization.id.in_(ids))).all()
    by_id = {o.id: o for o in rows}
    return [by_id[i] for i in ids if i in by_id]


@dataclass(frozen=True)
class ChildRow:
    org: Organization
    grassroots: int
    chairs: int


def list_children(
    org: Organization | None, *, page: int = 1, per_page: int = 50
) -> tuple[list[ChildRow], int]:
    """org's direct children with the number of grassroots unions under each and their chairs."""
    parent_filter = (
        Organization.parent_id.is_(None) if org is None else Organization.parent_id == org.id
    )
    total = db.session.scalar(sa.select(sa.func.count()).where(parent_filter)) or 0
    children = db.session.scalars(
        sa.select(Organization)
        .where(parent_filter)
        .order_by(Organization.name, Organization.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    counts = _subtree_counts([c.id for c in children])
    return [ChildRow(c, *counts.get(c.id, (0, 0))) for c in children], total


def _subtree_counts(ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each given node: grassroots unions in its subtree and how many have a current chair."""
    if not ids:
        return {}
    node = sa.orm.aliased(Organization)
    leaf = sa.orm.aliased(Organization)
    upper = sa.func.substr(node.path, 1, sa.func.length(node.path) - 1).concat("0")
    chair = sa.orm.aliased(Officer)
    rows = db.session.execute(
        sa.select(
            node.id, sa.func.count(sa.distinct(leaf.id)), sa.func.count(sa.distinct(chair.org_id))
        )
        .join(leaf, sa.and_(leaf.path >= node.path, leaf.path < upper, leaf.kind == GRASSROOTS))
        .outerjoin(
            chair,
            sa.and_(
                chair.org_id == leaf.id, chair.position == Position.CHAIR, chair.ended_on.is_(None)
            ),
        )
        .where(node.id.in_(ids))
        .group_by(node.id)
    ).all()
    return {row[0]: (row[1], row[2]) for row in rows}


@dataclass(frozen=True)
class ScopeSummary:
    units: int
    grassroots: int
    non_state: int
    large: int
    chairs: int
    vacancies: int
    people: int


def summarise(root: Organization | None, split_members: int = 1000) -> ScopeSummary:
    """Counts for a staff home page: units, grassroots unions by sector and size, chairs, people."""
    scope = subtree_clause(root) if root is not None else sa.true()
    g = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Organization.kind == GRASSROOTS),
            sa.func.count().filter(Organization.sector == Sector.NON_STATE),
            sa.func.count().filter(Organization.member_count >= split_members),
        ).where(scope)
    ).one()
    o = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(Officer.org_id)).filter(Officer.position == Position.CHAIR),
            sa.func.count(sa.distinct(Officer.user_id)),
        )
        .join(Organization, Organization.id == Officer.org_id)
        .where(scope, Officer.ended_on.is_(None))
    ).one()
    return ScopeSummary(
        units=g[0],
        grassroots=g[1],
        non_state=g[2],
        large=g[3],
        chairs=o[0],
        vacancies=g[1] - o[0],
        people=o[1],
    )


# ---- people and positions ------------------------------------------------------------------


def current_officers(org: Organization) -> list[Officer]:
    """The people holding a position in this union now, chair first."""
    order = sa.case({p.value: i for i, p in enumerate(Position)}, value=Officer.position)
    return list(
        db.session.scalars(
            sa.select(Officer)
            .where(Officer.org_id == org.id, Officer.ended_on.is_(None))
            .order_by(order, Officer.id)
        ).all()
    )


# Built once: every learner page that checks what a person must do runs it.
_CURRENT_POSITIONS = (
    sa.select(Officer)
    .where(Officer.user_id == sa.bindparam("user_id"), Officer.ended_on.is_(None))
    .options(sa.orm.joinedload(Officer.org))
    .order_by(Officer.id)
)


def positions_of(user: User) -> list[Officer]:
    """A person's current positions, with their unions loaded."""
    return list(db.session.scalars(_CURRENT_POSITIONS, {"user_id": user.id}).all())


def appoint(
    user: User, org: Organization, position: str, *, started_on: date | None = None
) -> Officer:
    """Give a person a position in a grassroots union (one current chair per union)."""
    try:
        value = Position(position)
    except ValueError as exc:
        raise OrgError("invalid_position", value=position) from exc
    if not org.is_grassroots:
        raise OrgError("position_needs_grassroots")
    if value == Position.CHAIR and db.session.scalar(
        sa.select(sa.func.count()).where(
            Officer.org_id == org.id, Officer.position == Position.CHAIR, Officer.ended_on.is_(None)
        )
    ):
        raise OrgError("chair_taken", value=org.name)
    officer = Officer(
        user_id=user.id, org_id=org.id, position=value, started_on=started_on or vn_today()
    )
    db.session.add(officer)
    db.session.flush()
    return officer


def end_position(officer: Officer, *, ended_on: date | None = None) -> None:
    """Close a position; the row stays as history."""
    officer.ended_on = ended_on or vn_today()


def create_person(
    *,
    actor: User | None,
    full_name: str,
    role: str = Role.LEARNER.value,
    username: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    password: str | None = None,
    org_code: str | None = None,
    position: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Create an account attached to a unit, with an optional position there."""
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise OrgError("invalid_role", value=role) from exc
    org = require_org(org_code) if org_code else None
    if org is not None and actor is not None and not in_scope(actor, org):
        raise OrgError("out_of_scope", value=org.code)
    if role_value == Role.STAFF and org is None:
        raise OrgError("staff_needs_org")
    if position and (org is None or not org.is_grassroots):
        raise OrgError("position_needs_grassroots")
    user = accounts.create_user(
        full_name=full_name,
        role=role_value,
        username=username,
        phone=phone,
        email=email,
        password=password,
        org_id=org.id if org else None,
        must_change_password=must_change_password,
    )
    if position and org is not None:
        appoint(user, org, position)
    return user


ACCOUNT_STATUSES = ("activated", "pending")


def people_query(actor: User, search: str = "", status: str = "") -> sa.Select[tuple[User]]:
    """Accounts the actor may see (admin: all; staff: those attached to their subtree), filtered
    by name, username or phone and by whether the person has set a password ('activated')."""
    stmt = sa.select(User)
    if status == "activated":
        stmt = stmt.where(User.password_hash.is_not(None))
    elif status == "pending":
        stmt = stmt.where(User.password_hash.is_(None))
    root = scope_root(actor)
    if root is not None:
        stmt = stmt.join(Organization, Organization.id == User.org_id).where(subtree_clause(root))
    text = unicodedata.normalize("NFC", search or "").strip()
    if text:
        # Names compare without marks or case: people often type "nguyen van an" on a phone.
        name, exact = _like_pattern(fold(text)), _like_pattern(text)
        stmt = stmt.where(
            sa.or_(
                folded(User.full_name).like(name, escape="\\"),
                User.username.ilike(exact, escape="\\"),
                User.phone.ilike(exact, escape="\\"),
            )
        )
    return stmt.order_by(User.full_name, User.id)


def _like_pattern(text: str) -> str:
    """Containing `text`, its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def get_person_in_scope(actor: User, user_id: int) -> User | None:
    """One account if the actor may see it."""
    return db.session.scalars(people_query(actor).where(User.id == user_id)).first()


def update_person(
    actor: User, user: User, *, full_name: str, role: str, org_code: str | None, active: bool
) -> None:
    """Admin edits: name, role, attachment and whether the account may sign in."""
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise OrgError("invalid_role", value=role) from exc
    org = require_org(org_code) if org_code else None
    if role_value == Role.STAFF and org is None:
        raise OrgError("staff_needs_org")
    if user.id == actor.id and (role_value != user.role or not active):
        raise OrgError("own_account")
    if role_value != user.role:
        audit.log_event(
            "role.changed",
            account=user.username,
            old=user.role.value,
            new=role_value.value,
            by=actor.username,
        )
    user.full_name = unicodedata.normalize("NFC", full_name).strip() or user.full_name
    user.role = role_value
    user.org_id = org.id if org else None
    if user.active and not active:
        accounts.end_other_sessions(user, None)  # a disabled account is signed out everywhere
        audit.log_event("user.disabled", account=user.username, by=actor.username)
    user.active = active


def org_code(org_id: int | None) -> str:
    """The code of a unit given its id ('' for none)."""
    if org_id is None:
        return ""
    return db.session.scalar(sa.select(Organization.code).where(Organization.id == org_id)) or ""
