"""The report as files: CSV (UTF-8 with BOM, for Excel on Windows) and XLSX (a sheet of targets,
a sheet of units), both formula-safe (EXP-01, EXP-02), with Vietnamese headers by default; and
the chairs to contact as a CSV call list."""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.coverage.dashboard import REASONS, Laggard, every_laggard
from lms.coverage.services import Context, Target, Unit, every_unit, scope_json
from lms.orgs.models import Sector
from lms.web import format_number, format_vn_date

CHUNK = 5000
STATUS_LABELS = {
    "done": _l("Done"),
    "in_progress": _l("In progress"),
    "not_started": _l("Not started"),
    "vacant": _l("No chairperson"),
}
TARGET_LABELS = {
    "awareness": _l("Chairpersons informed (awareness module), every sector"),
    "trained_non_state": _l("Non-state chairpersons trained in every core module"),
    "trained_by_district": _l("… of unions under %(split)s members (trained by %(level)s)"),
    "trained_by_province": _l("… of unions of %(split)s members or more (trained by %(level)s)"),
}


def target_label(key: str, ctx: Context) -> str:
    level = ctx.course.lower_level if key == "trained_by_district" else ctx.course.upper_level
    return str(TARGET_LABELS[key]) % {"split": format_number(ctx.course.split_members),
                                      "level": level}  # fmt: skip


def safe_text(value: str) -> str:
    """A text a spreadsheet would run as a formula gets a leading apostrophe (EXP-01)."""
    return "'" + value if value and value[0] in "=+-@\t\r\0" else value


def iter_units(ctx: Context, *, q: str = "", sort: str = "name") -> Iterator[Unit]:
    """Every unit of the report, read a batch at a time so a national export stays small."""
    return every_unit(ctx, q=q, sort=sort)


def headers() -> list[str]:
    return [
        _("Unit code"), _("Unit name"), _("Sector"), _("Members"), _("Trained by"),
        _("Chairperson"), _("Username"), _("Phone"), _("Awareness module done"),
        _("Core modules done"), _("Trained in every core module"), _("Status"),
        _("Officers"), _("Officers with the awareness module"), _("Officers with every module"),
        _("Grading criterion met"),
    ]  # fmt: skip


class Words:
    """The few labels a file repeats on every row, translated once per file: a call to
    Flask-Babel's gettext costs about 18 µs, and five a row made 650.000 calls for a national
    file of 130.000 units (2-3 s of its 11-14 on SQLite)."""

    def __init__(self) -> None:
        self.yes, self.no, self.not_applicable = _("Yes"), _("No"), _("Not applicable")
        self.status = {key: str(label) for key, label in STATUS_LABELS.items()}
        self.sector = {sector: sector.label for sector in Sector}
        self.reason = {key: str(label) for key, label in REASONS.items()}

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return self.not_applicable
        return self.yes if value else self.no


def unit_row(unit: Unit, ctx: Context, words: Words) -> list:
    level = ctx.course.upper_level if unit.responsible == "province" else ctx.course.lower_level
    chair = unit.chair or {}
    return [
        unit.code, unit.name, words.sector[unit.sector], unit.member_count, level,
        chair.get("full_name", ""), chair.get("username", ""), unit.phone or "",
        words.yes_no(unit.awareness_done), unit.core_modules_done,
        words.yes_no(unit.trained), words.status[unit.status], *unit.officers,
        words.yes_no(unit.criteria_met),
    ]  # fmt: skip


def csv_text(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """A table as CSV text, a line at a time, starting with the BOM (EXP-04); every text cell
    formula-safe (EXP-01)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: list) -> str:
        writer.writerow([safe_text(v) if isinstance(v, str) else v for v in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(header)
    for values in rows:
        yield line(values)


def csv_lines(ctx: Context, units: Iterator[Unit]) -> Iterator[str]:
    """The units table as CSV text, a line at a time."""
    words = Words()
    return csv_text(headers(), (unit_row(unit, ctx, words) for unit in units))


def iter_contacts(ctx: Context) -> Iterator[Laggard]:
    """Every chair to contact in the scope, in the contacts page's order: one query whose rows
    arrive CHUNK at a time, so a national call list is one sort and stays small in memory."""
    return every_laggard(ctx, CHUNK)


def contact_headers() -> list[str]:
    return [
        _("Chairperson"), _("Username"), _("Phone"), _("Unit code"), _("Unit name"), _("Why"),
        _("Last lesson visit"),
    ]  # fmt: skip


def contact_row(person: Laggard, words: Words) -> list:
    return [
        person.full_name, person.username, person.phone or "", person.unit_code,
        person.unit_name, words.reason[person.reason], format_vn_date(person.last_seen),
    ]  # fmt: skip


def contact_lines(ctx: Context) -> Iterator[str]:
    """The chairs to contact as a CSV call list, a line at a time."""
    words = Words()
    return csv_text(contact_headers(), (contact_row(p, words) for p in iter_contacts(ctx)))


class _Sheet:
    """A sheet written a row at a time, each cell as what it is: text always as text (written
    as a string, never guessed at), so that nothing a union or a person is named can become a
    formula or a link (EXP-02); numbers as numbers; an empty text as an empty cell."""

    def __init__(self, sheet) -> None:  # type: ignore[no-untyped-def]
        self.sheet = sheet
        self.row = 0

    def append(self, values: list) -> None:
        write_string, write_number = self.sheet.write_string, self.sheet.write_number
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                write_number(self.row, col, value)
            else:
                write_string(self.row, col, str(value))
        self.row += 1


def xlsx_file(ctx: Context, found: dict[str, Target], units: Iterator[Unit]) -> IO[bytes]:
    """The workbook in a temporary file on disk, rewound for reading; closing it deletes it.
    Neither the rows nor the compressed workbook are ever held whole in memory (EXP-06)."""
    # Unnamed on Linux (unlinked at creation): nothing is left behind even if the worker dies.
    out = tempfile.TemporaryFile(prefix="lms-export-", suffix=".xlsx")
    try:
        _write_xlsx(out, ctx, found, units)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


def _write_xlsx(
    out: IO[bytes], ctx: Context, found: dict[str, Target], units: Iterator[Unit]
) -> None:
    # XlsxWriter rather than openpyxl (which reads the files people upload): at XL it wrote
    # a national workbook of 130.000 units in about half the time (openpyxl's cells cost some
    # 80% of the export). Imported here: only staff exporting a spreadsheet need it.
    import xlsxwriter

    # Constant memory: each row goes to a temporary file as soon as the next one starts, and
    # text is stored in the row (no table of every distinct string held until the end).
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    try:
        sheet = _Sheet(book.add_worksheet(_("Targets")))
        scope = scope_json(ctx.root)
        for values in (
            [report_title(ctx)],
            [_("Unit"), scope["name"]],
            [_("Figures as of"), format_vn_date(ctx.as_of)],
            [],
            [_("Target"), _("Eligible"), _("Done"), _("Percent")],
        ):
            sheet.append(values)
        for key, target in found.items():
            sheet.append([target_label(key, ctx), target.eligible, target.done, target.percent])
        table = _Sheet(book.add_worksheet(_("Units")))
        table.append(headers())
        words = Words()
        for unit in units:
            table.append(unit_row(unit, ctx, words))
    finally:
        book.close()  # writes the workbook, and removes the rows' temporary files


def log_export(ctx: Context, fmt: str, by: str, table: str = "units") -> None:
    """`table`: what left, the units ("units") or the chairs to contact ("contacts")."""
    scope = ctx.root.code if ctx.root is not None else "*"
    audit.log_event("coverage.exported", format=fmt, table=table, scope=scope,
                    course=ctx.course.slug, as_of=ctx.as_of.isoformat(), by=by)  # fmt: skip


def report_title(ctx: Context) -> str:
    return _("Report on the results of the %(year)s theme", year=ctx.course.year)
