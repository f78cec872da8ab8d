"""Taking a module's quiz: overview, start or resume, the attempt page, save, submit, review."""

import functools
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_login.utils import login_url
from werkzeug.routing import BuildError

from lms.db import db, reads_first
from lms.forms import EmptyForm
from lms.quizzes import services
from lms.quizzes.forms import AnswersForm
from lms.web import format_number, wants_json

bp = Blueprint("quizzes", __name__, cli_group=None)
T = TypeVar("T")


def _committed(action: Callable[[], T], tries: int = 5) -> T:
    """Run a write and commit it; roll back on any refusal.

    SQLite lets one writer in at a time and refuses a write from a transaction that read an
    older snapshot ("database is locked"); such a request is rolled back and run again, as a
    second tap would be. PostgreSQL waits on the row lock instead and never retries.
    """
    for n in range(tries):
        try:
            result = action()
            db.session.commit()
            return result
        except sa.exc.OperationalError as exc:
            db.session.rollback()
            if n + 1 == tries or not _sqlite_busy(exc):
                raise
            time.sleep(0.02 * (n + 1))
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


def _sqlite_busy(exc: sa.exc.OperationalError) -> bool:
    return isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig)


def _sign_in_first(view: Callable[[str], ResponseReturnValue]) -> Callable[..., Any]:
    """login_required for the attempt's POSTs, returning afterwards to the attempt page (a GET)
    where the saved answers and the browser's draft wait (SESS-06)."""

    @functools.wraps(view)
    def wrapped(public_id: str) -> ResponseReturnValue:
        if current_user.is_authenticated:
            return view(public_id)
        if wants_json():
            return jsonify(saved=False, error="signed_out"), 401
        flash(_("Please sign in to continue."), "info")
        back = url_for("quizzes.attempt", public_id=public_id)
        return redirect(login_url("accounts.login", next_url=back))

    return wrapped


def _quiz_or_404(module_id: int) -> services.QuizContext:
    try:
        return services.available_quiz(module_id)
    except services.NotAvailable:
        abort(404)


def _attempt_or_404(public_id: str, *, available: bool = True) -> services.AttemptContext:
    try:
        return services.load_attempt(current_user, public_id, available=available)
    except services.AttemptNotFound:
        abort(404)


def _module_url(ctx: services.QuizContext) -> str:
    try:
        return url_for("progress.module", course_slug=ctx.course.slug, module_slug=ctx.module.slug)
    except BuildError:  # the progress room is not registered (a trimmed-down app)
        return url_for("site.home")


def _revision() -> int:
    form = AnswersForm()
    if not form.validate_on_submit():
        abort(400)
    return int(form.revision.data)


def _overview(
    ctx: services.QuizContext, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    attempts = services.attempts_of(current_user, ctx.quiz)
    limit = ctx.module.max_attempts
    return render_template(
        "quizzes/overview.html",
        ctx=ctx,
        attempts=attempts,
        current=next((a for a in attempts if not a.is_submitted), None),
        remaining=None if limit is None else max(0, limit - len(attempts)),
        form=EmptyForm(),
        error=error,
        module_url=_module_url(ctx),
    ), status


def _attempt_page(
    ctx: services.AttemptContext, notice: str | None = None, status: int = 200
) -> ResponseReturnValue:
    questions = services.present_attempt(ctx)
    return render_template(
        "quizzes/attempt.html", ctx=ctx, questions=questions, notice=notice
    ), status


def _refused(ctx: services.AttemptContext, exc: services.QuizError) -> ResponseReturnValue:
    submitted = isinstance(exc, services.AlreadySubmitted)
    if wants_json():
        error = "submitted" if submitted else "stale"
        return jsonify(saved=False, error=error, revision=ctx.attempt.revision), 409
    if submitted:
        return render_template("quizzes/submitted.html", ctx=ctx), 409
    notice = _(
        "This page was out of date: the answers saved most recently are shown below. "
        "Check them, then save or submit again."
    )
    return _attempt_page(ctx, notice, 409)


@bp.get("/modules/<int:module_id>/quiz")
@login_required
def overview(module_id: int) -> ResponseReturnValue:
    return _overview(_quiz_or_404(module_id))


@bp.post("/modules/<int:module_id>/quiz/start")
@login_required
def start(module_id: int) -> ResponseReturnValue:
    ctx = _quiz_or_404(module_id)
    try:
        attempt, started = _committed(lambda: services.start_attempt(current_user, ctx))
    except services.AttemptsExhausted:
        return _overview(ctx, _("You have used all the attempts allowed for this quiz."), 409)
    except services.AttemptConflict:
        return _overview(ctx, _("The quiz could not be started. Please try again."), 409)
    if started:
        flash(_("Quiz started. Your answers are saved as you go."), "success")
    else:
        flash(_("Your unfinished attempt is open again."), "info")
    return redirect(url_for("quizzes.attempt", public_id=attempt.public_id))


@bp.get("/attempts/<public_id>")
@login_required
def attempt(public_id: str) -> ResponseReturnValue:
    ctx = _attempt_or_404(public_id)
    if ctx.attempt.is_submitted:
        return redirect(url_for("quizzes.review", public_id=public_id))
    return _attempt_page(ctx)


@bp.post("/attempts/<public_id>/save")
@reads_first
@_sign_in_first
def save(public_id: str) -> ResponseReturnValue:
    ctx = _attempt_or_404(public_id)
    revision, posted = _revision(), request.form.to_dict(flat=False)
    try:
        revision = _committed(lambda: services.save_answers(ctx, posted, revision))
    except (services.AlreadySubmitted, services.StaleRevision) as exc:
        return _refused(ctx, exc)
    if wants_json():
        return jsonify(saved=True, revision=revision)
    flash(_("Your answers are saved."), "success")
    return redirect(url_for("quizzes.attempt", public_id=public_id))


@bp.post("/attempts/<public_id>/submit")
@reads_first
@_sign_in_first
def submit(public_id: str) -> ResponseReturnValue:
    ctx = _attempt_or_404(public_id)
    revision, posted = _revision(), request.form.to_dict(flat=False)

    def act() -> tuple[float | None, bool | None]:
        graded = services.submit_attempt(ctx, current_user, posted, revision)
        return graded.score, graded.passed  # read before the commit expires them

    try:
        score, passed = _committed(act)
    except (services.AlreadySubmitted, services.StaleRevision) as exc:
        return _refused(ctx, exc)
    if passed:
        flash(_("Submitted. You passed with %(score)s%%.", score=format_number(score)), "success")
    else:
        flash(_("Submitted. Your score is %(score)s%%.", score=format_number(score)), "info")
    return redirect(url_for("quizzes.review", public_id=public_id))


@bp.get("/attempts/<public_id>/review")
@login_required
def review(public_id: str) -> ResponseReturnValue:
    ctx = _attempt_or_404(public_id, available=False)
    if not ctx.attempt.is_submitted:
        return redirect(url_for("quizzes.attempt", public_id=public_id))
    items = services.review_attempt(ctx)
    return render_template("quizzes/review.html", ctx=ctx, items=items, module_url=_module_url(ctx))
