"""The `lms` command: Flask's CLI on the app factory, plus the commands that span rooms."""

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext


def _create_app() -> Flask:
    from lms import create_app
    from lms.db import load_migrate

    app = create_app()
    load_migrate(app)  # the `lms db ...` commands come with it
    return app


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """E-learning for grassroots trade-union officers."""


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema to the newest version (safe to run again)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@with_appcontext
def backup_command(file: Path, force: bool) -> None:
    """Copy the whole database to FILE (SQLite: a database file; PostgreSQL: a pg_dump archive),
    safely while the app keeps serving."""
    from lms import backup
    from lms.db import db

    try:
        backup.backup(db.engine, file, overwrite=force)
    except backup.BackupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"Đã sao lưu cơ sở dữ liệu vào {file} ({file.stat().st_size:,} byte).")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(file: Path, force: bool) -> None:
    """Restore the backup FILE into this database: an empty one, or any with --force (all of its
    content is replaced). Run `lms init-db` afterwards when the backup is from an older version."""
    from lms import backup
    from lms.db import db

    try:
        backup.restore(db.engine, file, force=force)
    except backup.BackupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    filled = backup.tables_with_rows(db.engine)
    click.echo(f"Đã khôi phục từ {file}: {len(filled)} bảng có dữ liệu.")


def init_app(app: Flask) -> None:
    """Add each room's commands under the names shared/DESIGN.md §6 fixes."""
    from lms.authoring.cli import export_course_command, import_courses_command
    from lms.coverage.cli import coverage_command
    from lms.demo import demo_command
    from lms.live.cli import live_cli, send_reminders_command
    from lms.orgs.cli import import_roster_command, org_cli, user_cli
    from lms.progress.cli import (
        export_xapi_command,
        import_completions_command,
        rebuild_aggregates_command,
    )
    from lms.quizzes.cli import gift_cli

    for command in (
        init_db, demo_command, org_cli, user_cli, import_courses_command, export_course_command,
        gift_cli, live_cli, send_reminders_command, backup_command, restore_command,
        import_completions_command,
        export_xapi_command, rebuild_aggregates_command, coverage_command,
        import_roster_command,
    ):  # fmt: skip
        app.cli.add_command(command)
