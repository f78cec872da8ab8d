"""Serving with gunicorn --preload: the app is built once and the workers are forked from it,
so a child must not reuse the parent's database connections, and the app must start without
loading what only a few requests (or the command line) need."""

import gc
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from lms.db import db

ROOT = Path(__file__).resolve().parent.parent
# Each costs a serving process megabytes at start; each is loaded where it is used.
LAZY = ("alembic", "flask_migrate", "openpyxl", "xlsxwriter", "icalendar", "qrcode", "weasyprint")


def test_a_forked_child_opens_its_own_connections(app) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        assert db.engine.pool.checkedin() >= 1  # the parent keeps a pooled connection
        pid = os.fork()
        if pid == 0:  # the child: report through the exit status only
            status = 1
            try:
                status = _child_status(db.engine)
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's connections still work: the child neither used nor closed them.
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1


def _child_status(engine: sa.Engine) -> int:
    inherited = engine.pool.checkedin()
    gc.collect()  # a connection object collected here must not end the parent's session
    with engine.connect() as conn:
        answered = conn.execute(sa.text("SELECT 1")).scalar()
    return 0 if (inherited, answered) == (0, 1) else 3


def test_the_app_starts_without_the_modules_few_requests_need(tmp_path) -> None:
    code = f"import sys, wsgi; print(sorted(set({LAZY!r}) & set(sys.modules)))"
    env = {
        **os.environ,
        "LMS_SECRET_KEY": "a-long-enough-key-for-this-test-only-0123456789",
        "LMS_DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and fixed code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_migrations_still_load_when_asked_for(app) -> None:
    """Flask-Migrate is loaded on first use, then serves as before (and stays loaded)."""
    from lms.db import load_migrate

    migrate = app.extensions["migrate"]
    assert migrate.db is db and Path(migrate.directory) == ROOT / "migrations"
    assert load_migrate(app) is app.extensions["migrate"]
    assert "db" in app.cli.commands
