"""Applying roster files: create, re-import, move, close, replace chairs, refuse, all or nothing."""

import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.db import db, vn_today
from lms.orgs.models import Officer, Organization, Position, Sector
from lms.orgs.roster import parse_roster
from lms.orgs.roster_import import apply_roster, plan_roster
from tests.factories import make_org, make_user
from tests.orgs.roster_helpers import (
    counts,
    csv_file,
    example_as_xlsx,
    example_bytes,
    make_federation,
    positions,
    with_line,
)


def _plan(data: bytes, actor=None):  # type: ignore[no-untyped-def]
    return plan_roster(parse_roster(data), actor)


def _import(data: bytes, actor=None):  # type: ignore[no-untyped-def]
    plan = _plan(data, actor)
    assert plan.errors == []
    return plan, apply_roster(plan, actor)


def _org(code: str) -> Organization:
    return db.session.scalars(sa.select(Organization).where(Organization.code == code)).one()


def _user(phone: str) -> User:
    return db.session.scalars(sa.select(User).where(User.phone == phone)).one()


def test_the_example_file_imports_correctly(app) -> None:
    tree = make_federation()
    _plan_, done = _import(example_bytes())
    assert done["units_created"] == 6 and done["people_created"] == 10
    union = _org("DMC-DTTA")
    assert (union.name, union.kind, union.sector, union.member_count) == (
        "CĐCS Công ty TNHH Điện tử Tân An",
        "grassroots",
        Sector.NON_STATE,
        1000,
    )
    assert union.parent_id == tree["dmc"].id and union.path == f"{tree['dmc'].path}{union.id}/"
    assert _org("GD-GIAYDL").parent_id == tree["gd"].id
    assert positions("DMC-DTTA") == [
        ("Nguyễn Thị Hồng Nhung", "chair"),
        ("Trần Văn Ước", "vice_chair"),
        ("Lê Thị Mỹ", "group_leader"),
    ]
    assert positions("DMC-UBXA") == []  # the vacancy
    nhung = _user("0912345678")
    assert (nhung.username, nhung.email, nhung.role, nhung.org_id) == (
        "0912345678",
        "nhung.nt@example.vn",
        Role.LEARNER,
        union.id,
    )
    # Accounts in bulk: no password hashed at import; people get invitations (AUTH-07).
    assert nhung.password_hash is None and not nhung.must_change_password
    kim = db.session.scalars(sa.select(User).where(User.full_name == "Đặng Thị Kim")).one()
    assert kim.phone is None and kim.username.startswith("dangthikim")


def test_xlsx_imports_the_same_as_csv(app) -> None:
    make_federation()
    _plan_, done = _import(example_as_xlsx())
    assert done["people_created"] == 10 and positions("GD-GIAYDL")[0] == ("Đỗ Văn Hải", "chair")


def test_importing_again_changes_nothing(app) -> None:
    make_federation()
    _import(example_bytes())
    before = counts()
    plan, done = _import(example_bytes())
    assert done == {
        "units_created": 0,
        "units_updated": 0,
        "units_unchanged": 6,
        "people_created": 0,
        "people_updated": 0,
        "positions_opened": 0,
        "positions_closed": 0,
        "positions_kept": 10,
    }
    assert counts() == before


def test_a_dry_run_writes_nothing(app) -> None:
    make_federation()
    before = counts()
    plan = _plan(example_bytes())
    assert plan.ok and plan.counts()["people_created"] == 10
    db.session.flush()
    assert counts() == before


def test_one_bad_row_imports_nothing_and_names_the_row(app) -> None:
    make_federation()
    before = counts()
    bad = with_line(7, "5;DMC-MAYHP;;;;;Đặng Thị Kim;Cộng tác viên;0912 34;;")
    plan = _plan(bad)
    assert [(e.line, e.field) for e in plan.errors] == [(7, "dien_thoai")]
    assert counts() == before


def test_a_file_speaks_only_for_its_unions(app) -> None:
    tree = make_federation()
    other = make_org("DMC-KHAC", kind="grassroots", parent=tree["dmc"], members=50)
    make_user(phone="0911111111", org=other, position="chair", full_name="Người khác")
    _import(example_bytes())
    _import(csv_file("DMC-DTTA;;;;;Nguyễn Thị Hồng Nhung;Chủ tịch;0912345678;"))
    assert positions("DMC-DTTA") == [("Nguyễn Thị Hồng Nhung", "chair")]
    assert positions("DMC-DTTA", current=False) == [
        ("Trần Văn Ước", "vice_chair"),
        ("Lê Thị Mỹ", "group_leader"),
    ]
    closed = db.session.scalars(sa.select(Officer).where(Officer.ended_on.is_not(None))).all()
    assert {o.ended_on for o in closed} == {vn_today()}
    assert _user("0912345679").active  # closed, never deleted
    assert positions("DMC-KHAC") == [("Người khác", "chair")]  # not in the file: untouched
    assert len(positions("GD-GIAYDL")) == 3


def test_a_new_chair_replaces_the_old_one_with_history_kept(app) -> None:
    make_federation()
    _import(example_bytes())
    plan, done = _import(
        csv_file(
            "DMC-DTTA;;;;;Trần Văn Ước;Chủ tịch;0912345679;",
            "DMC-DTTA;;;;;Bùi Văn Mới;Phó Chủ tịch;0933 444 555;",
            "DMC-DTTA;;;;;Lê Thị Mỹ;Tổ trưởng công đoàn;0912345680;",
        )
    )
    [(unit, old, new)] = plan.replaced_chairs
    assert (unit.code, old.user.full_name, new.row.full_name) == (
        "DMC-DTTA",
        "Nguyễn Thị Hồng Nhung",
        "Trần Văn Ước",
    )
    assert positions("DMC-DTTA") == [
        ("Lê Thị Mỹ", "group_leader"),
        ("Trần Văn Ước", "chair"),
        ("Bùi Văn Mới", "vice_chair"),
    ]
    assert positions("DMC-DTTA", current=False) == [
        ("Nguyễn Thị Hồng Nhung", "chair"),
        ("Trần Văn Ước", "vice_chair"),
    ]
    assert done["people_created"] == 1 and _user("0933444555").password_hash is None


def test_a_changed_unit_above_moves_the_union(app) -> None:
    tree = make_federation()
    _import(example_bytes())
    plan, done = _import(csv_file("DMC-THCS;CĐCS Trường THCS Suối Đá 2;GD;;50;;;;"))
    union = _org("DMC-THCS")
    assert union.parent_id == tree["gd"].id and union.path == f"{tree['gd'].path}{union.id}/"
    assert (union.name, union.member_count, union.sector) == (
        "CĐCS Trường THCS Suối Đá 2",
        50,
        Sector.STATE,
    )
    assert plan.units_updated[0].changes == ["name", "member_count", "parent"]
    assert positions("DMC-THCS") == []  # a union row without people: a vacancy now


def test_people_are_matched_by_name_within_the_union_when_without_phone(app) -> None:
    make_federation()
    _import(example_bytes())
    kim = db.session.scalars(sa.select(User).where(User.full_name == "Đặng Thị Kim")).one()
    plan, done = _import(
        csv_file(
            "DMC-MAYHP;;;;;Phạm Văn Đạt;Chủ tịch;0987654321;dat@example.vn",
            "DMC-MAYHP;;;;;ĐẶNG THỊ KIM;Cộng tác viên;0977 888 999;",
        )
    )
    assert done["people_created"] == 0 and done["people_updated"] == 2
    db.session.refresh(kim)
    assert (kim.full_name, kim.phone) == ("ĐẶNG THỊ KIM", "0977888999")
    assert _user("0987654321").email == "dat@example.vn"
    assert done["positions_kept"] == 2


def test_conflicts_within_a_file_are_errors(app) -> None:
    make_federation()
    plan = _plan(
        csv_file(
            "U1;CĐCS A;DMC;FDI;1.000;Lê Văn A;Chủ tịch;0912000001;",
            "U1;CĐCS A;DMC;FDI;1.200;Lê Văn B;Chủ tịch;0912000002;",
            "U1;;;;;Lê Văn C;Cộng tác viên;0912000001;",
            "U2;CĐCS B;DMC;nhà nước;10;Lê Văn D;Chủ tịch;;",
        )
    )
    found = {(e.line, e.field): e.message for e in plan.errors}
    assert set(found) == {(3, "so_doan_vien"), (3, "chuc_vu"), (4, "ho_ten")}
    assert "1.000" not in found[(3, "so_doan_vien")] or "row 2" in found[(3, "so_doan_vien")]
    assert "2" in found[(3, "chuc_vu")]  # names the row with the first chair


def test_new_units_need_a_name_an_upper_unit_and_a_sector(app) -> None:
    tree = make_federation()
    make_org("GR-X", kind="grassroots", parent=tree["dmc"])
    plan = _plan(
        csv_file(
            "U1;;;;;Lê Văn A;Chủ tịch;;",
            "U2;CĐCS B;KHONG-CO;FDI;10;;;;",
            "U3;CĐCS C;GR-X;FDI;10;;;;",
            "DMC;LĐLĐ;TN;FDI;10;;;;",
            "U 4;CĐCS D;DMC;FDI;10;;;;",
        )
    )
    assert sorted((e.line, e.field) for e in plan.errors) == [
        (2, "khu_vuc"), (2, "ma_cap_tren"), (2, "ten_don_vi"),
        (3, "ma_cap_tren"), (4, "ma_cap_tren"), (5, "ma_don_vi"), (6, "ma_don_vi"),
    ]  # fmt: skip


def test_staff_cannot_import_outside_their_scope(app) -> None:
    tree = make_federation()
    _import(example_bytes())
    before = counts()
    plan = _plan(
        csv_file(
            "DMC-NEW;CĐCS Mới;DMC;FDI;10;Lê Văn A;Chủ tịch;0912000001;",
            "GD-GIAYDL;;;;;Đỗ Văn Hải;Chủ tịch;02763812345;",
            "DMC-NEW2;CĐCS Mới 2;GD;FDI;10;;;;",
            "DMC-MAYHP;;TN;;;Phạm Văn Đạt;Chủ tịch;0987654321;",
        ),
        tree["staff_dmc"],
    )
    assert sorted((e.line, e.field) for e in plan.errors) == [
        (3, "dien_thoai"),  # and Đỗ Văn Hải is a person of Gò Dầu
        (3, "ma_don_vi"),
        (4, "ma_cap_tren"),
        (5, "ma_cap_tren"),
    ]
    assert any("GD-GIAYDL" in e.message for e in plan.errors)
    assert counts() == before


def test_staff_cannot_take_over_a_person_of_another_district(app) -> None:
    tree = make_federation()
    _import(example_bytes())
    plan = _plan(
        csv_file("GD-GIAYDL;;;;;Nguyễn Thị Hồng Nhung;Cộng tác viên;0912345678;"),
        tree["staff_gd"],
    )
    assert [(e.line, e.field) for e in plan.errors] == [(2, "dien_thoai")]
    staff_phone = make_user("canbo.x", role=Role.STAFF, org=tree["gd"], phone="0922222222")
    plan = _plan(csv_file(f"GD-GIAYDL;;;;;Cán bộ;Cộng tác viên;{staff_phone.phone};"))
    assert [(e.line, e.field) for e in plan.errors] == [(2, "dien_thoai")]


def test_the_same_file_from_district_staff_imports(app) -> None:
    tree = make_federation()
    dmc_only = b"\r\n".join(line for line in example_bytes().split(b"\r\n") if b";GD-" not in line)
    _plan_, done = _import(dmc_only, tree["staff_dmc"])
    assert done["units_created"] == 4 and done["people_created"] == 6


def test_bulk_import_uses_a_bounded_number_of_queries(app, count_statements) -> None:
    make_federation()
    rows = []
    for u in range(120):
        rows.append(f"BULK-{u};CĐCS {u};DMC;FDI;{u * 10};Chủ tịch {u};Chủ tịch;09{u:04d}0000;")
        rows += [f"BULK-{u};;;;;Người {u}-{p};Cộng tác viên;;" for p in range(4)]
    data = csv_file(*rows)
    with count_statements() as first:
        _import(data)
    assert counts()[2] == 600
    with count_statements() as again:
        _plan_, done = _import(data)
    assert done["positions_kept"] == 600
    # A few queries per file, not per row: loading, then batched inserts and updates.
    assert first.count <= 20, first.statements
    assert again.count <= 10, again.statements


def test_positions_of_people_in_other_unions_are_kept(app) -> None:
    tree = make_federation()
    elsewhere = make_org("DMC-CU", kind="grassroots", parent=tree["dmc"])
    person = make_user(phone="0912345678", org=elsewhere, position="core_member", password=None)
    _import(example_bytes())
    assert positions("DMC-CU") == [(person.full_name, "core_member")]
    assert positions("DMC-DTTA")[0] == ("Nguyễn Thị Hồng Nhung", "chair")
    db.session.refresh(person)
    assert person.full_name == "Nguyễn Thị Hồng Nhung" and person.org_id == _org("DMC-DTTA").id
    assert Position.CHAIR.value == "chair"


def test_a_phone_that_is_someones_username_finds_that_account(app) -> None:
    tree = make_federation()
    union = make_org("DMC-CU", kind="grassroots", parent=tree["dmc"])
    person = make_user(phone="0912345678", org=union, position="chair", password=None)
    person.phone = "0988000111"  # a new number; the username keeps the first one
    db.session.flush()
    plan, done = _import(csv_file("DMC-CU;;;;;Nguyễn Văn Cũ;Chủ tịch;0912 345 678;"))
    assert done["people_created"] == 0 and done["positions_kept"] == 1
    assert person.phone == "0912345678" and person.full_name == "Nguyễn Văn Cũ"
