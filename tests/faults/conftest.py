"""Fixtures of the fault tests: the app as in production on a fresh database, real commits."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from lms import create_app
from lms.db import db
from tests import drill
from tests.conftest import Client, base_config, fresh_database

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Flask]:
    """The app as in production (errors answered by its own handlers) on a fresh database."""
    with fresh_database(tmp_path, "lms_tx") as url:
        config = base_config(url) | {
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": False,
            "SECRET_KEY": secrets.token_urlsafe(32),
        }
        app = create_app(config)
        app.test_client_class = Client
        with app.app_context():
            upgrade(directory=str(MIGRATIONS))
            db.session.remove()
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def courses(served: Flask) -> Flask:
    runner = served.test_cli_runner()
    for args in (["import-courses", str(drill.ROOT / "courses")], ["demo"]):
        assert runner.invoke(args=args).exit_code == 0
    return served
