"""Downloads inspected as files, by kind: what a spreadsheet, a PDF reader or a calendar will do
with them. Each export the product offers is registered in EXPORTS with the role that may
fetch it; test_http.py fetches and inspects every one. test_coverage_exports.py inspects the
coverage exports again with hostile names planted through a roster file."""

import csv
import io
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class Download(Protocol):
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Export:
    name: str  # its extension picks the inspection
    who: str  # the demo account that fetches it
    path: str


EXPORTS = [
    Export("course.zip", "giangvien", "/teach/chu-de-2021/export.zip"),
    Export("module.zip", "giangvien", "/teach/chu-de-2021/tien-luong/export.zip"),
    Export("coverage.csv", "canbo.dmc", "/reports/coverage?format=csv"),
    Export("coverage.xlsx", "canbo.dmc", "/reports/coverage?format=xlsx"),
    Export("coverage-province.csv", "canbo.tinh", "/reports/coverage?format=csv&org=DMC"),
    Export("coverage-all.xlsx", "admin", "/reports/coverage?format=xlsx"),
    Export("roster-template.xlsx", "canbo.dmc", "/roster/template.xlsx"),
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\x00")


def inspect_export(name: str, download: Download, folder: Path) -> None:
    """Fail unless the download is served as an attachment and its content is safe."""
    headers = {k.lower(): v for k, v in download.headers.items()}
    disposition = headers.get("content-disposition", "")
    assert disposition.startswith("attachment;"), (name, disposition)
    assert "\n" not in disposition and "\r" not in disposition
    assert headers.get("x-content-type-options") == "nosniff", name
    kind = name.rsplit(".", 1)[-1]
    INSPECTORS[kind](download.body, folder / name)


def inspect_pdf(body: bytes, path: Path) -> None:
    """Every font embedded (pdffonts' `emb` column), and text that reads back."""
    path.write_bytes(body)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows, "a PDF without fonts"
    for row in rows:
        assert re.search(r"\s(yes)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row), row
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    assert text.stdout.strip()


def inspect_zip(body: bytes, path: Path) -> None:
    """A readable zip whose names stay inside one folder and whose text files are UTF-8."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        for member in archive.namelist():
            assert not member.startswith("/") and ".." not in member.split("/"), member
            if member.endswith((".toml", ".md", ".gift")):
                archive.read(member).decode("utf-8")


def inspect_csv(body: bytes, path: Path) -> None:
    """EXP-01, EXP-04: UTF-8 with a BOM, and no cell that a spreadsheet would run."""
    assert body.startswith(b"\xef\xbb\xbf"), "no BOM: Excel on Windows garbles Vietnamese"
    for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))):
        for cell in row:
            is_number = re.fullmatch(r"-?\d+([.,]\d+)?", cell) is not None
            assert is_number or not cell.startswith(FORMULA_START), f"unsafe cell {cell!r}"


def inspect_xlsx(body: bytes, path: Path) -> None:
    """EXP-02: no formula anywhere in the sheets."""
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        assert sheets, "a workbook without sheets"
        for sheet in sheets:
            assert b"<f>" not in book.read(sheet) and b"<f " not in book.read(sheet), sheet


def inspect_ics(body: bytes, path: Path) -> None:
    """EXP-08: CRLF lines, a time zone for Vietnam."""
    text = body.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    assert "TZID=Asia/Ho_Chi_Minh" in text and "BEGIN:VTIMEZONE" in text


INSPECTORS = {"pdf": inspect_pdf, "zip": inspect_zip, "csv": inspect_csv, "xlsx": inspect_xlsx,
              "ics": inspect_ics}  # fmt: skip
