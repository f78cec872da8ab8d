"""External completions in bulk, from a class's attendance list (CSV or XLSX).

Columns (shared/DESIGN.md §6), compared unaccented and lowercase, with aliases: `ten_dang_nhap`
or `dien_thoai` (who; the username wins when both are filled), `chuyen_de` (module slug),
`ngay` (dd/mm/yyyy), `lop` (the class); optional `khoa` (course slug, default the newest
published course) and `ghi_chu` (an evidence note). All or nothing: any invalid row and nothing
is recorded; every error names its row. The earliest date wins: a standing completion of the
same module from the class day or before is kept and reported; one dated later is revoked (with
the reason, kept on record) and the class recorded instead; a person and module named twice in
the file use the earlier row.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from lms import audit
from lms.accounts.models import User
from lms.accounts.phones import InvalidPhone, normalise_phone
from lms.accounts.services import login_key
from lms.catalog.models import Module
from lms.db import VN_TZ, db
from lms.orgs import services as orgs
from lms.progress import external, services
from lms.progress.models import Completion, CompletionSource
from lms.progress.tabular import Row, TableError, read_table

MAX_BYTES = 1024 * 1024

# Canonical column -> accepted header keys (see lms.progress.tabular.header_key).
COLUMNS = {
    "ten_dang_nhap": {"ten_dang_nhap", "tai_khoan", "username", "user_name", "login", "account"},
    "dien_thoai": {"dien_thoai", "so_dien_thoai", "sdt", "dt", "phone", "phone_number", "mobile"},
    "chuyen_de": {"chuyen_de", "ma_chuyen_de", "module", "module_slug"},
    "ngay": {"ngay", "ngay_hoc", "ngay_hoan_thanh", "date", "class_date", "completed_on"},
    "lop": {"lop", "lop_hoc", "ten_lop", "class", "class_name"},
    "khoa": {"khoa", "khoa_hoc", "ma_khoa", "course", "course_slug"},
    "ghi_chu": {"ghi_chu", "minh_chung", "note", "notes", "evidence"},
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class Planned:
    row: int
    user: User
    module: Module
    day: date
    class_name: str
    note: str | None = None
    # A standing completion dated after this class: the earliest date wins, so it is revoked
    # (kept on record with the reason) and this row recorded in its place.
    replaces: Completion | None = None


@dataclass
class Kept:
    """A row that records nothing: the person already has the module, or a later duplicate."""

    row: int
    user: User
    module: Module
    day: date
    existing: Completion | None = None  # None: an earlier row of the file is used instead


@dataclass
class Plan:
    to_record: list[Planned] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


FILE_MESSAGES = {
    "empty": lambda: _("The file is empty."),
    "encoding": lambda: _("The file must be an XLSX file or a CSV file saved as UTF-8."),
    "unreadable": lambda: _("The file cannot be read as a CSV or XLSX table."),
    "too_many_rows": lambda: _("The file has too many rows (at most 20.000)."),
    "too_big": lambda: _("The file is too large (at most 1 MB)."),
}


def file_error(code: str) -> RowError:
    return RowError(0, "", FILE_MESSAGES[code]())


def plan_import(actor: User | None, data: bytes) -> Plan:
    """Check every row against the database (without writing) and say what would happen."""
    if len(data) > MAX_BYTES:
        return Plan(errors=[file_error("too_big")])
    try:
        table = read_table(data)
    except TableError as exc:
        return Plan(errors=[file_error(exc.code)])
    columns = {
        name: next((h for h in table.headers if h in keys), None) for name, keys in COLUMNS.items()
    }
    missing = _missing_columns(columns)
    if missing:
        return Plan(errors=missing)
    return _Checker(actor, columns).plan(table.rows)


def _missing_columns(columns: dict[str, str | None]) -> list[RowError]:
    errors = []
    if not (columns["ten_dang_nhap"] or columns["dien_thoai"]):
        errors.append(
            RowError(
                1,
                "ten_dang_nhap",
                _("No column names the person: add “ten_dang_nhap” or “dien_thoai”."),
            )
        )
    for name in ("chuyen_de", "ngay", "lop"):
        if not columns[name]:
            errors.append(RowError(1, name, _("The column “%(name)s” is missing.", name=name)))
    return errors


def phone_key(text: str) -> str:
    """A phone in national form; a spreadsheet that kept it as a number lost its leading 0."""
    digits = text.strip()
    if digits.isdigit() and len(digits) == 9 and digits[0] in "35789":
        digits = "0" + digits
    return normalise_phone(digits)


class _Checker:
    def __init__(self, actor: User | None, columns: dict[str, str | None]) -> None:
        self.actor = actor
        self.col = columns
        self.plan_ = Plan()
        self.in_scope: set[int] = set()
        newest = services.published_courses()
        self.default_course = newest[0].slug if newest else ""
        self.modules = {(m.course.slug, m.slug): m for m in external.recordable_modules()}
        self.courses = {slug for slug, _m in self.modules}

    def cell(self, row: Row, name: str) -> str:
        column = self.col[name]
        return row.text(column) if column else ""

    def error(self, row: Row, column: str, message: str) -> None:
        self.plan_.errors.append(RowError(row.number, column, message))

    def plan(self, rows: list[Row]) -> Plan:
        people = self._people(rows)
        good = [found for row in rows if (found := self._check(row, people)) is not None]
        if self.plan_.errors:
            return self.plan_
        self._sort_out(good)
        return self.plan_

    def _who(self, row: Row) -> tuple[str, str]:
        """(column, key) naming the person: the username when given, else the phone."""
        username = self.cell(row, "ten_dang_nhap")
        if username:
            return "ten_dang_nhap", login_key(username)
        phone = self.cell(row, "dien_thoai")
        try:
            return "dien_thoai", phone_key(phone) if phone else ""
        except InvalidPhone:
            return "dien_thoai", "?" + phone

    def _people(self, rows: list[Row]) -> dict[str, User]:
        """Everyone the file names, by username and by phone (two queries)."""
        keys = {key for row in rows if (key := self._who(row)[1]) and not key.startswith("?")}
        if not keys:
            return {}
        found = db.session.scalars(
            sa.select(User).where(sa.or_(User.username.in_(keys), User.phone.in_(keys)))
        ).all()
        self.in_scope = self._scoped({u.id for u in found})
        index = {u.phone: u for u in found if u.phone}
        index.update({u.username: u for u in found})
        return index

    def _scoped(self, ids: set[int]) -> set[int]:
        if self.actor is None or not ids:
            return ids
        people = orgs.people_query(self.actor).with_only_columns(User.id).order_by(None)
        return set(db.session.scalars(people.where(User.id.in_(ids))))

    def _check(self, row: Row, people: dict[str, User]) -> Planned | None:
        before = len(self.plan_.errors)
        user = self._person(row, people)
        module = self._module(row)
        day = self._day(row)
        class_name = self._text(row, "lop", external.CLASS_MAX, required=True)
        note = self._text(row, "ghi_chu", external.NOTE_MAX, required=False)
        if len(self.plan_.errors) > before:
            return None
        return Planned(row.number, user, module, day, class_name, note or None)  # type: ignore[arg-type]

    def _person(self, row: Row, people: dict[str, User]) -> User | None:
        column, key = self._who(row)
        shown = self.cell(row, column)
        if not key:
            self.error(row, column, _("Give the person's username or phone number."))
        elif key.startswith("?"):
            self.error(row, column, _("“%(value)s” is not a Vietnamese phone number.", value=shown))
        elif (user := people.get(key)) is None:
            unknown = (
                _("Nobody has the username “%(value)s”.", value=shown)
                if column == "ten_dang_nhap"
                else _("Nobody has the phone number “%(value)s”.", value=shown)
            )
            self.error(row, column, unknown)
        elif user.id not in self.in_scope:
            self.error(
                row,
                column,
                _("“%(value)s” is outside the part of the organisation you manage.", value=shown),
            )
        else:
            return user
        return None

    def _module(self, row: Row) -> Module | None:
        course = self.cell(row, "khoa").lower() or self.default_course
        slug = self.cell(row, "chuyen_de").lower()
        if course not in self.courses:
            self.error(row, "khoa", _("There is no published course “%(value)s”.", value=course))
        elif not slug:
            self.error(row, "chuyen_de", _("Give the module (its short code, e.g. tien-luong)."))
        elif (module := self.modules.get((course, slug))) is None:
            self.error(
                row,
                "chuyen_de",
                _("The course “%(course)s” has no module “%(value)s”.", course=course, value=slug),
            )
        else:
            return module
        return None

    def _day(self, row: Row) -> date | None:
        try:
            return external.parse_day(row.cells.get(self.col["ngay"] or ""))
        except external.RecordError as exc:
            self.error(row, "ngay", external.message(exc))
            return None

    def _text(self, row: Row, name: str, limit: int, *, required: bool) -> str:
        text = self.cell(row, name)
        if required and not text:
            self.error(row, name, _("The column “%(name)s” is empty.", name=name))
        elif len(text) > limit:
            self.error(row, name, _("Too long (at most %(limit)s characters).", limit=limit))
        return text

    def _sort_out(self, good: list[Planned]) -> None:
        """The earliest date wins per person and module: a standing completion from the same
        day or earlier is kept; a later one gives way to the class in the file."""
        standing = _standing({p.user.id for p in good}, {p.module.id for p in good})
        seen: set[tuple[int, int]] = set()
        for item in sorted(good, key=lambda p: (p.day, p.row)):
            key = (item.user.id, item.module.id)
            existing = standing.get(key)
            if key in seen or (existing is not None and vn_day(existing) <= item.day):
                kept = Kept(item.row, item.user, item.module, item.day, existing)
                self.plan_.kept.append(kept)
            else:
                seen.add(key)
                item.replaces = existing
                self.plan_.to_record.append(item)
        self.plan_.to_record.sort(key=lambda p: p.row)
        self.plan_.kept.sort(key=lambda k: k.row)


def vn_day(completion: Completion) -> date:
    """The day a completion counts, in Vietnam time."""
    return completion.completed_dt.astimezone(VN_TZ).date()


def _standing(user_ids: set[int], module_ids: set[int]) -> dict[tuple[int, int], Completion]:
    if not user_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Completion).where(
            Completion.user_id.in_(user_ids),
            Completion.module_id.in_(module_ids),
            Completion.revoked_dt.is_(None),
        )
    )
    return {(c.user_id, c.module_id): c for c in rows}


def apply_import(actor: User | None, plan: Plan) -> list[Completion]:
    """Record what the plan says (only a plan without errors); the caller commits once."""
    if not plan.ok:
        raise ValueError("a plan with errors cannot be applied")
    recorded = []
    for item in plan.to_record:
        if item.replaces is not None:
            reason = _(
                "Replaced by an earlier completion: the class “%(name)s” on %(date)s.",
                name=item.class_name,
                date=item.day.strftime("%d/%m/%Y"),
            )
            services.revoke_completion(item.replaces, actor, reason, fall_back_online=False)
        recorded.append(
            services.record_completion(
                item.user,
                item.module,
                CompletionSource.EXTERNAL,
                recorded_by=actor,
                note=item.note,
                when=external.class_start(item.day),
                class_name=item.class_name,
            )
        )
    audit.log_event(
        "completions.imported",
        recorded=len(recorded),
        kept=len(plan.kept),
        by=actor.username if actor else "cli",
    )
    return recorded
