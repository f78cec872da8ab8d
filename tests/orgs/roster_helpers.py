"""Shared pieces of the roster tests: the example file, its variants and a small tree."""

import io
from pathlib import Path

import sqlalchemy as sa
from openpyxl import Workbook

from lms.accounts.models import Role, User
from lms.db import db
from lms.orgs.models import Officer, Organization
from tests.factories import make_org, make_user

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "roster-example.csv"
HEADER = "Mã đơn vị;Tên đơn vị;Mã cấp trên;Khu vực;Số đoàn viên;Họ và tên;Chức vụ;Điện thoại;Email"


def example_bytes() -> bytes:
    return EXAMPLE.read_bytes()


def example_lines() -> list[str]:
    return example_bytes().decode("utf-8-sig").split("\r\n")


def with_line(number: int, text: str) -> bytes:
    """The example file with its row `number` (as Excel counts) replaced."""
    lines = example_lines()
    lines[number - 1] = text
    return ("\ufeff" + "\r\n".join(lines)).encode()


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join((header, *rows)) + "\r\n").encode()


def xlsx_file(table: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for cells in table:
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def example_as_xlsx() -> bytes:
    """The example file's table in a workbook, as Excel would hold it (numbers as numbers)."""
    table = []
    for line in example_lines():
        if line:
            cells: list[object] = line.split(";")
            table.append([int(c) if c.isdigit() else c for c in cells])
    return xlsx_file(table)


def make_federation() -> dict:
    """The province and two districts the example file hangs its unions under, with staff."""
    province = make_org("TN", kind="province", name="LĐLĐ tỉnh Tây Ninh")
    dmc = make_org("DMC", kind="district", parent=province, name="LĐLĐ huyện Dương Minh Châu")
    gd = make_org("GD", kind="district", parent=province, name="LĐLĐ huyện Gò Dầu")
    return {
        "province": province,
        "dmc": dmc,
        "gd": gd,
        "staff_dmc": make_user("canbo.dmc", role=Role.STAFF, org=dmc),
        "staff_gd": make_user("canbo.gd", role=Role.STAFF, org=gd),
        "admin": make_user("quantri", role=Role.ADMIN),
    }


def counts() -> tuple[int, int, int]:
    """Rows of units, accounts and positions: what an import may add to."""
    return tuple(  # type: ignore[return-value]
        db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for model in (Organization, User, Officer)
    )


def positions(code: str, *, current: bool = True) -> list[tuple[str, str]]:
    """(full name, position) of a union's officers, current or ended."""
    ended = Officer.ended_on.is_(None) if current else Officer.ended_on.is_not(None)
    rows = db.session.execute(
        sa.select(User.full_name, Officer.position)
        .join(Officer, Officer.user_id == User.id)
        .join(Organization, Organization.id == Officer.org_id)
        .where(Organization.code == code, ended)
        .order_by(Officer.id)
    ).all()
    return [(name, position.value) for name, position in rows]
