"""`lms org create`, `lms user create` and `lms import-roster`."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _

from lms.accounts.services import AccountError
from lms.db import db
from lms.orgs import roster, roster_import, roster_plan, services

org_cli = AppGroup("org", help="Manage the organisation tree.")
user_cli = AppGroup("user", help="Manage accounts.")


def _fail(exc: Exception) -> None:
    click.echo(f"Lỗi: {services.message(exc)}", err=True)  # type: ignore[arg-type]
    sys.exit(1)


@org_cli.command("create")
@click.option("--code", required=True, help="Unit code, unique.")
@click.option("--name", required=True, help="Unit name.")
@click.option("--kind", required=True, help="province, district, sector_union, grassroots, ...")
@click.option("--parent", default=None, help="Code of the unit above.")
@click.option("--sector", type=click.Choice(["state", "non_state"]), default=None)
@click.option("--members", type=click.IntRange(min=0), default=None, help="Number of members.")
def create_org(
    code: str, name: str, kind: str, parent: str | None, sector: str | None, members: int | None
) -> None:
    """Create a unit in the organisation tree."""
    try:
        parent_org = services.require_org(parent) if parent else None
        org = services.create_org(
            code=code, name=name, kind=kind, parent=parent_org, sector=sector, member_count=members
        )
    except services.OrgError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Đã tạo đơn vị {org.code}: {org.name}")


@user_cli.command("create")
@click.option("--username", default=None, help="Username or phone number.")
@click.option("--password", default=None, help="Initial password (omit to set it later).")
@click.option(
    "--role", type=click.Choice(["learner", "trainer", "staff", "admin"]), default="learner"
)
@click.option(
    "--org", "org_code", default=None, help="Code of the person's unit (staff: their scope)."
)
@click.option(
    "--position",
    default=None,
    type=click.Choice(["chair", "vice_chair", "group_leader", "collaborator", "core_member"]),
)
@click.option("--full-name", default=None, help="Full name (default: the username).")
@click.option("--phone", default=None, help="Phone number, if the username is not one.")
@click.option("--must-change-password/--no-must-change-password", default=False)
def create_user(
    username: str | None,
    password: str | None,
    role: str,
    org_code: str | None,
    position: str | None,
    full_name: str | None,
    phone: str | None,
    must_change_password: bool,
) -> None:
    """Create an account, optionally attached to a unit with a position."""
    if not username and not phone:
        raise click.UsageError("give --username or --phone")
    from lms.accounts.phones import looks_like_phone

    if username and not phone and looks_like_phone(username):
        phone = username
    try:
        user = services.create_person(
            actor=None,
            full_name=full_name or username or phone or "",
            role=role,
            username=username,
            phone=phone,
            password=password,
            org_code=org_code,
            position=position,
            must_change_password=must_change_password,
        )
    except (services.OrgError, AccountError) as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"Đã tạo tài khoản {user.username} ({user.role.value})")


@click.command("import-roster")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and list the changes; write nothing.")
@with_appcontext
def import_roster_command(file: Path, dry_run: bool) -> None:
    """Import grassroots unions and their officers from a CSV or XLSX roster file.

    The whole file is checked first: any invalid row is reported (with its row number) and
    nothing is imported.
    """
    parsed = roster.parse_roster(file.read_bytes())
    if not dry_run:
        _wait_for_other_imports()
    plan = roster_import.plan_roster(parsed, actor=None)
    if not plan.ok:
        for error in plan.errors:
            click.echo(roster.format_error(error, file.name), err=True)
        click.echo(_("Nothing imported: %(num)s error(s).", num=len(plan.errors)), err=True)
        sys.exit(1)
    for line in describe_plan(plan):
        click.echo(line)
    if dry_run:
        click.echo(_("Dry run: nothing was written."))
        return
    counts = roster_import.apply_roster(plan, actor=None)
    db.session.commit()
    click.echo(_("Roster imported."))
    if counts["people_created"]:
        click.echo(
            _(
                "%(num)s new people have no password yet: print their invitation slips from "
                "their union's page.",
                num=counts["people_created"],
            )
        )


def _wait_for_other_imports() -> None:
    try:
        roster_import.lock_imports()
    except roster_import.ImportBusy:
        click.echo(_("Another roster import is under way. Wait a moment, then import again."),
                   err=True)  # fmt: skip
        sys.exit(1)


def _labels(changes: list[str]) -> str:
    return ", ".join(str(roster_plan.CHANGE_LABELS[change]) for change in changes)


def describe_plan(plan: roster_import.RosterPlan) -> list[str]:
    """The changes worth reading one by one, then the counts (new people are only counted)."""
    codes = plan.unit_codes
    lines = [
        _("Unit %(code)s: %(changes)s", code=u.code, changes=_labels(u.changes))
        for u in plan.units_updated
    ]
    lines += [
        _(
            "Chairperson of %(unit)s: %(old)s is replaced by %(new)s",
            unit=unit.code,
            old=old.user.full_name,
            new=new.row.full_name,
        )
        for unit, old, new in plan.replaced_chairs
    ]
    lines += [
        _(
            "Closed: %(name)s, %(position)s of %(unit)s",
            name=o.user.full_name,
            position=o.position.label,
            unit=codes.get(o.org_id, ""),
        )
        for o in plan.closing
    ]
    counts = plan.counts()
    lines.append(
        _(
            "Units: %(created)s new, %(updated)s updated, %(unchanged)s unchanged. "
            "People: %(people)s new, %(people_updated)s updated. Positions: %(opened)s opened, "
            "%(closed)s closed, %(kept)s unchanged.",
            created=counts["units_created"],
            updated=counts["units_updated"],
            unchanged=counts["units_unchanged"],
            people=counts["people_created"],
            people_updated=counts["people_updated"],
            opened=counts["positions_opened"],
            closed=counts["positions_closed"],
            kept=counts["positions_kept"],
        )
    )
    return lines
