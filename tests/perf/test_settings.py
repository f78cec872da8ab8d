"""Database settings the benchmark relies on: SQLite in WAL mode with a busy timeout,
PostgreSQL without parallel workers for short statements."""

import contextlib

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


def _writer_blocked(path, immediate: bool) -> bool:  # type: ignore[no-untyped-def]
    """Whether a second connection can write while the first has only read."""
    from lms.db import write_lock_first

    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as setup:
        setup.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        setup.commit()
    first, second = engine.connect(), engine.connect()
    try:
        second.exec_driver_sql("PRAGMA busy_timeout = 50")
        second.commit()
        with write_lock_first() if immediate else contextlib.nullcontext():
            first.exec_driver_sql("SELECT count(*) FROM t").all()
        try:
            second.exec_driver_sql("INSERT INTO t VALUES (1)")
            second.commit()
        except sa.exc.OperationalError:
            return True
        return False
    finally:
        first.close()
        second.close()
        engine.dispose()


def test_a_retried_write_on_sqlite_holds_the_write_lock_from_its_start(tmp_path) -> None:
    """write_lock_first() makes SQLite begin IMMEDIATE: from its first read, the transaction
    holds the write lock, so nobody can write in between and refuse its own write later."""
    assert not _writer_blocked(tmp_path / "deferred.db", immediate=False)
    assert _writer_blocked(tmp_path / "immediate.db", immediate=True)
