import io

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts import invitations
from lms.accounts.models import Role
from lms.accounts.permissions import STAFF_ROLES, require_role
from lms.accounts.services import AccountError
from lms.db import db
from lms.orgs import roster, roster_files, roster_import, services, slips
from lms.orgs.forms import OrgForm, PersonEditForm, PersonForm, RosterUploadForm, SlipsForm

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
    status = request.args.get("status", "")
    status = status if status in services.ACCOUNT_STATUSES else ""
    pagination = db.paginate(
        services.people_query(current_user, search, status),
        page=_page(),
        per_page=50,
        error_out=False,
    )
    return render_template(
        "orgs/people.html", pagination=pagination, search=search, status=status
    )


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
        "orgs/person.html",
        person=user,
        form=form,
        positions=services.positions_of(user),
        may_invite=slips.may_invite(current_user, user),
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
        "orgs/person.html",
        person=user,
        form=form,
        positions=services.positions_of(user),
        may_invite=slips.may_invite(current_user, user),
    ), 400


# ---- invitations: the secrets are shown once, in the POST's own response --------------------
# Only their hashes are stored, so the page cannot be shown again after a redirect.


@bp.post("/people/<int:user_id>/invite")
@require_role(*STAFF_ROLES)
def invite_person(user_id: int) -> ResponseReturnValue:
    user = services.get_person_in_scope(current_user, user_id) or abort(404)
    if not slips.may_invite(current_user, user):
        abort(403)
    issued = invitations.issue(user, by=current_user)
    first = next(iter(services.positions_of(user)), None)
    db.session.commit()
    entry = (issued, first.org if first else None, first.position if first else None)
    return render_template("orgs/slips.html", slips=[entry], person=user)


@bp.post("/orgs/<code>/slips")
@require_role(*STAFF_ROLES)
def print_slips(code: str) -> ResponseReturnValue:
    org = services.get_org_in_scope(current_user, code) or abort(404)
    form = SlipsForm()
    rows = slips.people_to_invite(org, include_invited=form.include_invited.data)
    issued = invitations.issue_many([row.user for row in rows], by=current_user)
    db.session.commit()
    entries = [(i, row.unit, row.position) for row, i in zip(rows, issued, strict=True)]
    return render_template("orgs/slips.html", slips=entries, org=org)


# ---- roster files -----------------------------------------------------------------------------


@bp.get("/roster/")
@require_role(*STAFF_ROLES)
def roster_page() -> ResponseReturnValue:
    return render_template(
        "orgs/roster.html",
        form=RosterUploadForm(),
        root=services.scope_root(current_user),
        slips_form=SlipsForm(),
    )


@bp.get("/roster/template.xlsx")
@require_role(*STAFF_ROLES)
def roster_template() -> ResponseReturnValue:
    return send_file(
        io.BytesIO(roster_files.template_xlsx()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="mau-danh-sach-can-bo-cong-doan.xlsx",
    )


@bp.post("/roster/preview")
@require_role(*STAFF_ROLES)
def roster_preview() -> ResponseReturnValue:
    form = RosterUploadForm()
    if not form.validate_on_submit():
        root = services.scope_root(current_user)
        return render_template(
            "orgs/roster.html", form=form, root=root, slips_form=SlipsForm()
        ), 400
    data = form.file.data.read()
    plan = roster_import.plan_roster(roster.parse_roster(data), current_user)
    if plan.ok:
        roster_files.discard(session.get("roster_upload"))
        session["roster_upload"] = roster_files.keep(data)
    return render_template(
        "orgs/roster_preview.html", plan=plan, filename=form.file.data.filename
    ), 200 if plan.ok else 400


@bp.post("/roster/apply")
@require_role(*STAFF_ROLES)
def roster_apply() -> ResponseReturnValue:
    name = session.get("roster_upload")
    data = roster_files.read(name)
    if data is None:
        flash(_("There is no checked file to import. Please upload it again."), "error")
        return redirect(url_for("orgs.roster_page"))
    # Parsed again: the database may have changed since the preview, and nothing the
    # browser sends back is trusted.
    parsed = roster.parse_roster(data)
    try:
        plan, counts = roster_import.import_roster(parsed, current_user)
    except roster_import.ImportBusy:
        return _import_busy(parsed)
    if counts is None:
        return render_template("orgs/roster_preview.html", plan=plan, filename=""), 400
    db.session.commit()
    roster_files.discard(session.pop("roster_upload", None))
    flash(_roster_summary(counts), "success")
    if counts["people_created"] or plan.replaced_chairs:
        flash(_("New officers can sign in once they get their invitation slips."), "info")
    return redirect(url_for("orgs.roster_page"))


def _import_busy(parsed: roster.ParsedRoster) -> ResponseReturnValue:
    """The preview again, with its import button, and why nothing was imported yet."""
    flash(_("Another roster import is under way. Wait a moment, then import again."), "error")
    plan = roster_import.plan_roster(parsed, current_user)
    return render_template("orgs/roster_preview.html", plan=plan, filename=""), 409


def _roster_summary(counts: dict[str, int]) -> str:
    return _(
        "Roster imported: %(units)s new unions, %(updated)s updated; %(people)s new people; "
        "%(opened)s positions opened, %(closed)s closed.",
        units=counts["units_created"],
        updated=counts["units_updated"],
        people=counts["people_created"],
        opened=counts["positions_opened"],
        closed=counts["positions_closed"],
    )
