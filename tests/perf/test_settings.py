"""Database settings the benchmark relies on: SQLite in WAL mode with a busy timeout,
PostgreSQL without parallel workers for short statements."""

import sqlalchemy as sa

from lms.db import db


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

