"""Database settings the benchmark relies on: SQLite in WAL mode with a busy timeout,
PostgreSQL without parallel workers for short statements, and reading requests that keep
psycopg's prepared statements (they end with COMMIT, never at the cost of a write kept)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, Response, stream_with_context

from lms.accounts.models import User
from lms.db import db
from tests.conftest import migrated_app
from tests.factories import make_user


def _setting(sqlite_pragma: str, pg_name: str) -> str:
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        return str(conn.exec_driver_sql(f"PRAGMA {sqlite_pragma}").scalar())
    return str(conn.execute(sa.text(f"SHOW {pg_name}")).scalar())


def test_each_backend_is_tuned_for_short_concurrent_requests(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert _setting("journal_mode", "") == "wal"
            assert int(_setting("busy_timeout", "")) >= 5000
            assert _setting("foreign_keys", "") == "1"
        else:
            assert _setting("", "max_parallel_workers_per_gather") == "0"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Flask]:
    """The app on a fresh database with real commits (not the suite's rolled-back transaction),
    a learner, and a route that writes on GET and returns normally."""
    with migrated_app(tmp_path, "lms_reads") as app:

        @app.get("/_writes-then-answers")
        def writes_then_answers() -> str:
            make_user("khong.duoc.luu")
            db.session.flush()  # written, not committed: the request's end must undo it
            return "ok"

        @app.get("/_streams")
        def streams() -> Response:
            user = db.session.scalars(sa.select(User).where(User.username == "hocvien.doc")).one()

            def rows() -> Iterator[str]:
                yield "name\r\n"
                yield f"{user.full_name}\r\n"  # read while the response is being sent

            return Response(stream_with_context(rows()), mimetype="text/csv")

        with app.app_context():
            make_user("hocvien.doc", full_name="Lê Thị Đọc")
            db.session.commit()
            db.session.remove()
        yield app


@pytest.mark.postgres_only
def test_reading_pages_keep_their_statements_prepared_on_postgresql(served) -> None:
    """psycopg prepares a statement the fifth time a connection runs it and forgets all of them
    at a ROLLBACK: pages that only read end with COMMIT, so their statements stay prepared."""
    client = served.test_client()
    assert client.login("hocvien.doc").status_code == 302
    for _ in range(6):
        assert client.get("/").status_code == 200
    with served.app_context():
        assert db.engine.pool.checkedin() == 1  # every request used this one connection
        prepared = db.session.execute(sa.text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar() > 0


def test_a_get_that_wrote_and_answered_still_writes_nothing(served) -> None:
    client = served.test_client()
    assert client.get("/_writes-then-answers").get_data(as_text=True) == "ok"
    with served.app_context():
        assert (
            db.session.scalar(sa.select(User.id).where(User.username == "khong.duoc.luu")) is None
        )
        assert db.session.scalar(sa.select(User.id).where(User.username == "hocvien.doc"))


def test_a_streamed_page_reads_its_objects_while_it_is_sent(served) -> None:
    """A response sent as it is produced keeps its transaction until the end (not committed
    after the view returned, which would expire the objects it still reads)."""
    response = served.test_client().get("/_streams")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "name\r\nLê Thị Đọc\r\n"
