"""Pages of live sessions: scheduling and attendance for trainers, joining for learners."""

from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts.models import Role, User
from lms.accounts.permissions import require_role
from lms.authoring.services import can_edit
from lms.catalog.models import Course, Module
from lms.db import db
from lms.forms import EmptyForm
from lms.inputs import form_id
from lms.live import (
    attendance_file,
    models,  # noqa: F401 - registers the tables
    reminders,
    services,
)
from lms.live.forms import AttendanceUploadForm, EditForm, ScheduleForm
from lms.live.models import Attendance, LiveSession
from lms.live.providers import GoogleMeet, Join, LiveSettings
from lms.web import content_security_policy, error_response, format_number

bp = Blueprint("live", __name__, cli_group=None)
TEACHERS = (Role.TRAINER, Role.ADMIN)

# The app's default policy (lms/web.py) with the Jitsi server's script and frame added.
EMBED_CSP = (
    "default-src 'self'; script-src 'self' {origin}; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-src {origin}; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@bp.app_template_filter("live_stamp")
def live_stamp(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time (attendance lists)."""
    return "" if value is None else value.astimezone(services.VN).strftime("%d/%m/%Y %H:%M")


def _settings() -> LiveSettings:
    return LiveSettings.from_config(current_app.config)


def _course_module(course_slug: str, module_slug: str) -> tuple[Course, Module]:
    course = db.session.scalars(sa.select(Course).where(Course.slug == course_slug)).first()
    if course is None:
        abort(404)
    if not can_edit(current_user, course.id):
        abort(403)
    module = db.session.scalars(
        sa.select(Module).where(Module.course_id == course.id, Module.slug == module_slug)
    ).first()
    if module is None:
        abort(404)
    return course, module


def _session(public_id: str) -> LiveSession:
    return services.get_session_by_public_id(public_id) or abort(404)


def _sessions_of(module: Module) -> list[LiveSession]:
    return list(
        db.session.scalars(
            sa.select(LiveSession)
            .where(LiveSession.module_id == module.id)
            .order_by(LiveSession.start_dt.desc(), LiveSession.id.desc())
        )
    )


def _not_for_you(error: services.LiveError | None = None) -> ResponseReturnValue:
    """403 that names no room, link or token (LIVE-01)."""
    return error_response(403, services.message(error or services.LiveError("not_in_audience")))


# ---- trainers ------------------------------------------------------------------------------


def _warn_about_link(session) -> None:  # type: ignore[no-untyped-def]
    """Meet codes are usually abc-defg-hij: another shape is accepted but worth a second look."""
    if session.provider == "google_meet" and not GoogleMeet.code_shape_ok(session.location):
        flash(
            _("Check the Google Meet link: its code is not the usual abc-defg-hij shape."), "info"
        )


@bp.route("/teach/<course_slug>/<module_slug>/live", methods=["GET", "POST"])
@require_role(*TEACHERS)
def schedule(course_slug: str, module_slug: str) -> ResponseReturnValue:
    course, module = _course_module(course_slug, module_slug)
    form = ScheduleForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                session = services.schedule(
                    current_user,
                    module,
                    title=form.title.data,
                    start_local=form.start_local(),
                    minutes=form.minutes.data,
                    provider=form.provider.data,
                    url=form.url.data or "",
                    notes=form.notes.data or "",
                    audience_codes=form.audience_codes(),
                    covers_module=form.covers_module.data,
                    settings=_settings(),
                )
            except services.LiveError as exc:
                db.session.rollback()
                form.form_errors.append(services.message(exc))
            else:
                db.session.commit()
                flash(_("Live session “%(title)s” scheduled.", title=session.title), "success")
                _warn_about_link(session)
                return redirect(
                    url_for("live.schedule", course_slug=course.slug, module_slug=module.slug)
                )
    return render_template(
        "live/schedule.html",
        course=course,
        module=module,
        form=form,
        sessions=_sessions_of(module),
    ), status


def _managed(public_id: str) -> LiveSession:
    session = _session(public_id)
    if not services.may_manage(current_user, session):
        abort(403)
    return session


def _back_to_schedule(session: LiveSession) -> ResponseReturnValue:
    module = db.session.get(Module, session.module_id)
    course = db.session.get(Course, module.course_id) if module else None
    if module is None or course is None:
        return redirect(url_for("live.index"))
    return redirect(url_for("live.schedule", course_slug=course.slug, module_slug=module.slug))


@bp.route("/live/<public_id>/edit", methods=["GET", "POST"])
@require_role(*TEACHERS)
def edit(public_id: str) -> ResponseReturnValue:
    session = _managed(public_id)
    initial = EditForm.initial(session, services.audience_of(session))
    form = EditForm(obj=None if request.method == "POST" else initial)
    if session.provider == "jitsi":
        del form.url  # the room is the system's own: there is no link to change
    if form.validate_on_submit():
        try:
            services.update(current_user, session, settings=_settings(), **form.changes())
        except services.LiveError as exc:
            db.session.rollback()
            form.form_errors.append(services.message(exc))
        else:
            db.session.commit()
            flash(_("Live session “%(title)s” updated.", title=session.title), "success")
            _warn_about_link(session)
            return _back_to_schedule(session)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "live/edit.html", session=session, form=form, cancel_form=EmptyForm()
    ), status


@bp.post("/live/<public_id>/cancel")
@require_role(*TEACHERS)
def cancel(public_id: str) -> ResponseReturnValue:
    session = _managed(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.cancel(current_user, session)
    except services.LiveError as exc:
        db.session.rollback()
        flash(services.message(exc), "error")
        return redirect(url_for("live.edit", public_id=session.public_id))
    db.session.commit()
    flash(_("Live session “%(title)s” cancelled.", title=session.title), "success")
    return _back_to_schedule(session)


def _attendance_rows(session: LiveSession) -> list[tuple[Attendance, User]]:
    """As `services.attendance_of`, whose `Result.tuples()` is deprecated in SQLAlchemy 2.1."""
    result = db.session.execute(
        sa.select(Attendance, User)
        .join(User, User.id == Attendance.user_id)
        .where(Attendance.session_id == session.id)
        .order_by(User.full_name, User.id)
    )
    return [(attendance, user) for attendance, user in result]


def _attendance_page(
    session: LiveSession,
    *,
    matched: list[int] = (),  # type: ignore[assignment]
    unmatched: list = (),  # type: ignore[assignment]
    upload: AttendanceUploadForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    rows = _attendance_rows(session)
    known = {user.id for _row, user in rows}
    wanted = [i for i in matched if i not in known]
    extra = list(
        db.session.scalars(
            sa.select(User).where(User.id.in_(wanted)).order_by(User.full_name, User.id)
        )
    )
    module = db.session.get(Module, session.module_id)
    course = db.session.get(Course, module.course_id) if module else None
    return render_template(
        "live/attendance.html",
        session=session,
        module=module,
        course=course,
        rows=rows,
        extra=extra,
        matched=set(matched),
        unmatched=unmatched,
        via="csv" if matched else "list",
        upload=upload or AttendanceUploadForm(),
    ), status


@bp.route("/live/<public_id>/attendance", methods=["GET", "POST"])
@require_role(*TEACHERS)
def attendance(public_id: str) -> ResponseReturnValue:
    session = _managed(public_id)
    if request.method == "GET":
        return _attendance_page(session)
    if "file" in request.files:
        upload = AttendanceUploadForm()
        file = upload.file.data
        if not upload.validate_on_submit() or not file or not file.filename:
            upload.file.errors = [_("Please choose a CSV file.")]
            return _attendance_page(session, upload=upload, status=400)
        try:
            matched, unmatched = attendance_file.import_attendance_csv(
                current_user, session, file.read(attendance_file.CSV_MAX_BYTES + 1)
            )
        except services.LiveError as exc:
            upload.file.errors = [services.message(exc)]
            return _attendance_page(session, upload=upload, status=400)
        return _attendance_page(session, matched=matched, unmatched=unmatched)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    ids = [form_id(v) for v in request.form.getlist("user_id")]
    if None in ids:
        abort(400)
    via = request.form.get("via", "list")
    if not ids:
        flash(_("Tick the people who attended."), "error")
        return _attendance_page(session, status=400)
    try:
        count = services.confirm_attendance(current_user, session, ids, via=via)
    except services.LiveError as exc:
        db.session.rollback()
        flash(services.message(exc), "error")
        return _attendance_page(session, status=400)
    db.session.commit()
    flash(_("Attendance confirmed for %(num)s people.", num=format_number(count)), "success")
    return redirect(url_for("live.attendance", public_id=session.public_id))


@bp.post("/live/<public_id>/attendance/withdraw")
@require_role(*TEACHERS)
def withdraw(public_id: str) -> ResponseReturnValue:
    session = _managed(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        user_id = int(request.form.get("withdraw", ""))
    except ValueError:
        abort(400)
    if services.withdraw_attendance(current_user, session, user_id):
        db.session.commit()
        flash(_("Confirmation withdrawn."), "success")
    else:
        flash(_("This person’s attendance was not confirmed."), "error")
    return redirect(url_for("live.attendance", public_id=session.public_id))


# ---- learners ------------------------------------------------------------------------------


@bp.get("/live/")
@login_required
def index() -> ResponseReturnValue:
    upcoming, recent = services.sessions_for(current_user)
    modules = {m.id: m for m in _modules_of(upcoming + recent)}
    return render_template("live/index.html", upcoming=upcoming, recent=recent, modules=modules)


def _modules_of(sessions: list[LiveSession]) -> list[Module]:
    ids = {s.module_id for s in sessions}
    return list(db.session.scalars(sa.select(Module).where(Module.id.in_(ids)))) if ids else []


@bp.get("/live/<public_id>")
@login_required
def join(public_id: str) -> ResponseReturnValue:
    session = _session(public_id)
    attending = services.in_audience(current_user, session)
    sharing = services.may_share(current_user, session)
    if not attending and not sharing:
        return _not_for_you()
    module = db.session.get(Module, session.module_id)
    # The public address, as in invitations: the request may have come through an intranet name.
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    page_url = base + url_for("live.join", public_id=session.public_id)
    response = make_response(
        render_template(
            "live/join.html",
            session=session,
            module=module,
            form=EmptyForm(),
            settings=_settings(),
            attending=attending,
            manage=services.may_manage(current_user, session),
            share=reminders.share_text(session, module, page_url) if sharing else None,
        )
    )
    # The join button's answer redirects to a meeting that opens in its own page: browsers
    # hold form redirects to the form-action of the CSP, so that origin must be allowed.
    origin = _meeting_origin(session, _settings())
    if origin:
        response.headers["Content-Security-Policy"] = content_security_policy(origin)
    return response


def _meeting_origin(session: LiveSession, settings: LiveSettings) -> str | None:
    """The origin of a meeting that opens in its own page (None when it is embedded here)."""
    if session.provider == "jitsi":
        return f"https://{settings.jitsi_host}" if settings.public_jitsi else None
    host = urlsplit(session.location).netloc
    return f"https://{host}" if host else None


@bp.post("/live/<public_id>/join")
@login_required
def enter(public_id: str) -> ResponseReturnValue:
    session = _session(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        found: Join = services.join(current_user, session, _settings())
    except services.LiveError as exc:
        db.session.rollback()
        if exc.code == "not_in_audience":
            return _not_for_you(exc)
        flash(services.message(exc), "error")
        return redirect(url_for("live.join", public_id=session.public_id))
    db.session.commit()
    if not found.embed:
        return redirect(found.url)
    response = Response(render_template("live/embed.html", session=session, join=found))
    origin = "https://" + found.domain.split("/")[0]  # a tenant path is not part of the origin
    response.headers["Content-Security-Policy"] = EMBED_CSP.format(origin=origin)
    # The meeting frame needs the camera and microphone; nothing else on this page does.
    allowed = f'("{origin}")'
    response.headers["Permissions-Policy"] = (
        f"geolocation=(), camera={allowed}, microphone={allowed}, display-capture={allowed}"
    )
    return response


@bp.get("/live/<public_id>.ics")
@login_required
def calendar(public_id: str) -> ResponseReturnValue:
    session = _session(public_id)
    if not services.in_audience(current_user, session):
        return _not_for_you()
    body = services.session_ics_for(
        session,
        _settings(),
        request.host_url,
        page_url=url_for("live.join", public_id=session.public_id, _external=True),
    )
    return Response(
        body,
        content_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="buoi-hoc.ics"'},
    )
