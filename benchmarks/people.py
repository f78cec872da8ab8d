"""The federation's tree, its officers and their accounts, as rows for bulk inserts."""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from benchmarks.shape import (
    NON_STATE_RATE,
    VACANCY_RATE,
    Shape,
    member_count,
    officer_slots,
    units_per_upper,
)

SURNAMES = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
MIDDLES = "Văn Thị Hữu Minh Thanh Ngọc Đức Thu Quang Kim Xuân Hồng".split()
GIVEN = (
    "An Bình Châu Dũng Giang Hà Hải Hạnh Hòa Hùng Hương Khánh Lan Linh Long Mai Nam Nga Nhung "
    "Phong Phúc Quân Sơn Tâm Thảo Trang Tuấn Uyên Vy Yến Ước Đạt Lộc Thủy"
).split()
EXTRA_POSITIONS = ("vice_chair", "group_leader", "group_leader", "collaborator", "core_member")
CREATED = datetime(2020, 6, 1, tzinfo=UTC)


@dataclass
class Federation:
    """Everything the later steps need to know about the generated people and units."""

    orgs: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    officers: list[dict] = field(default_factory=list)
    learner_ids: list[int] = field(default_factory=list)
    chair_ids: list[int] = field(default_factory=list)
    worst_code: str = ""
    province_code: str = ""


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}"


def _org(org_id: int, code: str, name: str, kind: str, parent: dict | None, **extra) -> dict:  # type: ignore[no-untyped-def]
    path = (parent["path"] if parent else "/") + f"{org_id}/"
    row = {
        "id": org_id,
        "code": code,
        "name": name,
        "kind": kind,
        "path": path,
        "parent_id": parent["id"] if parent else None,
        "depth": path.count("/") - 2,
        "sector": None,
        "member_count": None,
        "created_dt": CREATED,
    }
    row.update(extra)
    return row


def _tree(s: Shape, rng: random.Random, fed: Federation) -> list[dict]:
    """Confederation, provinces, upper-level unions; returns the grassroots unions' parents."""
    ids = iter(range(1, 10**9))
    root = _org(next(ids), "TLD", "Tổng Liên đoàn Lao động Việt Nam", "confederation", None)
    provinces = [
        _org(next(ids), f"T{p:02d}", f"LĐLĐ tỉnh số {p:02d}", "province", root)
        for p in range(1, 35)
    ]
    uppers = []
    for u in range(s.uppers):
        province = provinces[u % len(provinces)]
        kind = "zone_union" if u == 0 or u % 11 == 0 else "district"
        label = "Công đoàn KCN" if kind == "zone_union" else "LĐLĐ huyện"
        code = f"{province['code']}-H{u:04d}"
        uppers.append(_org(next(ids), code, f"{label} số {u:04d}", kind, province))
    fed.orgs += [root, *provinces, *uppers]
    fed.worst_code, fed.province_code = uppers[0]["code"], provinces[0]["code"]
    return uppers


def _unions(s: Shape, rng: random.Random, fed: Federation, uppers: list[dict]) -> list[dict]:
    next_id = len(fed.orgs) + 1
    unions = []
    for upper, count in zip(uppers, units_per_upper(s, rng), strict=True):
        for _ in range(count):
            n = len(unions) + 1
            sector = "non_state" if rng.random() < NON_STATE_RATE else "state"
            unions.append(
                _org(
                    next_id,
                    f"CS{n:07d}",
                    f"CĐCS Công ty số {n}",
                    "grassroots",
                    upper,
                    sector=sector,
                    member_count=member_count(s, rng),
                )
            )
            next_id += 1
    fed.orgs += unions
    return unions


def _person(user_id: int, union: dict, rng: random.Random, activated: str | None) -> dict:
    phone = f"09{user_id:08d}"
    return {
        "id": user_id,
        "username": phone,
        "full_name": _name(rng),
        "phone": phone,
        "email": None,
        "role": "learner",
        "org_id": union["id"],
        "password_hash": activated if rng.random() < 0.7 else None,
        "active": True,
        "must_change_password": False,
        "locale": None,
        "created_dt": CREATED,
        "last_login_dt": None,
        "password_changed_dt": None,
    }


def _officer(user_id: int, union: dict, position: str, started: date, ended=None) -> dict:  # type: ignore[no-untyped-def]
    return {
        "user_id": user_id,
        "org_id": union["id"],
        "position": position,
        "started_on": started,
        "ended_on": ended,
    }


def _people(s: Shape, rng: random.Random, fed: Federation, unions: list[dict], hash_: str) -> None:
    slots = officer_slots(s, [u["member_count"] for u in unions], rng)
    user_id = 0
    for union, extra in zip(unions, slots, strict=True):
        vacant = rng.random() < VACANCY_RATE
        for k in range(extra + (0 if vacant else 1)):
            user_id += 1
            fed.users.append(_person(user_id, union, rng, hash_))
            fed.learner_ids.append(user_id)
            started = date(2020, 1, 1 + rng.randrange(28))
            if k == 0 and not vacant:
                fed.officers.append(_officer(user_id, union, "chair", started))
                fed.chair_ids.append(user_id)
            else:
                fed.officers.append(_officer(user_id, union, rng.choice(EXTRA_POSITIONS), started))
        if rng.random() < 0.03:  # a former chair, position closed: history the roster keeps
            user_id += 1
            fed.users.append(_person(user_id, union, rng, hash_))
            fed.officers.append(
                _officer(user_id, union, "chair", date(2018, 1, 1), date(2019, 12, 31))
            )


def staff_usernames() -> list[str]:
    """National (admin), province and worst-case district staff, in that order."""
    return ["bench.admin", "bench.province", "bench.district"]


def staff(fed: Federation, hash_: str) -> list[dict]:
    """Three staff accounts that sign in with the benchmark password: national, province,
    the worst-case district."""
    by_code = {o["code"]: o["id"] for o in fed.orgs}
    first = len(fed.users) + 1
    rows = []
    for n, (username, role, org) in enumerate(
        (
            ("bench.admin", "admin", None),
            ("bench.province", "staff", by_code[fed.province_code]),
            ("bench.district", "staff", by_code[fed.worst_code]),
        )
    ):
        rows.append(
            {
                **_person(first + n, {"id": org}, random.Random(n), hash_),
                "username": username,
                "phone": None,
                "role": role,
                "password_hash": hash_,
            }
        )
    return rows


def federation(s: Shape, seed: int, password_hash: str) -> Federation:
    """The whole tree and its people, the same for the same size, variant and seed."""
    rng = random.Random(f"{seed}-{s.label}")
    fed = Federation()
    uppers = _tree(s, rng, fed)
    unions = _unions(s, rng, fed, uppers)
    _people(s, rng, fed, unions, password_hash)
    fed.users += staff(fed, password_hash)
    return fed


def chunks(rows: list[dict], size: int = 5_000) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
