"""Attendance exports of conferencing tools (CSV), matched to accounts for a trainer to review;
confirming them is `services.confirm_attendance`."""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa

from lms.accounts.models import User
from lms.accounts.services import login_key, unaccent
from lms.db import db
from lms.live import services
from lms.live.models import LiveSession

CSV_MAX_BYTES = 2 * 1024 * 1024

# Header names of an attendance export, compared after `_header()` (unaccented, lowercase, _).
USERNAME_HEADERS = frozenset({"ten_dang_nhap", "username", "user_name", "tai_khoan", "login"})
PHONE_HEADERS = frozenset(
    {"dien_thoai", "so_dien_thoai", "sdt", "phone", "phone_number", "mobile", "telephone"}
)
EMAIL_HEADERS = frozenset({"email", "e_mail", "thu_dien_tu", "email_address"})


@dataclass(frozen=True)
class UnmatchedRow:
    """A CSV row that matched nobody: its number in the file (header = 1) and why."""

    row: int
    value: str
    # A services.MESSAGES code: row_empty, row_not_found, row_ambiguous, row_outside_audience.
    reason: str

    @property
    def message(self) -> str:
        return str(services.MESSAGES[self.reason])


def _header(name: str) -> str:
    text = unaccent(unicodedata.normalize("NFC", name or "")).lower().strip()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def import_attendance_csv(
    actor: User | None, session: LiveSession, data: bytes
) -> tuple[list[int], list[UnmatchedRow]]:
    """Match the rows of a conferencing tool's attendance export to accounts.

    UTF-8 (with or without BOM), comma, semicolon or tab separated, with a header row; each row
    is matched by username, else phone (any form), else email (only when one account has it).
    Confirms nobody: the trainer reviews the matches, then `confirm_attendance(via="csv")`."""
    if not services.may_manage(actor, session):
        raise services.LiveError("forbidden")
    if len(data) > CSV_MAX_BYTES:
        raise services.LiveError("csv_too_large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise services.LiveError("csv_encoding") from exc
    # NUL never names anybody, and PostgreSQL refuses it in a query: drop it like the forms do.
    text = text.lstrip("\ufeff").replace("\x00", "")
    if not text.strip():
        raise services.LiveError("csv_empty")
    first_line = text.splitlines()[0]
    rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(first_line)))
    headers = [_header(h) for h in rows[0]]
    user_col = next((i for i, h in enumerate(headers) if h in USERNAME_HEADERS), None)
    phone_col = next((i for i, h in enumerate(headers) if h in PHONE_HEADERS), None)
    email_col = next((i for i, h in enumerate(headers) if h in EMAIL_HEADERS), None)
    if user_col is None and phone_col is None and email_col is None:
        raise services.LiveError("csv_no_columns")

    def cell(row: list[str], col: int | None) -> str:
        return row[col].strip() if col is not None and col < len(row) else ""

    entries = []  # (row number, username key, phone key, email key, shown value)
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        username, phone, email = cell(row, user_col), cell(row, phone_col), cell(row, email_col)
        shown = username or phone or email or ";".join(row).strip()
        entries.append(
            (
                number,
                login_key(username) if username else "",
                login_key(phone) if phone else "",
                email.casefold(),
                shown,
            )
        )
    keys = {e[1] for e in entries if e[1]} | {e[2] for e in entries if e[2]}
    emails = {e[3] for e in entries if e[3]}
    by_username: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    by_email: dict[str, list[int]] = {}
    if keys or emails:
        conditions = []
        if keys:
            conditions += [User.username.in_(keys), User.phone.in_(keys)]
        if emails:
            conditions.append(sa.func.lower(User.email).in_(emails))
        for uid, username, phone, email in db.session.execute(
            sa.select(User.id, User.username, User.phone, User.email).where(sa.or_(*conditions))
        ):
            by_username[username.casefold()] = uid
            if phone:
                by_phone[phone] = uid
            if email:
                by_email.setdefault(email.casefold(), []).append(uid)

    matched: list[int] = []
    unmatched: list[UnmatchedRow] = []
    rows_of: dict[int, tuple[int, str]] = {}
    for number, username, phone, email, shown in entries:
        found = None
        for key in (username, phone):
            if key and found is None:
                found = by_username.get(key) or by_phone.get(key)
        reason = "row_not_found"
        if found is None and email:
            candidates = by_email.get(email, [])
            if len(candidates) == 1:
                found = candidates[0]
            elif len(candidates) > 1:
                reason = "row_ambiguous"
        if found is None:
            if not (username or phone or email):
                reason = "row_empty"
            unmatched.append(UnmatchedRow(number, shown, reason))
        elif found not in matched:
            matched.append(found)
            rows_of[found] = (number, shown)
    people = list(db.session.scalars(sa.select(User).where(User.id.in_(matched))))
    for person in services.outside_audience(session, people):
        matched.remove(person.id)
        unmatched.append(UnmatchedRow(*rows_of[person.id], "row_outside_audience"))
    unmatched.sort(key=lambda u: u.row)
    return matched, unmatched
