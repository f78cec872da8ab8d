import logging

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from lms.accounts.models import Role
from lms.db import health
from lms.live import services as live_services
from lms.orgs import services as orgs
from lms.orgs.models import Position, Sector
from lms.progress import certificates
from lms.progress import services as progress

bp = Blueprint("site", __name__, cli_group=None)
log = logging.getLogger("lms")


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    if current_user.must_change_password:
        return redirect(url_for("accounts.password"))
    if current_user.role in (Role.STAFF, Role.ADMIN):
        root = orgs.scope_root(current_user)
        return render_template("site/home_staff.html", root=root, summary=orgs.summarise(root))
    if current_user.role == Role.TRAINER:
        return render_template("site/home_trainer.html")
    positions = orgs.positions_of(current_user)
    published = progress.published_courses()
    kinds = progress.required_kinds(current_user, positions)
    overview = progress.courses_overview(current_user, published, kinds)
    courses = [(course, overview[course.id]) for course in published]
    return render_template(
        "site/home_learner.html",
        positions=positions,
        courses=courses,
        requirement=_requirement(positions),
        certificates=certificates.certificates_of(current_user),
        sessions=live_services.upcoming_for(current_user),
    )


def _requirement(positions: list) -> str:
    """What the person must complete: non-state chairs all modules, other chairs awareness."""
    chairs = [p for p in positions if p.position == Position.CHAIR]
    if any(p.org.sector == Sector.NON_STATE for p in chairs):
        return "all"
    if chairs:
        return "awareness"
    return "encouraged"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    if not health():
        log.error("health check: database unavailable", extra={"event": "db.unavailable"})
        return jsonify(status="error", db="unavailable"), 503
    return jsonify(status="ok", db="ok")


@bp.get("/privacy")
def privacy() -> ResponseReturnValue:
    return render_template("site/privacy.html")


@bp.get("/help")
def help_page() -> ResponseReturnValue:
    return render_template("site/help.html", contact=current_app.config["SUPPORT_CONTACT"])
