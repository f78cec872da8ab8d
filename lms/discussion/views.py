from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts.permissions import require_role
from lms.catalog.models import Lesson
from lms.db import db
from lms.discussion import services
from lms.discussion.services import MODERATORS
from lms.forms import BaseForm
from lms.inputs import form_id

bp = Blueprint("discussion", __name__, cli_group=None)


def _lesson_url(lesson_id: int, anchor: str) -> str:
    address = services.lesson_address(lesson_id) or abort(404)
    course_slug, module_slug, lesson_slug = address
    return (
        url_for(
            "progress.lesson",
            course_slug=course_slug,
            module_slug=module_slug,
            lesson_slug=lesson_slug,
        )
        + anchor
    )


def _parent_id(value: str) -> int | None:
    # 0 finds no post: a parent id that no row could have is refused like an unknown one.
    return (form_id(value) or 0) if value else None


@bp.post("/lessons/<int:lesson_id>/posts")
@login_required
def add(lesson_id: int) -> ResponseReturnValue:
    lesson = db.get_or_404(Lesson, lesson_id)
    if lesson.retired or not BaseForm().validate_on_submit():
        abort(404 if lesson.retired else 400)
    try:
        post = services.add_post(
            current_user,
            lesson,
            request.form.get("body", ""),
            _parent_id(request.form.get("parent_id", "")),
        )
    except services.DiscussionError as exc:
        flash(services.message(exc), "error")
        session["post_draft"] = request.form.get("body", "")[: services.MAX_LENGTH]  # keep the text
        return redirect(_lesson_url(lesson_id, "#discussion"))
    db.session.commit()
    flash(_("Your message is posted."), "success")
    return redirect(_lesson_url(lesson_id, f"#post-{post.id}"))


@bp.post("/posts/<int:post_id>/hide")
@require_role(*MODERATORS)
def hide(post_id: int) -> ResponseReturnValue:
    post = services.get_post(post_id) or abort(404)
    if not BaseForm().validate_on_submit():
        abort(400)
    try:
        services.hide_post(post, current_user, request.form.get("reason", ""))
    except services.DiscussionError as exc:
        flash(services.message(exc), "error")
        return redirect(_lesson_url(post.lesson_id, f"#post-{post.id}"))
    db.session.commit()
    flash(_("The message is hidden from learners."), "success")
    return redirect(_lesson_url(post.lesson_id, f"#post-{post.id}"))
