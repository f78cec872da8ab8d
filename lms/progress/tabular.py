"""Read a CSV or XLSX file as produced in Vietnamese offices into numbered rows of cells keyed
by normalised header names. Knows nothing about what the columns mean.

CSV: UTF-8 with or without BOM, separated by `,`, `;` (Excel on a Vietnamese-locale Windows)
or a tab. XLSX: the first sheet. Headers are compared unaccented, lowercase, with `_` for
anything else ("Điện thoại" -> "dien_thoai"). Cells come back NFC, with spaces collapsed.
"""

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from lms.db import unaccent

MAX_ROWS = 20_000
_SPACES = re.compile(r"\s+")


class TableError(ValueError):
    """The file cannot be read as a table; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Row:
    number: int  # the row's number as a spreadsheet shows it (the header is usually 1)
    cells: dict[str, object]

    def text(self, key: str) -> str:
        value = self.cells.get(key)
        return "" if value is None else str(value)


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[Row]


def header_key(name: object) -> str:
    text = unaccent(unicodedata.normalize("NFC", str(name or ""))).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def clean_cell(value: object) -> object:
    """Text NFC with spaces collapsed; whole numbers as digits (Excel stores 0912... as 912...);
    dates kept as dates; empty as None."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", str(value)).replace("\x00", "")).strip()
    return text or None


def read_table(data: bytes) -> Table:
    """Rows after the first non-empty one (the header); blank rows are skipped."""
    if not data.strip():
        raise TableError("empty")
    raw = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    header: list[str] | None = None
    rows: list[Row] = []
    for number, values in raw:
        cells = [clean_cell(v) for v in values]
        if not any(c is not None for c in cells):
            continue
        if header is None:
            header = [header_key(c) for c in cells]
            continue
        if len(rows) >= MAX_ROWS:
            raise TableError("too_many_rows")
        keyed = {k: v for k, v in zip(header, cells, strict=False) if k and v is not None}
        rows.append(Row(number, keyed))
    if header is None:
        raise TableError("empty")
    return Table([h for h in header if h], rows)


def _csv_rows(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError("encoding") from exc
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # reader.line_num counts physical lines, so a quoted cell with a line break keeps the
        # numbers the user sees in a text editor.
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise TableError("unreadable") from exc


def _xlsx_rows(data: bytes) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # Files saved by other tools lack a default style; openpyxl warns and reads on.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                sheet.reset_dimensions()  # other tools write wrong sizes; read what is there
                rows = []
                cells = sheet.iter_rows(min_row=1, values_only=True)
                for number, values in enumerate(cells, start=1):
                    if number > MAX_ROWS + 50:
                        raise TableError("too_many_rows")
                    rows.append((number, list(values)))
                return rows
            finally:
                book.close()
    except TableError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError) as exc:
        raise TableError("unreadable") from exc
