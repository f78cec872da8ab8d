from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from lms import audit
from lms.accounts import invitations, services
from lms.accounts.forms import (
    ChangePasswordForm,
    InviteCodeForm,
    LanguageForm,
    LoginForm,
    SetPasswordForm,
)
from lms.db import db
from lms.extensions import login_manager
from lms.forms import EmptyForm
from lms.web import error_response, safe_next_url

bp = Blueprint("accounts", __name__, cli_group=None)

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please sign in to continue.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(token: str):  # type: ignore[no-untyped-def]
    user = services.load_session_user(token)
    g._login_user = user
    return user


@bp.after_app_request
def keep_session_fresh(response):  # type: ignore[no-untyped-def]
    # load_session_user found the session's last-seen time over an hour old: save the new one
    # once the request's own work is committed, and send the cookie again so that its expiry
    # moves on with it (an active learner stays signed in; the cookie is not re-signed on every
    # page).
    user = g.get("_login_user")
    if getattr(user, "session_touched", False) and response.status_code < 400:
        db.session.commit()
        services.save_session_touch(user.session_token)
        db.session.commit()
        session.modified = True
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 400 if form.errors else 200
    try:
        user = services.authenticate(
            form.username.data, form.password.data, request.remote_addr or ""
        )
    except services.Throttled as exc:
        db.session.commit()
        raise TooManyRequests(
            _(
                "Too many failed sign-ins. Please wait %(minutes)s minutes and try again.",
                minutes=max(1, exc.retry_after // 60),
            ),
            retry_after=exc.retry_after,
        ) from None
    if user is None:
        db.session.commit()  # keep the failure count
        flash(_("The username or password is not correct."), "error")
        return render_template("accounts/login.html", form=form), 401
    session.clear()  # a fresh session at sign-in: a cookie planted earlier is worthless (SESS-02)
    services.start_session(user, request.user_agent.string)
    login_user(user)
    session.permanent = True
    db.session.commit()
    if user.must_change_password:
        flash(_("Please choose your own password before you continue."), "info")
        return redirect(url_for("accounts.password"))
    return redirect(safe_next_url(form.next.data) or url_for("site.home"))


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("site.home"))
    audit.log_event("logout", account=current_user.username)
    services.end_session(current_user.session_token)
    logout_user()
    session.clear()
    db.session.commit()
    flash(_("You have signed out."), "success")
    return redirect(url_for("accounts.login"))


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return render_template(
        "accounts/account.html",
        language_form=LanguageForm(locale=current_user.locale or "vi"),
        sessions_form=EmptyForm(),
        session_count=len(current_user.sessions),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = services.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                end_others=form.end_others.data,
            )
        except services.AccountError as exc:
            form.form_errors.append(services.message(exc))
        else:
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            if ended:
                flash(
                    ngettext(
                        "%(num)d other device was signed out.",
                        "%(num)d other devices were signed out.",
                        ended,
                    ),
                    "success",
                )
            return redirect(url_for("accounts.account"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("accounts/password.html", form=form), status


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        ended = services.end_other_sessions(current_user, current_user.session_token)
        db.session.commit()
        flash(
            ngettext(
                "%(num)d other device was signed out.",
                "%(num)d other devices were signed out.",
                ended,
            ),
            "success",
        )
    return redirect(url_for("accounts.account"))


@bp.post("/language")
def language() -> ResponseReturnValue:
    form = LanguageForm()
    if not form.validate_on_submit():
        return redirect(url_for("site.home"))
    if current_user.is_authenticated:
        services.set_locale(current_user, form.locale.data)
        db.session.commit()
    response = redirect(safe_next_url(form.next.data) or url_for("site.home"))
    response.set_cookie(
        "lang",
        form.locale.data,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=bool(request.is_secure),
        httponly=True,
    )
    return response


def _too_many_codes(exc: services.Throttled) -> TooManyRequests:
    return TooManyRequests(
        _(
            "Too many wrong codes. Please wait %(minutes)s minutes and try again.",
            minutes=max(1, exc.retry_after // 60),
        ),
        retry_after=exc.retry_after,
    )


@bp.route("/invite", methods=["GET", "POST"])
def invite_code() -> ResponseReturnValue:
    form = InviteCodeForm()
    if form.validate_on_submit():
        try:
            invitation = invitations.find_by_code(form.code.data, request.remote_addr or "")
        except services.Throttled as exc:
            db.session.commit()
            raise _too_many_codes(exc) from None
        except invitations.InvitationError as exc:
            db.session.commit()  # keep the failure count
            form.form_errors.append(invitations.message(exc))
        else:
            session["invitation"] = invitation.id
            return redirect(url_for("accounts.invite_password"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("accounts/invite_code.html", form=form), status


@bp.get("/invite/<token>")
def invite_link(token: str) -> ResponseReturnValue:
    try:
        invitation = invitations.find_by_token(token)
    except invitations.InvitationError as exc:
        return error_response(exc.status, invitations.message(exc))
    # The token leaves the address bar at once: the password page is reached by the session.
    session["invitation"] = invitation.id
    return redirect(url_for("accounts.invite_password"))


@bp.route("/invite/password", methods=["GET", "POST"])
def invite_password() -> ResponseReturnValue:
    invitation = invitations.pending(session.get("invitation"))
    if invitation is None:
        flash(_("Open your sign-in link again, or type the code from your slip."), "info")
        return redirect(url_for("accounts.invite_code"))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept(invitation, form.new_password.data)
        except (services.AccountError, invitations.InvitationError) as exc:
            form.form_errors.append(_invitation_message(exc))
        else:
            _sign_in(user)
            db.session.commit()
            flash(_("Your password is set. Welcome!"), "success")
            return redirect(url_for("site.home"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "accounts/invite_password.html", form=form, person=invitation.user
    ), status


def _invitation_message(exc: Exception) -> str:
    if isinstance(exc, invitations.InvitationError):
        return invitations.message(exc)
    return services.message(exc)  # type: ignore[arg-type]


def _sign_in(user) -> None:  # type: ignore[no-untyped-def]
    """A fresh session for this user; whoever was signed in on this browser is signed out."""
    if current_user.is_authenticated and current_user.id != user.id:
        services.end_session(current_user.session_token)
    logout_user()
    session.clear()
    services.start_session(user, request.user_agent.string)
    login_user(user)
    session.permanent = True
