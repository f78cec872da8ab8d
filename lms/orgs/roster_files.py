"""Roster files on disk between the preview and "apply", and the downloadable XLSX template.

An uploaded file is kept under a random name (setting ROSTER_UPLOAD_FOLDER, default
instance/roster-uploads, which several app machines can share); the browser holds only that
name, in its signed session, so what gets applied is the file that was previewed, parsed again
on the server.
"""

import io
import re
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from openpyxl import Workbook

NAME_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")
KEEP_SECONDS = 24 * 3600

# The template's columns: the headers people see in Vietnamese offices (all accepted aliases).
TEMPLATE_HEADERS = (
    "Mã đơn vị", "Tên đơn vị", "Mã cấp trên", "Khu vực", "Số đoàn viên",
    "Họ và tên", "Chức vụ", "Điện thoại", "Email",
)  # fmt: skip
TEMPLATE_EXAMPLE = (
    "CD-MAY01", "CĐCS Công ty TNHH May Mẫu", "DMC", "Ngoài nhà nước", 1200,
    "Nguyễn Thị Mẫu", "Chủ tịch", "0912 345 678", "",
)  # fmt: skip


def folder() -> Path:
    path = Path(
        current_app.config.get("ROSTER_UPLOAD_FOLDER")
        or Path(current_app.instance_path) / "roster-uploads"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep(data: bytes) -> str:
    """Store an uploaded roster and return its generated name; forget files a day old."""
    directory = folder()
    for old in directory.glob("*.roster"):
        if old.stat().st_mtime < time.time() - KEEP_SECONDS:
            old.unlink(missing_ok=True)
    name = secrets.token_urlsafe(32)
    (directory / f"{name}.roster").write_bytes(data)
    return name


def read(name: object) -> bytes | None:
    """The kept file with this generated name; anything else (paths, NUL...) finds nothing."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        return None
    path = folder() / f"{name}.roster"
    return path.read_bytes() if path.is_file() else None


def discard(name: object) -> None:
    if isinstance(name, str) and NAME_RE.fullmatch(name):
        (folder() / f"{name}.roster").unlink(missing_ok=True)


def template_xlsx() -> bytes:
    """An empty roster with the Vietnamese headers, one example row and the accepted words."""
    # Imported here: openpyxl costs every serving process about 8 MB at start otherwise.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append(TEMPLATE_HEADERS)
    sheet.append(TEMPLATE_EXAMPLE)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Phones as text, so Excel keeps their leading 0.
    for row in range(2, 2001):
        sheet.cell(row=row, column=8).number_format = "@"
    for column, width in zip("ABCDEFGHI", (14, 36, 12, 18, 12, 26, 20, 15, 24), strict=True):
        sheet.column_dimensions[column].width = width
    _words_sheet(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _words_sheet(book: "Workbook") -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet("Giá trị hợp lệ")
    sheet.append(("Khu vực", "→ khu vực", "Chức vụ"))
    sectors = [(w, "ngoài nhà nước") for w in NON_STATE_WORDS] + [
        (w, "nhà nước") for w in STATE_WORDS
    ]
    for n, (word, sector) in enumerate(sectors):
        position = POSITION_NAMES[n] if n < len(POSITION_NAMES) else ""
        sheet.append((word, sector, position))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABC", (30, 18, 26), strict=True):
        sheet.column_dimensions[column].width = width


# The words shown to people; lms.orgs.roster accepts these and more variants.
NON_STATE_WORDS = ("ngoài nhà nước", "ngoài khu vực nhà nước", "doanh nghiệp tư nhân", "FDI")
STATE_WORDS = ("nhà nước", "cơ quan", "đơn vị sự nghiệp")
POSITION_NAMES = (
    "Chủ tịch", "Phó Chủ tịch", "Tổ trưởng công đoàn", "Cộng tác viên", "Đoàn viên nòng cốt",
)  # fmt: skip
