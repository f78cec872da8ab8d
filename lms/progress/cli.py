"""`lms import-completions FILE [--dry-run]`, `lms export-xapi FILE` (shared/DESIGN.md §6) and
`lms rebuild-aggregates`."""

import json
import sys
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from lms import audit
from lms.accounts.models import User
from lms.accounts.permissions import STAFF_ROLES
from lms.db import db
from lms.progress import activity, imports, standing, xapi
from lms.web import format_vn_date


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(code)


def _importer(username: str | None) -> User | None:
    """The staff member whose scope the file is checked against (None: the whole tree)."""
    if not username:
        return None
    user = db.session.scalars(sa.select(User).where(User.username == username.strip())).first()
    if user is None or user.role not in STAFF_ROLES:
        _fail(f"--user: '{username}' không phải tài khoản cán bộ hoặc quản trị.", 2)
    return user


def _report(name: str, plan: imports.Plan) -> None:
    for planned in plan.to_record:
        if planned.replaces is not None:
            earlier = format_vn_date(planned.replaces.completed_dt)
            click.echo(
                f"{name}, dòng {planned.row}: {planned.user.username} / {planned.module.slug}: "
                f"thay lần hoàn thành ngày {earlier} bằng lớp ngày {format_vn_date(planned.day)}"
            )
    for item in plan.kept:
        reason = (
            f"đã hoàn thành ngày {format_vn_date(item.existing.completed_dt)}, giữ nguyên"
            if item.existing
            else "trùng với một dòng có ngày sớm hơn"
        )
        click.echo(f"{name}, dòng {item.row}: {item.user.username} / {item.module.slug}: {reason}")


@click.command("import-completions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; record nothing.")
@click.option("--user", "username", default=None, help="Check scope as this staff member.")
def import_completions_command(file: Path, dry_run: bool, username: str | None) -> None:
    """Record completions from a class's attendance list (CSV or XLSX): all rows or none."""
    actor = _importer(username)
    plan = imports.plan_import(actor, file.read_bytes())
    for error in plan.errors:
        where = f", dòng {error.row}" if error.row else ""
        column = f", cột {error.column}" if error.column else ""
        click.echo(f"{file.name}{where}{column}: {error.message}", err=True)
    if not plan.ok:
        _fail(f"{file.name}: {len(plan.errors)} lỗi; không ghi nhận gì.")
    _report(file.name, plan)
    if dry_run:
        click.echo(f"Chạy thử: sẽ ghi nhận {len(plan.to_record)}, giữ nguyên {len(plan.kept)}.")
        return
    recorded = imports.apply_import(actor, plan)
    db.session.commit()
    click.echo(f"Đã ghi nhận {len(recorded)} lượt hoàn thành, giữ nguyên {len(plan.kept)}.")


@click.command("export-xapi")
@click.argument("file", type=click.File("w", encoding="utf-8", lazy=True))
def export_xapi_command(file) -> None:  # type: ignore[no-untyped-def]
    """Write every completion and quiz result as a JSON list of xAPI statements ('-': stdout)."""
    base_url = current_app.config["BASE_URL"]
    file.write("[")
    count = 0
    for count, statement in enumerate(xapi.export(None, base_url), start=1):
        file.write(",\n" if count > 1 else "\n")
        file.write(json.dumps(statement, ensure_ascii=False, sort_keys=True))
    file.write("\n]\n")
    audit.log_event("statements.exported", count=count, by="cli")


@click.command("rebuild-aggregates")
@with_appcontext
def rebuild_aggregates_command() -> None:
    """Recompute the coverage aggregates of every course from the completions, and each
    learner's last visit and failed quizzes from the visits and attempts (safe to rerun)."""
    activity.rebuild()  # first: the unions' rows copy their chairs' activity
    rows = standing.rebuild_all()
    db.session.commit()
    click.echo(f"Đã tính lại số liệu bao phủ: {rows} dòng.")
