import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms import audit
from lms.accounts.models import Role
from lms.accounts.permissions import require_role
from lms.authoring import history, services, uploads
from lms.authoring.forms import LessonForm, ModuleForm, NewLessonForm, TrainerForm, UploadForm
from lms.authoring.models import RevisionKind
from lms.catalog.models import Course, Lesson, Module
from lms.db import db
from lms.forms import EmptyForm
from lms.markdown import render_markdown

bp = Blueprint("authoring", __name__, cli_group=None)
TEACHERS = (Role.TRAINER, Role.ADMIN)


def _course(slug: str) -> Course:
    course = db.session.scalars(sa.select(Course).where(Course.slug == slug)).first() or abort(404)
    if not services.can_edit(current_user, course.id):
        abort(403)
    return course


def _module(course: Course, slug: str) -> Module:
    return db.session.scalars(
        sa.select(Module).where(Module.course_id == course.id, Module.slug == slug)
    ).first() or abort(404)


def _lesson(module: Module, slug: str) -> Lesson:
    return db.session.scalars(
        sa.select(Lesson).where(Lesson.module_id == module.id, Lesson.slug == slug)
    ).first() or abort(404)


def _to_module(course: Course, module: Module) -> ResponseReturnValue:
    return redirect(url_for("authoring.module", course_slug=course.slug, module_slug=module.slug))


@bp.get("/teach/")
@require_role(*TEACHERS)
def index() -> ResponseReturnValue:
    return render_template("authoring/index.html", courses=services.courses_for(current_user))


@bp.get("/teach/<course_slug>")
@require_role(*TEACHERS)
def course(course_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    return render_template(
        "authoring/course.html",
        course=found,
        modules=services.modules_of(found),
        trainers=services.trainers_of(found),
        module_form=ModuleForm(),
        trainer_form=TrainerForm(),
        form=EmptyForm(),
    )


@bp.post("/teach/<course_slug>/modules")
@require_role(*TEACHERS)
def create_module(course_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    form = ModuleForm()
    if form.validate_on_submit():
        try:
            module = services.create_module(
                found,
                title=form.title.data,
                kind=form.kind.data,
                summary=form.summary.data or "",
                pass_mark=form.pass_mark.data or 80,
                requires_live=form.requires_live.data,
            )
        except services.AuthoringError as exc:
            form.form_errors.append(services.message(exc))
        else:
            db.session.commit()
            flash(_("Module “%(title)s” created as a draft.", title=module.title), "success")
            return _to_module(found, module)
    return render_template(
        "authoring/course.html",
        course=found,
        modules=services.modules_of(found),
        trainers=services.trainers_of(found),
        module_form=form,
        trainer_form=TrainerForm(),
        form=EmptyForm(),
    ), 400


@bp.post("/teach/<course_slug>/trainers")
@require_role(Role.ADMIN)
def add_trainer(course_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    form = TrainerForm()
    if form.validate_on_submit():
        try:
            user = services.assign_trainer(found, form.username.data, current_user)
        except services.AuthoringError as exc:
            flash(services.message(exc), "error")
        else:
            db.session.commit()
            flash(_("%(name)s can now edit this course.", name=user.full_name), "success")
    return redirect(url_for("authoring.course", course_slug=found.slug))


@bp.post("/teach/<course_slug>/trainers/<int:user_id>/remove")
@require_role(Role.ADMIN)
def remove_trainer(course_slug: str, user_id: int) -> ResponseReturnValue:
    found = _course(course_slug)
    if EmptyForm().validate_on_submit():
        services.remove_trainer(found, user_id, current_user)
        db.session.commit()
    return redirect(url_for("authoring.course", course_slug=found.slug))


@bp.route("/teach/<course_slug>/<module_slug>", methods=["GET", "POST"])
@require_role(*TEACHERS)
def module(course_slug: str, module_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    form = ModuleForm(obj=mod if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.update_module(
                mod,
                title=form.title.data,
                kind=form.kind.data,
                summary=form.summary.data,
                pass_mark=form.pass_mark.data,
                requires_live=form.requires_live.data,
            )
        except services.AuthoringError as exc:
            form.form_errors.append(services.message(exc))
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return _to_module(found, mod)
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "authoring/module.html",
        course=found,
        module=mod,
        form=form,
        lessons=services.lessons_of(mod),
        lesson_form=NewLessonForm(),
        action_form=EmptyForm(),
    ), status


@bp.post("/teach/<course_slug>/<module_slug>/status")
@require_role(*TEACHERS)
def module_status(course_slug: str, module_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    status = request.form.get("status", "")
    if EmptyForm().validate_on_submit() and status in ("published", "draft", "retired"):
        try:
            services.set_status(mod, status, current_user)
        except services.AuthoringError as exc:
            db.session.rollback()
            flash(services.message(exc), "error")
            return _to_module(found, mod)
        db.session.commit()
        flash(_("The module's status is updated."), "success")
    return _to_module(found, mod)


@bp.post("/teach/<course_slug>/<module_slug>/move")
@require_role(*TEACHERS)
def move_module(course_slug: str, module_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    if EmptyForm().validate_on_submit():
        services.move(
            mod, services.modules_of(found), -1 if request.form.get("step") == "up" else 1
        )
        db.session.commit()
    return redirect(url_for("authoring.course", course_slug=found.slug))


@bp.post("/teach/<course_slug>/<module_slug>/lessons")
@require_role(*TEACHERS)
def create_lesson(course_slug: str, module_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    form = NewLessonForm()
    if form.validate_on_submit():
        try:
            lesson = services.create_lesson(
                mod, title=form.title.data, minutes=form.minutes.data or 7, kind=form.kind.data
            )
        except services.AuthoringError as exc:
            flash(services.message(exc), "error")
            return _to_module(found, mod)
        db.session.commit()
        return redirect(
            url_for(
                "authoring.lesson",
                course_slug=found.slug,
                module_slug=mod.slug,
                lesson_slug=lesson.slug,
            )
        )
    flash(_("Please enter a title."), "error")
    return _to_module(found, mod)


def _editor(course, mod, lesson, form, *, status: int = 200, preview=None, conflict=None):  # type: ignore[no-untyped-def]
    return render_template(
        "authoring/lesson.html",
        course=course,
        module=mod,
        lesson=lesson,
        form=form,
        preview=preview,
        conflict=conflict,
        upload_form=UploadForm(),
        images=uploads.uploads_of(course),
        action_form=EmptyForm(),
        max_chars=services.MAX_LESSON_CHARS,
    ), status


@bp.route("/teach/<course_slug>/<module_slug>/<lesson_slug>", methods=["GET", "POST"])
@require_role(*TEACHERS)
def lesson(course_slug: str, module_slug: str, lesson_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    item = _lesson(mod, lesson_slug)
    form = LessonForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        form.body.data, form.version.data = services.current_text(item), str(item.version)
    if not form.validate_on_submit():
        return _editor(found, mod, item, form, status=400 if form.errors else 200)
    if request.form.get("action") == "preview":
        return _editor(found, mod, item, form, preview=_preview(form.body.data))
    try:
        _save(item, form)
        if request.form.get("action") == "publish":
            services.publish_lesson(item, current_user)
    except services.EditConflict as exc:
        db.session.rollback()
        return _editor(found, mod, item, form, status=409, conflict=exc)
    except services.AuthoringError as exc:
        db.session.rollback()
        form.form_errors.append(services.message(exc))
        return _editor(found, mod, item, form, status=400)
    db.session.commit()
    flash(
        _("Published: learners now see this text.")
        if request.form.get("action") == "publish"
        else _("Saved as a draft. Learners still see the published text."),
        "success",
    )
    return redirect(
        url_for(
            "authoring.lesson", course_slug=found.slug, module_slug=mod.slug, lesson_slug=item.slug
        )
    )


def _save(item: Lesson, form: LessonForm, *, autosave: bool = False) -> None:
    services.save_lesson(
        item, current_user, title=form.title.data, minutes=form.minutes.data, kind=form.kind.data,
        body=form.body.data, version=int(form.version.data or 0), autosave=autosave,
    )  # fmt: skip


def _preview(body: str):  # type: ignore[no-untyped-def]
    """The same renderer and sanitiser as learners' pages; an invalid block shows its error."""
    from lms.markdown import BlockError, render_lesson, split_rendered

    try:
        html, blocks = render_lesson(body or "")
    except BlockError as exc:
        return {"error": _("Line %(line)s: %(reason)s", line=exc.line, reason=str(exc))}
    return {"parts": split_rendered(html), "blocks": {b.key: (b.kind, data) for b, data in blocks}}


@bp.post("/teach/<course_slug>/<module_slug>/<lesson_slug>/autosave")
@require_role(*TEACHERS)
def autosave(course_slug: str, module_slug: str, lesson_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    item = _lesson(_module(found, module_slug), lesson_slug)
    form = LessonForm()
    if not form.validate_on_submit():
        return jsonify(saved=False, error="invalid"), 400
    try:
        _save(item, form, autosave=True)
    except services.EditConflict as exc:
        return jsonify(saved=False, error="conflict", version=exc.version), 409
    except services.AuthoringError as exc:
        return jsonify(saved=False, error=services.message(exc)), 400
    db.session.commit()
    return jsonify(saved=True, version=item.version)


@bp.post("/teach/<course_slug>/<module_slug>/<lesson_slug>/arrange")
@require_role(*TEACHERS)
def arrange_lesson(course_slug: str, module_slug: str, lesson_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    item = _lesson(mod, lesson_slug)
    action = request.form.get("action")
    if EmptyForm().validate_on_submit() and action in ("up", "down", "retire", "restore"):
        if action in ("up", "down"):
            services.move(item, services.lessons_of(mod), -1 if action == "up" else 1)
        else:
            item.retired = action == "retire"
        db.session.commit()
    return _to_module(found, mod)


@bp.get("/teach/<course_slug>/<module_slug>/<lesson_slug>/history")
@require_role(*TEACHERS)
def lesson_history(course_slug: str, module_slug: str, lesson_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    item = _lesson(mod, lesson_slug)
    revisions = history.history(RevisionKind.LESSON, item.id)
    diffs = history.diffs(revisions)
    return render_template(
        "authoring/history.html",
        course=found,
        module=mod,
        lesson=item,
        revisions=revisions,
        diffs=diffs,
        form=EmptyForm(),
    )


@bp.post("/teach/<course_slug>/<module_slug>/<lesson_slug>/history/<int:revision_id>/restore")
@require_role(*TEACHERS)
def restore_lesson(
    course_slug: str, module_slug: str, lesson_slug: str, revision_id: int
) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    item = _lesson(mod, lesson_slug)
    revision = history.get_revision(RevisionKind.LESSON, item.id, revision_id) or abort(404)
    if EmptyForm().validate_on_submit():
        history.restore(revision, current_user)
        db.session.commit()
        flash(_("The earlier text is back as a draft. Publish it when it is ready."), "success")
    return redirect(
        url_for(
            "authoring.lesson", course_slug=found.slug, module_slug=mod.slug, lesson_slug=item.slug
        )
    )


@bp.post("/teach/<course_slug>/uploads")
@require_role(*TEACHERS)
def upload(course_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    form = UploadForm()
    file = request.files.get("image")
    if not form.validate_on_submit() or file is None:
        abort(400)
    data = file.read(uploads.max_bytes() + 1)
    file.close()  # a large upload is spooled to a temporary file
    try:
        saved = uploads.save_upload(found, current_user, data)
    except uploads.UploadError as exc:
        text = UPLOAD_MESSAGES[exc.code]()
        return (
            (jsonify(error=text), 400)
            if request.accept_mimetypes.best == "application/json"
            else (_flash_back(text, "error"))
        )
    db.session.commit()
    snippet = f"![{_('describe the image')}]({url_for('authoring.image', name=saved.name)})"
    if request.accept_mimetypes.best == "application/json":
        return jsonify(markdown=snippet)
    return _flash_back(
        _("Image uploaded. Copy this line into the lesson: %(snippet)s", snippet=snippet), "success"
    )


UPLOAD_MESSAGES = {
    "empty": lambda: _("The file is empty."),
    "too_big": lambda: _("The image is too large (at most 2 MB). Make it smaller and try again."),
    "not_image": lambda: _("This file is not a PNG, JPEG, GIF or WebP image."),
}


def _flash_back(text: str, category: str) -> ResponseReturnValue:
    flash(text, category)
    return redirect(
        request.referrer
        if request.referrer and request.referrer.startswith(request.host_url)
        else url_for("authoring.index")
    )


@bp.get("/uploads/<name>")
@login_required
def image(name: str) -> ResponseReturnValue:
    found = uploads.get_upload(name) or abort(404)
    response: Response = send_file(
        uploads.folder() / found.name, mimetype=found.content_type, max_age=86400, conditional=True
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = f'inline; filename="{found.name}"'
    return response


@bp.get("/teach/<course_slug>/<module_slug>/learners")
@require_role(*TEACHERS)
def learners(course_slug: str, module_slug: str) -> ResponseReturnValue:
    found = _course(course_slug)
    mod = _module(found, module_slug)
    return render_template(
        "authoring/learners.html",
        course=found,
        module=mod,
        reflections=services.reflections_in(mod),
        posts=services.posts_in(mod),
        form=EmptyForm(),
    )


@bp.get("/teach/<course_slug>/export.zip")
@require_role(*TEACHERS)
def export_course(course_slug: str) -> ResponseReturnValue:
    from lms.authoring import exporter

    found = _course(course_slug)
    return _zip(exporter.zip_course(found), found.slug)


@bp.get("/teach/<course_slug>/<module_slug>/export.zip")
@require_role(*TEACHERS)
def export_module(course_slug: str, module_slug: str) -> ResponseReturnValue:
    from lms.authoring import exporter

    found = _course(course_slug)
    mod = _module(found, module_slug)
    return _zip(exporter.zip_module(mod), f"{found.slug}-{mod.slug}")


def _zip(data: bytes, name: str) -> ResponseReturnValue:
    audit.log_event("export.downloaded", what="zip", name=name)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )


@bp.post("/teach/preview")
@require_role(*TEACHERS)
def preview() -> ResponseReturnValue:
    """Server-rendered preview for the editor's script (JSON in, sanitised HTML out)."""
    if not request.is_json:
        abort(415)
    data = request.get_json(silent=True)
    body = str(data.get("body", "") if isinstance(data, dict) else "")[: services.MAX_LESSON_CHARS]
    return jsonify(html=str(render_markdown(body)))
