"""Staff pages for completions earned outside the platform: record one for a person in scope,
revoke one with a reason, download its evidence, import a class's attendance list."""

import base64
import binascii
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from lms import audit
from lms.accounts.models import User
from lms.accounts.permissions import STAFF_ROLES, require_role
from lms.db import db
from lms.orgs import services as orgs
from lms.progress import evidence, external, imports
from lms.progress.forms import (
    ApplyImportForm,
    CompletionFileForm,
    ExternalCompletionForm,
    RevokeForm,
)
from lms.web import format_number

bp = Blueprint("completions", __name__, cli_group=None)
bp.add_app_template_global(external.source_label, "source_label")


@dataclass
class Panel:
    """What the completions section of a person's page shows."""

    person: User
    records: list[external.ModuleRecord]
    form: ExternalCompletionForm


def record_form() -> ExternalCompletionForm:
    form = ExternalCompletionForm()
    form.module.choices = [
        (m.id, f"{m.title} ({m.course.title})") for m in external.recordable_modules()
    ]
    return form


@bp.app_template_global("completions_panel")
def completions_panel(person: User, form: ExternalCompletionForm | None = None) -> Panel:
    """For templates/orgs/person.html, whose view already checked the person is in scope."""
    return Panel(person, external.person_records(person), form or record_form())


def _person(user_id: int) -> User:
    return orgs.get_person_in_scope(current_user, user_id) or abort(404)


def _page(person: User, form: ExternalCompletionForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    panel = completions_panel(person, form)
    return render_template("progress/person_completions.html", panel=panel), status


def _back_to(person: User) -> ResponseReturnValue:
    return redirect(url_for("orgs.person", user_id=person.id) + "#completions")


# Refusals about one field are shown next to it, under its label; the rest above the form.
FIELD_OF = {"bad_date": "day", "future_date": "day", "missing_date": "day",
            "missing_class": "class_name", "class_too_long": "class_name", "note_too_long": "note",
            "evidence_empty": "evidence", "evidence_too_big": "evidence",
            "evidence_type": "evidence"}  # fmt: skip


def _show_error(form: ExternalCompletionForm, exc: external.RecordError) -> None:
    field = form[FIELD_OF[exc.code]] if exc.code in FIELD_OF else None
    errors = field.errors if field is not None else form.form_errors
    errors.append(external.message(exc))  # type: ignore[union-attr]


@bp.route("/people/<int:user_id>/completions", methods=["GET", "POST"])
@require_role(*STAFF_ROLES)
def person(user_id: int) -> ResponseReturnValue:
    found = _person(user_id)
    form = record_form()
    if request.method == "GET":
        return _page(found, form)
    if form.validate_on_submit():
        module = external.get_recordable_module(form.module.data) or abort(400)
        upload = form.evidence.data
        data = upload.read(evidence.max_bytes() + 1) if upload and upload.filename else None
        try:
            external.record_external(
                current_user, found, module, day=form.day.data, class_name=form.class_name.data,
                note=form.note.data, evidence=data,
            )  # fmt: skip
        except external.RecordError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(_("Completion of “%(module)s” recorded.", module=module.title), "success")
            return _back_to(found)
    return _page(found, form, 400)


@bp.post("/completions/<int:completion_id>/revoke")
@require_role(*STAFF_ROLES)
def revoke(completion_id: int) -> ResponseReturnValue:
    completion = external.get_completion_in_scope(current_user, completion_id) or abort(404)
    person = db.session.get(User, completion.user_id)
    form = RevokeForm()
    try:
        if not form.validate_on_submit():
            raise external.RecordError("reason_missing")
        external.revoke(current_user, completion, form.reason.data)
    except external.RecordError as exc:
        flash(external.message(exc), "error")
        return _page(person, status=400)  # type: ignore[arg-type]
    db.session.commit()
    flash(_("Completion of “%(module)s” revoked.", module=completion.module.title), "success")
    return _back_to(person)  # type: ignore[arg-type]


@bp.get("/completions/<int:completion_id>/evidence")
@require_role(*STAFF_ROLES)
def evidence_file(completion_id: int) -> ResponseReturnValue:
    completion = external.get_completion_in_scope(current_user, completion_id) or abort(404)
    path = evidence.path_of(completion.evidence_file) or abort(404)
    audit.log_event("evidence.downloaded", completion=completion.id, by=current_user.username)
    response = send_file(
        path,
        mimetype=completion.evidence_type,
        as_attachment=True,
        download_name=f"minh-chung-{completion.id}{path.suffix}",
        max_age=0,
    )
    # A download, never a page: nothing in it may run even if a browser tried to render it.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ---- importing a class's attendance list ---------------------------------------------------


def _import_page(plan=None, payload: str = "", status: int = 200, form=None):  # type: ignore[no-untyped-def]
    apply_form = ApplyImportForm(payload=payload) if plan is not None and plan.ok else None
    return render_template(
        "progress/import_completions.html",
        form=form or CompletionFileForm(),
        plan=plan,
        apply_form=apply_form,
        columns=imports.COLUMNS,
    ), status


@bp.route("/completions/import", methods=["GET", "POST"])
@require_role(*STAFF_ROLES)
def import_file() -> ResponseReturnValue:
    form = CompletionFileForm()
    if request.method == "GET":
        return _import_page(form=form)
    upload = form.file.data
    if not form.validate_on_submit() or not upload or not upload.filename:
        form.file.errors = [_("Choose a CSV or XLSX file.")]
        return _import_page(form=form, status=400)
    data = upload.read(imports.MAX_BYTES + 1)
    plan = imports.plan_import(current_user, data)
    payload = base64.b64encode(data).decode() if plan.ok else ""
    return _import_page(plan, payload, 200 if plan.ok else 400)


@bp.post("/completions/import/apply")
@require_role(*STAFF_ROLES)
def apply_import() -> ResponseReturnValue:
    form = ApplyImportForm()
    try:
        data = base64.b64decode(form.payload.data or "", validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not form.validate_on_submit() or not data:
        abort(400)
    plan = imports.plan_import(current_user, data)
    if not plan.ok:  # the database changed since the preview: show why, record nothing
        return _import_page(plan, status=400)
    recorded = imports.apply_import(current_user, plan)
    db.session.commit()
    flash(
        _("%(num)s completions recorded, %(kept)s kept as they were.",
          num=format_number(len(recorded)), kept=format_number(len(plan.kept))),
        "success",
    )  # fmt: skip
    return redirect(url_for("completions.import_file"))
