"""Roster files as Vietnamese offices write them (CSV or XLSX) read into checked rows; no database.

What is accepted (headers, their aliases, sector and position words: lms.orgs.roster_words)
is documented in the README's "Roster files" section; keep the two in step.
"""

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from lms.accounts.phones import InvalidPhone, normalise_phone
from lms.db import unaccent
from lms.orgs.models import Position, Sector
from lms.orgs.roster_cells import UnreadableXlsx, csv_rows, encoding_of, xlsx_rows
from lms.orgs.roster_words import FIELDS, HEADER_ALIASES, POSITION_WORDS, SECTOR_WORDS

REQUIRED_HEADERS = ("ma_don_vi",)
# A title such as "DANH SÁCH CÁN BỘ CÔNG ĐOÀN" often sits above the header row.
HEADER_SEARCH_ROWS = 10
_SPACES = re.compile(r"\s+")
_THOUSANDS = re.compile(r"\d{1,3}([.,]\d{3})+")
# Excel drops the leading 0 of a phone typed into a number cell: 912345678, 2763123456.
_PHONE_WITHOUT_ZERO = re.compile(r"[35789]\d{8}|2\d{9}")

MESSAGES = {
    "not_utf8": _l(
        "The file is not in UTF-8. In Excel choose “CSV UTF-8 (Comma delimited)” or save it "
        "as .xlsx, then upload again."
    ),
    "not_a_roster": _l("The file is neither a CSV nor an Excel (.xlsx) file."),
    "bad_xlsx": _l("The Excel file could not be read. Save it again as .xlsx and retry."),
    "no_header": _l(
        "No header row found: the first rows must hold the column names (at least “Mã đơn vị”)."
    ),
    "duplicate_header": _l("Two columns mean the same thing: “%(value)s” and “%(other)s”."),
    "empty": _l("The file has no data rows."),
    "missing_code": _l("The unit code (Mã đơn vị) is empty."),
    "bad_number": _l("“%(value)s” is not a whole number of members (write e.g. 1.000 or 1000)."),
    "bad_sector": _l(
        "Unknown sector “%(value)s”: write e.g. “ngoài nhà nước”, “FDI”, “nhà nước”, “cơ quan” "
        "or “đơn vị sự nghiệp”."
    ),
    "bad_position": _l(
        "Unknown position “%(value)s”: write Chủ tịch, Phó Chủ tịch, Tổ trưởng công đoàn, "
        "Cộng tác viên or Đoàn viên nòng cốt."
    ),
    "bad_phone": _l(
        "“%(value)s” is not a Vietnamese phone number (10 digits starting with 03, 05, 07, 08 or "
        "09, or a landline of 11 digits starting with 02)."
    ),
    "bad_email": _l("“%(value)s” is not an e-mail address."),
    "missing_name": _l("A position or phone number is given but the person's name is empty."),
    "missing_position": _l("The position (Chức vụ) of this person is empty."),
}


@dataclass(frozen=True)
class RowError:
    """A problem in the file: its row number (as Excel shows it; 0 for the whole file)."""

    line: int
    field: str
    message: str


@dataclass(slots=True)  # one per person of a national file: no __dict__ each
class RosterRow:
    line: int
    unit_code: str
    unit_name: str = ""
    parent_code: str = ""
    sector: Sector | None = None
    member_count: int | None = None
    full_name: str = ""
    position: Position | None = None
    phone: str | None = None
    email: str | None = None

    @property
    def has_person(self) -> bool:
        return bool(self.full_name)


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def key(text: str) -> str:
    """Words compared loosely: unaccented, lowercase, punctuation as single spaces."""
    plain = unaccent(unicodedata.normalize("NFC", text)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _lookup(table: dict) -> dict[str, object]:
    return {key(word): target for target, words in table.items() for word in words}


_HEADERS = _lookup(HEADER_ALIASES) | {key(name): name for name in FIELDS}
_SECTORS = _lookup(SECTOR_WORDS)
_POSITIONS = _lookup(POSITION_WORDS)


def message(code: str, **params: object) -> str:
    text = str(MESSAGES[code])
    return text % params if params else text


def clean(value: object) -> str:
    """A cell as text: NFC, no NUL, runs of spaces (NBSP too) as one, trimmed; 1000.0 -> '1000'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).replace("\x00", "")
    return _SPACES.sub(" ", text).strip()


# ---- reading files ---------------------------------------------------------------------------


def parse_roster(data: bytes, filename: str = "") -> ParsedRoster:
    """Read a roster file (kind judged by content, not name) into rows and row-numbered errors.

    Cells are read a row at a time: a national file (150.000 rows) never sits in memory as a
    whole decoded text or a table of cells, only as its bytes and the checked rows."""
    if data.startswith(b"PK\x03\x04"):
        try:
            return parse_table(xlsx_rows(data))
        except UnreadableXlsx:
            return ParsedRoster(errors=[RowError(0, "", message("bad_xlsx"))])
    encoding = encoding_of(data)
    if encoding is None:
        code = "not_a_roster" if b"\x00" in data[:1024] else "not_utf8"
        return ParsedRoster(errors=[RowError(0, "", message(code))])
    return parse_table(csv_rows(data, encoding))


# ---- rows ------------------------------------------------------------------------------------


def parse_table(table: Iterable[Iterable[object]]) -> ParsedRoster:
    """Find the header row, map its columns to fields, then read each data row as it comes."""
    result = ParsedRoster()
    table = iter(table)
    head = [list(cells) for cells in itertools.islice(table, HEADER_SEARCH_ROWS)]
    found = _find_header(head)
    if found is None:
        result.errors.append(RowError(0, "", message("no_header")))
        return result
    header_index, columns = found
    result.errors += _header_errors(head[header_index], columns)
    result.ignored_columns = [
        clean(cell) for i, cell in enumerate(head[header_index]) if i not in columns and clean(cell)
    ]
    rest = itertools.chain(head[header_index + 1 :], table)
    for number, cells in enumerate(rest, start=header_index + 2):
        values = {columns[i]: clean(cell) for i, cell in enumerate(cells) if i in columns}
        if any(values.values()):
            result.rows.append(_read_row(number, values, result.errors))
    if not result.rows and not result.errors:
        result.errors.append(RowError(0, "", message("empty")))
    return result


def _find_header(head: list[list[object]]) -> tuple[int, dict[int, str]] | None:
    for index, cells in enumerate(head):
        columns: dict[int, str] = {}
        for i, cell in enumerate(cells):
            name = _HEADERS.get(key(clean(cell)))
            if name is not None and name not in columns.values():
                columns[i] = str(name)
        if all(name in columns.values() for name in REQUIRED_HEADERS):
            return index, columns
    return None


def _header_errors(cells: Iterable[object], columns: dict[int, str]) -> list[RowError]:
    errors = []
    texts = [clean(c) for c in cells]
    for i, text in enumerate(texts):
        name = _HEADERS.get(key(text))
        if name is not None and i not in columns:
            first = texts[next(j for j, n in columns.items() if n == name)]
            errors.append(RowError(0, text, message("duplicate_header", value=first, other=text)))
    return errors


def _read_row(line: int, values: dict[str, str], errors: list[RowError]) -> RosterRow:
    def fail(name: str, code: str, **params: object) -> None:
        errors.append(RowError(line, name, message(code, **params)))

    row = RosterRow(
        line=line,
        unit_code=values.get("ma_don_vi", ""),
        unit_name=values.get("ten_don_vi", ""),
        parent_code=values.get("ma_cap_tren", ""),
        full_name=values.get("ho_ten", ""),
    )
    if not row.unit_code:
        fail("ma_don_vi", "missing_code")
    row.sector = _word(_SECTORS, values.get("khu_vuc", ""), "khu_vuc", "bad_sector", fail)
    row.position = _word(_POSITIONS, values.get("chuc_vu", ""), "chuc_vu", "bad_position", fail)
    row.member_count = _members(values.get("so_doan_vien", ""), fail)
    row.phone = _phone(values.get("dien_thoai", ""), fail)
    row.email = _email(values.get("email", ""), fail)
    if not row.full_name and (row.position or row.phone or row.email):
        fail("ho_ten", "missing_name")
    if row.full_name and not values.get("chuc_vu"):
        fail("chuc_vu", "missing_position")
    return row


def _word(table: dict, text: str, name: str, code: str, fail) -> object | None:  # type: ignore[no-untyped-def, type-arg]
    """A word from a fixed vocabulary (sector, position), or an error naming the column."""
    if not text:
        return None
    found = table.get(key(text))
    if found is None:
        fail(name, code, value=text)
    return found


def parse_members(text: str) -> int | None:
    """1.000, 1,000, 1 000 and 1000 are all one thousand; None for anything else."""
    compact = text.replace(" ", "")
    if compact.isdigit():
        return int(compact)
    if _THOUSANDS.fullmatch(compact) and len({ch for ch in compact if not ch.isdigit()}) == 1:
        return int(re.sub(r"[.,]", "", compact))
    return None


def _members(text: str, fail) -> int | None:  # type: ignore[no-untyped-def]
    if not text:
        return None
    number = parse_members(text)
    if number is None:
        fail("so_doan_vien", "bad_number", value=text)
    return number


def parse_phone(text: str) -> str:
    """A phone in national form; also accepts a number whose leading 0 Excel dropped."""
    digits = text.replace(" ", "")
    if _PHONE_WITHOUT_ZERO.fullmatch(digits):
        text = "0" + digits
    return normalise_phone(text)


def _phone(text: str, fail) -> str | None:  # type: ignore[no-untyped-def]
    if not text:
        return None
    try:
        return parse_phone(text)
    except InvalidPhone:
        fail("dien_thoai", "bad_phone", value=text)
        return None


def _email(text: str, fail) -> str | None:  # type: ignore[no-untyped-def]
    if not text:
        return None
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        fail("email", "bad_email", value=text)
        return None
    return text.casefold()


def format_error(error: RowError, filename: str) -> str:
    """One line for the command line: file, row, field, message."""
    where = f"{filename}:{error.line}" if error.line else filename
    return f"{where}: {error.field + ': ' if error.field else ''}{error.message}"
