from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.catalog.models import BlockKind
from lms.db import db
from lms.discussion import services as discussion
from lms.forms import EmptyForm
from lms.live import services as live_services
from lms.markdown import split_rendered
from lms.progress import checks, rules, services
from lms.progress.forms import CaseChoiceForm, ReflectionForm

bp = Blueprint("progress", __name__, cli_group=None)


@bp.get("/learn/<course_slug>")
@login_required
def course(course_slug: str) -> ResponseReturnValue:
    found = services.get_course(course_slug) or abort(404)
    modules = services.course_overview(current_user, found)
    return render_template(
        "progress/course.html",
        course=found,
        modules=modules,
        overall=services.overall_percent(modules),
    )


@bp.get("/learn/<course_slug>/<module_slug>")
@login_required
def module(course_slug: str, module_slug: str) -> ResponseReturnValue:
    found = services.get_module(course_slug, module_slug) or abort(404)
    lessons = services.module_lessons(current_user, [found.id])[found.id]
    state = services.ModuleState(
        found,
        lessons,
        services.completions_of(current_user, [found.id]).get(found.id),
        found.kind in services.required_kinds(current_user),
    )
    return render_template(
        "progress/module.html",
        module=found,
        course=found.course,
        state=state,
        rules=rules.status(current_user, found),
        sessions=live_services.upcoming_for(current_user, module=found),
    )


@bp.get("/learn/<course_slug>/<module_slug>/<lesson_slug>")
@login_required
def lesson(course_slug: str, module_slug: str, lesson_slug: str) -> ResponseReturnValue:
    found = services.lesson_page(course_slug, module_slug, lesson_slug) or abort(404)
    lessons = services.module_lessons(current_user, [found.module_id])[found.module_id]
    index = next(i for i, s in enumerate(lessons) if s.lesson.id == found.id)
    visit = services.pending_visit(current_user, found, lessons[index], lessons)
    blocks = {b.key: (b, r) for b, r in services.blocks_with_responses(current_user, found)}
    presented = {
        key: checks.present(current_user, b, r)
        for key, (b, r) in blocks.items()
        if b.kind == BlockKind.CHECK
    }
    parts = [
        # The html parts were sanitised at import.
        (kind, Markup(value) if kind == "html" else value)  # noqa: S704  # nosec B704
        for kind, value in split_rendered(found.body_html)
    ]
    page = render_template(
        "progress/lesson.html",
        lesson=found,
        module=found.module,
        course=found.course,
        parts=parts,
        blocks=blocks,
        checks=presented,
        lessons=lessons,
        index=index,
        state=lessons[index],
        posts=discussion.thread(found),
        form=EmptyForm(),
    )
    if visit is not None:
        db.session.commit()  # end the reads: the visit is written in a transaction of its own
        services.record_visit(visit)
        db.session.commit()
    return page


def _back(anchor: str = "") -> ResponseReturnValue:
    """Back to the lesson of this request (its slugs are in the URL), at a block."""
    return redirect(
        url_for(
            "progress.lesson",
            **{k: request.view_args[k] for k in ("course_slug", "module_slug", "lesson_slug")},
        )
        + anchor
    )


def _lesson_or_404(course_slug: str, module_slug: str, lesson_slug: str):  # type: ignore[no-untyped-def]
    return services.get_lesson(course_slug, module_slug, lesson_slug) or abort(404)


def _answer_block(kind: BlockKind, form, save, done: str | None = None) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    """Load the block of this request's lesson, save the learner's answer, go back to it."""
    args = request.view_args
    found = _lesson_or_404(args["course_slug"], args["module_slug"], args["lesson_slug"])
    block = services.get_block(found, args["key"], kind) or abort(404)
    if form.validate_on_submit():
        try:
            save(block, form)
        except services.ProgressError as exc:
            flash(services.message(exc), "error")
            return _back(f"#block-{block.key}")
        db.session.commit()
        if done:
            flash(done, "success")
    return _back(f"#block-{block.key}")


@bp.post("/learn/<course_slug>/<module_slug>/<lesson_slug>/reflect/<key>")
@login_required
def reflect(course_slug: str, module_slug: str, lesson_slug: str, key: str) -> ResponseReturnValue:
    return _answer_block(
        BlockKind.REFLECT, ReflectionForm(),
        lambda block, form: services.save_reflection(current_user, block, form.text.data),
        _("Your answer is saved in your notebook."),
    )  # fmt: skip


@bp.post("/learn/<course_slug>/<module_slug>/<lesson_slug>/case/<key>")
@login_required
def case(course_slug: str, module_slug: str, lesson_slug: str, key: str) -> ResponseReturnValue:
    return _answer_block(
        BlockKind.CASE, CaseChoiceForm(),
        lambda block, form: services.choose_case(current_user, block, form.choice.data),
    )  # fmt: skip


@bp.post("/learn/<course_slug>/<module_slug>/<lesson_slug>/check/<key>")
@login_required
def check(course_slug: str, module_slug: str, lesson_slug: str, key: str) -> ResponseReturnValue:
    found = _lesson_or_404(course_slug, module_slug, lesson_slug)
    block = services.get_block(found, key, BlockKind.CHECK) or abort(404)
    if EmptyForm().validate_on_submit():
        checks.answer_from_form(current_user, block, request.form)
        db.session.commit()
    return _back(f"#block-{key}")


@bp.post("/learn/<course_slug>/<module_slug>/<lesson_slug>/done")
@login_required
def complete(course_slug: str, module_slug: str, lesson_slug: str) -> ResponseReturnValue:
    found = _lesson_or_404(course_slug, module_slug, lesson_slug)
    if not EmptyForm().validate_on_submit():
        return _back()
    try:
        completion = services.complete_lesson(current_user, found)
    except services.ProgressError as exc:
        flash(services.message(exc), "error")
        return _back()
    title = found.module.title  # the commit expires the module, which may not lazy-load
    db.session.commit()
    if completion is not None:
        flash(
            _("Congratulations! You have completed the module “%(title)s”.", title=title),
            "success",
        )
        return redirect(
            url_for("progress.module", course_slug=course_slug, module_slug=module_slug)
        )
    following = services.next_after(current_user, found)
    if following is not None:
        return redirect(
            url_for(
                "progress.lesson",
                course_slug=course_slug,
                module_slug=module_slug,
                lesson_slug=following.slug,
            )
        )
    return redirect(url_for("progress.module", course_slug=course_slug, module_slug=module_slug))


@bp.get("/notebook")
@login_required
def notebook() -> ResponseReturnValue:
    return render_template("progress/notebook.html", entries=services.notebook(current_user))
