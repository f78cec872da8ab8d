"""`lms rebuild-aggregates`."""

import click
from flask.cli import with_appcontext

from lms.db import db
from lms.progress import standing


@click.command("rebuild-aggregates")
@with_appcontext
def rebuild_aggregates_command() -> None:
    """Recompute the coverage aggregates of every course from the completions (safe to rerun)."""
    rows = standing.rebuild_all()
    db.session.commit()
    click.echo(f"Đã tính lại số liệu bao phủ: {rows} dòng.")
