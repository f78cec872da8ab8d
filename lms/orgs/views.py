from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.models import Role
from lms.accounts.permissions import STAFF_ROLES, require_role
from lms.accounts.services import AccountError
from lms.db import db
from lms.orgs import services
from lms.orgs.forms import OrgForm, PersonEditForm, PersonForm

bp = Blueprint("orgs", __name__, cli_group=None)


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


@bp.get("/orgs/")
@require_role(*STAFF_ROLES)
def index() -> ResponseReturnValue:
    root = services.scope_root(current_user)
    if root is not None:
        return redirect(url_for("orgs.detail", code=root.code))
    rows, total = services.list_children(None, page=_page())
    return render_template("orgs/index.html", rows=rows, total=total, page=_page())


@bp.get("/orgs/<code>")
@require_role(*STAFF_ROLES)
def detail(code: str) -> ResponseReturnValue:
    org = services.get_org_in_scope(current_user, code) or abort(404)
    root = services.scope_root(current_user)
    rows, total = services.list_children(org, page=_page())
    officers = services.current_officers(org) if org.is_grassroots else []
    return render_template(
        "orgs/detail.html",
        org=org,
        rows=rows,
        total=total,
        page=_page(),
        officers=officers,
        trail=services.ancestors(org, within=root),
    )


@bp.route("/orgs/new", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def create() -> ResponseReturnValue:
    form = OrgForm(parent=request.args.get("parent", ""))
    if form.validate_on_submit():
        try:
            parent = services.require_org(form.parent.data) if form.parent.data else None
            org = services.create_org(
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                parent=parent,
                sector=form.sector.data or None,
                member_count=form.member_count.data,
                actor=current_user,
            )
        except services.OrgError as exc:
            form.form_errors.append(services.message(exc))
        else:
            db.session.commit()
            flash(_("Unit “%(name)s” created.", name=org.name), "success")
            return redirect(url_for("orgs.detail", code=org.code))
    return render_template(
        "orgs/form.html", form=form
    ), 400 if form.errors or form.form_errors else 200


@bp.get("/people/")
@require_role(*STAFF_ROLES)
def people() -> ResponseReturnValue:
    search = request.args.get("q", "")[:100]
    pagination = db.paginate(
        services.people_query(current_user, search), page=_page(), per_page=50, error_out=False
    )
    return render_template("orgs/people.html", pagination=pagination, search=search)


@bp.route("/people/new", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def create_person() -> ResponseReturnValue:
    form = PersonForm(org=request.args.get("org", ""))
    if form.validate_on_submit():
        try:
            user = services.create_person(
                actor=current_user,
                full_name=form.full_name.data,
                role=form.role.data,
                username=form.username.data or None,
                phone=form.phone.data or None,
                email=form.email.data or None,
                password=form.password.data,
                org_code=form.org.data or None,
                position=form.position.data or None,
                must_change_password=True,
            )
        except (services.OrgError, AccountError) as exc:
            form.form_errors.append(services.message(exc))
        else:
            db.session.commit()
            flash(_("Account “%(username)s” created.", username=user.username), "success")
            return redirect(url_for("orgs.person", user_id=user.id))
    return render_template(
        "orgs/person_form.html", form=form
    ), 400 if form.errors or form.form_errors else 200


@bp.get("/people/<int:user_id>")
@require_role(*STAFF_ROLES)
def person(user_id: int) -> ResponseReturnValue:
    user = services.get_person_in_scope(current_user, user_id) or abort(404)
    form = PersonEditForm(
        full_name=user.full_name,
        role=user.role.value,
        org=services.org_code(user.org_id),
        active=user.active,
    )
    return render_template(
        "orgs/person.html", person=user, form=form, positions=services.positions_of(user)
    )


@bp.post("/people/<int:user_id>")
@require_role(Role.ADMIN)
def update_person(user_id: int) -> ResponseReturnValue:
    user = services.get_person_in_scope(current_user, user_id) or abort(404)
    form = PersonEditForm()
    if form.validate_on_submit():
        try:
            services.update_person(
                current_user,
                user,
                full_name=form.full_name.data,
                role=form.role.data,
                org_code=form.org.data or None,
                active=form.active.data,
            )
        except services.OrgError as exc:
            form.form_errors.append(services.message(exc))
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("orgs.person", user_id=user.id))
    return render_template(
        "orgs/person.html", person=user, form=form, positions=services.positions_of(user)
    ), 400
