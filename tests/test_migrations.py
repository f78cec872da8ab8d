"""The schema comes only from migrations: one head, upgrade and downgrade work, no drift."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask_migrate import check, downgrade, upgrade

from lms import create_app
from lms.db import db
from tests.conftest import base_config, fresh_database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def test_history_has_a_single_head() -> None:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new database of the backend under test, dropped afterwards."""
    with fresh_database(tmp_path, "lms_mig") as url:
        yield url


def test_upgrade_check_downgrade_upgrade(empty_database_url: str) -> None:
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {
            "user_account",
            "organization",
            "officer",
            "user_session",
            "login_failure",
        } <= tables
        check(directory=str(MIGRATIONS))  # SystemExit(1) when models and migrations differ
        downgrade(directory=str(MIGRATIONS), revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=str(MIGRATIONS))
        upgrade(directory=str(MIGRATIONS))  # a second run is a no-op (lms init-db is safe twice)
        assert "organization" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_init_db_command_is_safe_to_run_twice(empty_database_url: str) -> None:
    app = create_app(base_config(empty_database_url))
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "phiên bản mới nhất" in result.output
    with app.app_context():
        db.engine.dispose()


def test_postgres_url_without_driver_uses_psycopg() -> None:
    app = create_app(base_config("postgresql://u:p@127.0.0.1:1/x"))
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert os.environ.get("LMS_TEST_BACKEND", "sqlite") in ("sqlite", "postgresql")


def test_upgrade_keeps_existing_quizzes(empty_database_url: str) -> None:
    """Upgrading a database that already holds courses and quizzes (the previous release)."""
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="41360ddadbef")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO course (slug, title, year, summary, language, "
                    "split_members, lower_level, upper_level, published, content_hash, "
                    "created_dt, updated_dt) VALUES ('k', 'K', 2021, '', 'vi', 1000, 'a', "
                    "'b', true, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO module (course_id, slug, position, title, kind, summary, "
                    "pass_mark, requires_live, status, content_hash) VALUES "
                    "(1, 'm', 1, 'M', 'core', '', 80, false, 'published', '')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO quiz (module_id, version, gift_source, content_hash, "
                    "shuffle, updated_dt) VALUES (1, 3, '', '', true, CURRENT_TIMESTAMP)"
                )
            )
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version, edit_version FROM quiz")).one() == (3, 1)
        db.engine.dispose()
