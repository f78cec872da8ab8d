"""Small factories: add and flush, return the object (use inside an app context)."""

import itertools

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.db import db
from lms.orgs import services as orgs
from lms.orgs.models import Organization

_seq = itertools.count(1)
PASSWORD = "mat-khau-thu-nghiem"  # noqa: S105


def make_org(
    code: str | None = None,
    *,
    kind: str = "district",
    parent: Organization | None = None,
    name: str | None = None,
    sector: str | None = None,
    members: int | None = None,
) -> Organization:
    n = next(_seq)
    code = code or f"U{n}"
    if kind == "grassroots" and sector is None:
        sector = "non_state"
    return orgs.create_org(
        code=code,
        name=name or f"Đơn vị {code}",
        kind=kind,
        parent=parent,
        sector=sector,
        member_count=members,
    )


def make_user(
    username: str | None = None,
    *,
    role: Role = Role.LEARNER,
    org: Organization | None = None,
    position: str | None = None,
    full_name: str | None = None,
    phone: str | None = None,
    password: str | None = PASSWORD,
) -> User:
    n = next(_seq)
    user = accounts.create_user(
        full_name=full_name or f"Người dùng {n}",
        role=role,
        username=username or (None if phone else f"user{n}"),
        phone=phone,
        password=password,
        org_id=org.id if org else None,
    )
    if position and org is not None:
        orgs.appoint(user, org, position)
    db.session.flush()
    return user


def make_tree() -> dict[str, Organization]:
    """A province with two districts (A, B), each with a non-state and a state union."""
    province = make_org("P", kind="province", name="LĐLĐ tỉnh thử")
    a = make_org("A", kind="district", parent=province, name="LĐLĐ huyện A")
    b = make_org("B", kind="district", parent=province, name="LĐLĐ huyện B")
    return {
        "province": province,
        "a": a,
        "b": b,
        "a_union": make_org("A-1", kind="grassroots", parent=a, sector="non_state", members=1200),
        "a_state": make_org("A-2", kind="grassroots", parent=a, sector="state", members=40),
        "b_union": make_org("B-1", kind="grassroots", parent=b, sector="non_state", members=300),
    }
