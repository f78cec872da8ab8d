"""The trainer's quiz editor: GIFT text with its errors at line and column and a preview as
learners see it, a form for one question at a time, the edit history, and item statistics.

Drafts and publishing are `services.save_quiz` / `publish_quiz`: a published change makes a new
quiz version, so past attempts keep their questions and scores.
"""

import random
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.models import Role, User
from lms.accounts.permissions import require_role
from lms.authoring import history as revisions_log
from lms.authoring import services, statistics
from lms.authoring.models import Revision, RevisionKind
from lms.authoring.quiz_form import (
    ROWS,
    TYPE_LABELS,
    QuestionForm,
    QuestionInvalid,
    QuizForm,
    build_question,
    error_list,
    form_data,
    percent,
    put_question,
)
from lms.catalog.models import Course, Module
from lms.db import VN_TZ, db
from lms.forms import EmptyForm
from lms.quizzes import gift
from lms.quizzes.models import Question, Quiz
from lms.quizzes.question_types import kind, stored_html
from lms.quizzes.rendering import question_fields
from lms.quizzes.services import quiz_for_module

bp = Blueprint("quiz_editor", __name__, cli_group=None)
BASE = "/teach/<course_slug>/<module_slug>/quiz"
TEACHERS = (Role.TRAINER, Role.ADMIN)
MAX_CHECK_CHARS = 500_000
# ---- services ------------------------------------------------------------------------------


def find_module(course_slug: str, module_slug: str) -> tuple[Course | None, Module | None]:
    """A course by slug and its module by slug (None where there is none)."""
    course = db.session.scalars(sa.select(Course).where(Course.slug == course_slug)).first()
    if course is None:
        return None, None
    stmt = sa.select(Module).where(Module.course_id == course.id, Module.slug == module_slug)
    return course, db.session.scalars(stmt).first()


def status_text(quiz: Quiz | None) -> str:
    if quiz is None:
        return _("No quiz yet: write the questions and save.")
    if quiz.draft_source is not None:
        return _("Unpublished changes: learners still take version %(num)s.", num=quiz.version)
    return _("Published, version %(num)s.", num=quiz.version)


def preview(source: str) -> list[dict[str, Any]]:
    """Every question that parses, drawn by the learners' code, with its key for the trainer."""
    items, number = [], 0
    for n, parsed in enumerate(gift.parse(source, collect_errors=True)[0]):
        row = Question(id=n + 1, quiz_id=0, version=0, position=n, **question_fields(parsed))
        qt = kind(row)
        number += 1 if qt.input else 0
        head = {
            "id": f"p{n + 1}",
            "name": f"p{n + 1}",
            "number": number,
            "title": row.title,
            "text_html": stored_html(row.text_html),
            "input": qt.input,
        }
        entry = qt.layout(row, False, random.SystemRandom()) or {}
        items.append(
            {
                "index": n,
                "type": row.type,
                "q": head | qt.present(row, entry, {}),
                "key": _key(row),
                "general": stored_html(row.general_feedback_html),
            }
        )
    return items


def _key(row: Question) -> list[dict[str, Any]]:
    labels = {"true": _("True"), "false": _("False")}
    return [
        {
            "html": labels[a["text"]] if row.type == "true_false" else stored_html(a["text_html"]),
            "match": a.get("match"),
            "grade": percent(a["fraction"]),
            "right": a["fraction"] > 0,
            "feedback": stored_html(a.get("feedback_html")),
        }
        for a in row.data["answers"]
    ]


def save_and_publish(module: Module, actor: User, source: str, version: int, publish: bool) -> int:
    """Save the text as the draft (unless publishing it unchanged), publish if asked; return the
    quiz version learners take."""
    source = source.replace("\r\n", "\n")
    quiz = quiz_for_module(module)
    if not publish or quiz is None or source != services.quiz_text(quiz):
        quiz = services.save_quiz(module, actor, source, version)
    if publish:
        services.publish_quiz(quiz, module, actor)
    return quiz.version


def history_rows(quiz: Quiz | None) -> list[dict[str, Any]]:
    """Revisions newest first: who, when (Vietnam time), what, and the diff with the one before."""
    revisions = revisions_log.history(RevisionKind.QUIZ, quiz.id) if quiz else []
    by_id = sorted(revisions, key=lambda r: r.id)
    before = {r.id: (by_id[i - 1].body if i else "") for i, r in enumerate(by_id)}
    return [
        {
            "revision": r,
            "who": r.author.full_name if r.author else _("import from files"),
            "when": r.created_dt.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M"),
            "action": _action(r),
            "diff": revisions_log.diff(before[r.id], r.body),
        }
        for r in revisions
    ]


def _action(revision: Revision) -> str:
    if revision.action == "published":
        return _("published")
    if revision.action.startswith("restored:"):
        return _("restored from revision %(id)s", id=revision.action.split(":", 1)[1])
    if revision.action == "imported":
        return _("imported from the course files")
    return _("saved")


# ---- views ---------------------------------------------------------------------------------


def _load(course_slug: str, module_slug: str) -> tuple[Course, Module, Quiz | None]:
    """404 for an unknown course, 403 unless the user may edit it, then 404 for the module."""
    course, module = find_module(course_slug, module_slug)
    if course is None:
        abort(404)
    if not services.can_edit(current_user, course.id):
        abort(403)
    if module is None:
        abort(404)
    return course, module, quiz_for_module(module)


def _to(endpoint: str, module: Module, course: Course, **args: Any) -> ResponseReturnValue:
    return redirect(url_for(endpoint, course_slug=course.slug, module_slug=module.slug, **args))


def _editor(
    course: Course,
    module: Module,
    quiz: Quiz | None,
    form: QuizForm,
    *,
    errors: list | None = None,
    conflict: services.EditConflict | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    source = form.source.data or ""
    version = conflict.version if conflict else form.edit_version.data
    theirs = conflict and {
        "text": conflict.current,
        "diff": revisions_log.diff(conflict.current, source),
    }
    return render_template(
        "authoring/quiz_edit.html",
        course=course,
        module=module,
        quiz=quiz,
        form=form,
        status=status_text(quiz),
        errors=errors or [],
        conflict=theirs,
        edit_version=version,
        preview=preview(source),
    ), status


@bp.route(BASE, methods=["GET", "POST"])
@require_role(*TEACHERS)
def edit(course_slug: str, module_slug: str) -> ResponseReturnValue:
    course, module, quiz = _load(course_slug, module_slug)
    version = quiz.edit_version if quiz else 0
    form = QuizForm(data={"source": services.quiz_text(quiz), "edit_version": version})
    if request.method == "GET":
        return _editor(course, module, quiz, form)
    if not form.validate_on_submit():
        abort(400)
    publish = "publish" in request.form
    try:
        taken = save_and_publish(
            module, current_user, form.source.data or "", form.edit_version.data, publish
        )
    except services.EditConflict as exc:
        db.session.rollback()
        return _editor(course, module, quiz, form, conflict=exc, status=409)
    except services.AuthoringError:
        db.session.rollback()
        errors = error_list(services.gift_errors(form.source.data or ""))
        return _editor(course, module, quiz, form, errors=errors, status=400)
    db.session.commit()
    flash(_saved(publish, taken), "success")
    return _to("quiz_editor.edit", module, course)


def _saved(publish: bool, version: int) -> str:
    if publish:
        return _(
            "Published: learners now take version %(num)s. Attempts already taken keep "
            "their questions and scores.",
            num=version,
        )
    return _("Saved as a draft. Learners still take the published version.")


@bp.post(BASE + "/check")
@require_role(*TEACHERS)
def check(course_slug: str, module_slug: str) -> ResponseReturnValue:
    _load(course_slug, module_slug)
    if not request.is_json:
        abort(415)
    data = request.get_json(silent=True)
    source = data.get("source") if isinstance(data, dict) else None
    if not isinstance(source, str):
        abort(400)
    if len(source) > MAX_CHECK_CHARS:
        abort(413)
    return jsonify(errors=error_list(services.gift_errors(source)))


@bp.route(BASE + "/question", methods=["GET", "POST"])
@require_role(*TEACHERS)
def question(course_slug: str, module_slug: str) -> ResponseReturnValue:
    course, module, quiz = _load(course_slug, module_slug)
    source = services.quiz_text(quiz)
    index, old = _existing(source)
    if old is not None and (old.type not in TYPE_LABELS or len(old.answers) > ROWS):
        flash(_("This question can be changed in the GIFT text only."), "info")
        return _to("quiz_editor.edit", module, course)
    form = QuestionForm(data=form_data(old, quiz.edit_version if quiz else 0))
    if not form.validate_on_submit():
        return _question_page(course, module, form, index, status=400 if form.errors else 200)
    try:
        written = build_question(form.data, old)
        services.save_quiz(
            module, current_user, put_question(source, index, written), form.edit_version.data
        )
    except (QuestionInvalid, services.AuthoringError) as exc:
        db.session.rollback()
        error = services.message(exc) if isinstance(exc, services.AuthoringError) else str(exc)
        return _question_page(course, module, form, index, error=error, status=400)
    except services.EditConflict as exc:
        db.session.rollback()
        return _question_page(course, module, form, index, conflict=exc, old=old, status=409)
    db.session.commit()
    flash(_("Question saved in the draft. Learners still take the published version."), "success")
    return _to("quiz_editor.edit", module, course)


def _existing(source: str) -> tuple[int | None, gift.Question | None]:
    """The question `?n=` names in the draft (404 when there is none), or (None, None)."""
    index = request.args.get("n", type=int)
    if index is None:
        return None, None
    questions = gift.parse(source, collect_errors=True)[0]
    if not 0 <= index < len(questions):
        abort(404)
    return index, questions[index]


def _question_page(
    course: Course,
    module: Module,
    form: QuestionForm,
    index: int | None,
    *,
    error: str | None = None,
    conflict: services.EditConflict | None = None,
    old: gift.Question | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    version = conflict.version if conflict else form.edit_version.data
    return render_template(
        "authoring/quiz_question.html",
        course=course,
        module=module,
        form=form,
        index=index,
        error=error,
        conflict=conflict,
        replacing=old,
        edit_version=version,
    ), status


@bp.get(BASE + "/history")
@require_role(*TEACHERS)
def history(course_slug: str, module_slug: str) -> ResponseReturnValue:
    course, module, quiz = _load(course_slug, module_slug)
    return render_template(
        "authoring/quiz_history.html",
        course=course,
        module=module,
        rows=history_rows(quiz),
        form=EmptyForm(),
    )


@bp.post(BASE + "/history/<int:revision_id>/restore")
@require_role(*TEACHERS)
def restore(course_slug: str, module_slug: str, revision_id: int) -> ResponseReturnValue:
    course, module, quiz = _load(course_slug, module_slug)
    found = revisions_log.get_revision(RevisionKind.QUIZ, quiz.id, revision_id) if quiz else None
    if found is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    revisions_log.restore(found, current_user)
    db.session.commit()
    flash(_("The earlier text is back as a draft. Publish it when it is ready."), "success")
    return _to("quiz_editor.edit", module, course)


@bp.get(BASE + "/stats")
@require_role(*TEACHERS)
def stats(course_slug: str, module_slug: str) -> ResponseReturnValue:
    course, module, quiz = _load(course_slug, module_slug)
    version = request.args.get("version", type=int) or (quiz.version if quiz else 0)
    if quiz is not None and not 1 <= version <= quiz.version:
        abort(404)
    figures = statistics.quiz_statistics(quiz, version) if quiz else None
    return render_template(
        "authoring/quiz_stats.html",
        course=course,
        module=module,
        quiz=quiz,
        stats=figures,
        hard=statistics.HARD,
        easy=statistics.EASY,
    )
