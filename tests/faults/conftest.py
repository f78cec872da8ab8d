"""Fixtures of the fault tests: the app as in production on a fresh database, real commits."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests import drill
from tests.conftest import migrated_app


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Flask]:
    """The app as in production (errors answered by its own handlers) on a fresh database."""
    production = {"TESTING": False, "PROPAGATE_EXCEPTIONS": False,
                  "SECRET_KEY": secrets.token_urlsafe(32)}  # fmt: skip
    with migrated_app(tmp_path, "lms_tx", **production) as app:
        yield app


@pytest.fixture
def courses(served: Flask) -> Flask:
    runner = served.test_cli_runner()
    for args in (["import-courses", str(drill.ROOT / "courses")], ["demo"]):
        assert runner.invoke(args=args).exit_code == 0
    return served
