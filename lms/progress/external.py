"""Completions earned outside the platform (a province or in-person class), recorded by staff
for people in their scope, and revoked by them with a reason. Every write goes through
`services.record_completion` / `services.revoke_completion`, so whatever those keep in step
with a completion (certificates, figures) sees these too."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.accounts.models import User
from lms.catalog.models import Course, Module, ModuleStatus
from lms.db import VN_TZ, db, vn_today
from lms.orgs import services as orgs
from lms.progress import evidence as evidence_files
from lms.progress import services
from lms.progress.models import Completion, CompletionSource

CLASS_MAX = 300
NOTE_MAX = 500
DATE_RE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


class RecordError(ValueError):
    """Refused input for an external completion; `code` names the rule."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


MESSAGES = {
    "bad_date": _l("“%(value)s” is not a date: write it as dd/mm/yyyy, e.g. 03/11/2021."),
    "future_date": _l("The class date %(value)s is in the future."),
    "missing_date": _l("Please enter the date of the class (dd/mm/yyyy)."),
    "missing_class": _l("Please enter the name of the class."),
    "class_too_long": _l("The class name is too long (at most 300 characters)."),
    "note_too_long": _l("The evidence note is too long (at most 500 characters)."),
    "unknown_module": _l("There is no published module “%(value)s”."),
    "out_of_scope": _l("This person is outside the part of the organisation you manage."),
    "already_completed": _l(
        "%(name)s already completed “%(module)s” (%(source)s, %(date)s). That completion is "
        "kept and nothing was recorded; revoke it first if it is wrong."
    ),
    "reason_missing": _l("Please give the reason for revoking this completion."),
    "already_revoked": _l("This completion was already revoked."),
    "evidence_empty": _l("The evidence file is empty."),
    "evidence_too_big": _l("The evidence file is too large (at most 5 MB)."),
    "evidence_type": _l("The evidence file must be a PDF, JPEG or PNG file."),
}

SOURCE_LABELS = {
    CompletionSource.ONLINE: _l("online"),
    CompletionSource.LIVE: _l("live session"),
    CompletionSource.EXTERNAL: _l("external class"),
}


def message(error: RecordError) -> str:
    text = str(MESSAGES[error.code])
    return text % error.params if error.params else text


def source_label(source: CompletionSource) -> str:
    return str(SOURCE_LABELS[source])


# ---- dates ---------------------------------------------------------------------------------


def parse_day(value: object) -> date:
    """A class date: dd/mm/yyyy (also with . or -), or a date cell of a spreadsheet; not later
    than today in Vietnam."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = str(value or "").strip()
        if not text:
            raise RecordError("missing_date")
        match = DATE_RE.fullmatch(text)
        try:
            if not match:
                raise ValueError(text)
            day = date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError as exc:
            raise RecordError("bad_date", value=text) from exc
    if day.year < 2000:
        raise RecordError("bad_date", value=day.strftime("%d/%m/%Y"))
    if day > vn_today():
        raise RecordError("future_date", value=day.strftime("%d/%m/%Y"))
    return day


def class_start(day: date) -> datetime:
    """The completion time of a class held that day: its first moment in Vietnam, so the
    completion counts on that Vietnamese date (COMP-06) and is never in the future."""
    return datetime.combine(day, time(0, 0), tzinfo=VN_TZ)


def clean_text(value: str | None, limit: int, code: str) -> str:
    text = unicodedata.normalize("NFC", value or "").replace("\x00", "").strip()
    if len(text) > limit:
        raise RecordError(code)
    return text


# ---- modules -------------------------------------------------------------------------------


def recordable_modules() -> list[Module]:
    """Published modules of published courses, newest course first, with their course."""
    return list(
        db.session.scalars(
            sa.select(Module)
            .join(Course)
            .where(Course.published.is_(True), Module.status == ModuleStatus.PUBLISHED)
            .order_by(Course.year.desc(), Course.id.desc(), Module.position, Module.id)
            .options(sa.orm.contains_eager(Module.course))
        )
    )


def get_recordable_module(module_id: int) -> Module | None:
    return next((m for m in recordable_modules() if m.id == module_id), None)


# ---- recording and revoking ----------------------------------------------------------------


def _require_scope(actor: User, person: User) -> None:
    if orgs.get_person_in_scope(actor, person.id) is None:
        raise RecordError("out_of_scope")


def refuse_if_completed(person: User, module: Module) -> None:
    """Say clearly that a standing completion is kept (one per person and module)."""
    existing = services.completions_of(person, [module.id]).get(module.id)
    if existing is not None:
        raise RecordError(
            "already_completed",
            name=person.full_name,
            module=module.title,
            source=source_label(existing.source),
            date=existing.completed_dt.astimezone(VN_TZ).strftime("%d/%m/%Y"),
        )


def record_external(
    actor: User,
    person: User,
    module: Module,
    *,
    day: object,
    class_name: str,
    note: str | None = None,
    evidence: bytes | None = None,
) -> Completion:
    """Record that a person in the actor's scope completed a module at a class on `day`."""
    _require_scope(actor, person)
    class_day = parse_day(day)
    class_name = clean_text(class_name, CLASS_MAX, "class_too_long")
    if not class_name:
        raise RecordError("missing_class")
    note = clean_text(note, NOTE_MAX, "note_too_long") or None
    checked = evidence_files.check(evidence) if evidence is not None else None
    if isinstance(checked, str):
        raise RecordError(checked)
    refuse_if_completed(person, module)
    stored = (evidence_files.store(checked), checked.content_type) if checked else None
    completion = services.record_completion(
        person,
        module,
        CompletionSource.EXTERNAL,
        recorded_by=actor,
        note=note,
        when=class_start(class_day),
        class_name=class_name,
        evidence=stored,
    )
    audit.log_event(
        "completion.external",
        completion=completion.id,
        user=person.id,
        module=module.id,
        by=actor.username,
        class_name=class_name,
    )
    return completion


def get_completion_in_scope(actor: User, completion_id: int) -> Completion | None:
    """A completion of someone the actor may see (admin: anyone), with its module loaded."""
    people = orgs.people_query(actor).with_only_columns(User.id).order_by(None)
    return db.session.scalars(
        sa.select(Completion)
        .where(Completion.id == completion_id, Completion.user_id.in_(people))
        .options(sa.orm.joinedload(Completion.module))
    ).first()


def revoke(actor: User, completion: Completion, reason: str) -> None:
    """Withdraw a completion of a person in scope, with a reason (audited, row kept)."""
    person = db.session.get(User, completion.user_id)
    _require_scope(actor, person)  # type: ignore[arg-type]
    if completion.revoked_dt is not None:
        raise RecordError("already_revoked")
    reason = clean_text(reason, NOTE_MAX, "note_too_long")
    if not reason:
        raise RecordError("reason_missing")
    services.revoke_completion(completion, actor, reason)
    db.session.flush()


# ---- a person's record ---------------------------------------------------------------------


@dataclass
class ModuleRecord:
    module: Module
    standing: Completion | None = None
    revoked: list[Completion] = field(default_factory=list)


def person_records(person: User) -> list[ModuleRecord]:
    """Every published module with the person's standing completion and revoked ones."""
    records = {m.id: ModuleRecord(m) for m in recordable_modules()}
    rows = db.session.scalars(
        sa.select(Completion)
        .where(Completion.user_id == person.id, Completion.module_id.in_(list(records)))
        .order_by(Completion.recorded_dt, Completion.id)
    )
    for completion in rows:
        record = records[completion.module_id]
        if completion.revoked_dt is None:
            record.standing = completion
        else:
            record.revoked.append(completion)
    return list(records.values())
