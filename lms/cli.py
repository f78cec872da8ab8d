"""The `lms` command: Flask's CLI on the app factory, plus the commands that span rooms."""

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade


def _create_app() -> Flask:
    from lms import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """E-learning for grassroots trade-union officers."""


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema to the newest version (safe to run again)."""
    upgrade()
    click.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


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
        gift_cli, live_cli, send_reminders_command, import_completions_command,
        export_xapi_command, rebuild_aggregates_command, coverage_command,
        import_roster_command,
    ):  # fmt: skip
        app.cli.add_command(command)
