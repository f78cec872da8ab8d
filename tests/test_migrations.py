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


def test_the_upgrade_fills_each_unions_chair_facts_as_the_app_keeps_them(tmp_path: Path) -> None:
    """The revision that keeps what decides a call on each union's row fills it from what is
    there: downgraded past it and upgraded again, a database gives back the rows the app kept
    through a visit, a core completion, a quiz failed twice, an account never activated and a
    vacancy."""
    from lms.progress import services as progress
    from lms.progress.models import CompletionSource, UnitStanding
    from lms.quizzes import services as quizzes
    from tests.conftest import migrated_app
    from tests.factories import (
        make_course,
        make_lesson,
        make_module,
        make_org,
        make_quiz,
        make_tree,
        make_user,
    )

    with migrated_app(tmp_path, "lms_chairs") as app, app.app_context():
        tree = make_tree()
        course = make_course("chu-de")
        aware = make_module(course, "nhan-thuc", kind="awareness", position=1)
        core = make_module(course, "tien-luong", kind="core", position=2)
        lesson = make_lesson(aware, "bai-1")
        make_quiz(core, "Hai cộng hai? {=bốn ~ba}")
        union = lambda code: make_org(code, kind="grassroots", parent=tree["a"], members=50)  # noqa: E731
        studying = make_user(org=union("U-1"), position="chair")
        idle = make_user(org=union("U-2"), position="chair", password=None)
        failing = make_user(org=union("U-3"), position="chair")
        union("U-4")  # no chair
        states = progress.module_lessons(studying, [aware.id])[aware.id]
        progress.record_visit(progress.pending_visit(studying, lesson, states[0], states))
        progress.record_completion(studying, core, CompletionSource.EXTERNAL)
        for _ in range(2):
            attempt, _new = quizzes.start_attempt(failing, quizzes.available_quiz(core.id))
            db.session.flush()
            quizzes.submit_attempt(quizzes.load_attempt(failing, attempt.public_id), failing, {}, 0)
        db.session.commit()
        columns = [getattr(UnitStanding, c) for c in ("org_id", "chair_id", "chair_activated",
                   "chair_failed", "chair_seen_on", "chair_core_on")]  # fmt: skip
        rows = sa.select(*columns).where(UnitStanding.course_id == course.id).order_by("org_id")
        kept = db.session.execute(rows).all()
        by_chair = {row.chair_id: row for row in kept}
        assert by_chair[studying.id].chair_seen_on and by_chair[studying.id].chair_core_on
        assert not by_chair[idle.id].chair_activated and by_chair[studying.id].chair_activated
        assert by_chair[failing.id].chair_failed and None in by_chair
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="c6010f7ec55a")
        upgrade(directory=str(MIGRATIONS))
        assert db.session.execute(rows).all() == kept
        db.session.remove()
