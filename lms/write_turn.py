"""SQLite writers of this app take turns through a lock file, so that the next one starts the
moment the previous one is done.

SQLite lets one writer in at a time. A writer that finds the database locked sleeps in SQLite's
busy handler (1, 2, 5, 10, 15 ms… between tries) and may sleep on after the lock is free: under
a burst of quiz submits most of the wait was that sleep, not work (at size S: p99 346 ms, the
processors half idle). Here a writing transaction first takes an exclusive `flock` on
`<database>-writers`; the kernel wakes the next waiter as soon as it is released, when the
session's transaction ends. SQLite's own lock and busy timeout stay underneath, for other
programs (a copy tool, the sqlite3 shell) and for whatever does not take a turn.

The wait is bounded by the same busy timeout, through a real-time timer, which only the main
thread may set: gunicorn's sync workers serve requests there. Elsewhere (a threaded development
server) writers do without a turn and SQLite's busy handler decides, as before.
"""

import fcntl
import os
import signal
import sqlite3
import threading

import sqlalchemy as sa
from sqlalchemy import event, orm

# Per process and database file: a descriptor opened after a fork, never inherited, since a
# flock held through an inherited descriptor would be shared with the parent.
_FILES: dict[tuple[int, str], int] = {}
_HELD: list[int] = []


class _TurnTimeout(Exception):
    pass


def _timed_out(signum: int, frame: object) -> None:
    raise _TurnTimeout


def lock_file(database: str | os.PathLike[str]) -> str:
    return os.fspath(database) + "-writers"


def _descriptor(database: str) -> int:
    key = (os.getpid(), database)
    if key not in _FILES:
        _FILES[key] = os.open(lock_file(database), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return _FILES[key]


def take(conn: sa.Connection) -> None:
    """Wait for this process's turn to write to the connection's SQLite file, at most its busy
    timeout; past it, refuse the way SQLite does ("database is locked": a 503, or a retry where
    the caller retries)."""
    database = conn.engine.url.database
    if _HELD or not database or database == ":memory:":
        return
    if threading.current_thread() is not threading.main_thread():
        return
    fd = _descriptor(database)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if not _wait(fd, _busy_timeout(conn)):
            return
    _HELD.append(fd)


def _busy_timeout(conn: sa.Connection) -> float:
    dbapi = conn.connection.dbapi_connection
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    try:
        return int(cursor.execute("PRAGMA busy_timeout").fetchone()[0]) / 1000
    finally:
        cursor.close()


def _wait(fd: int, seconds: float) -> bool:
    """Wait for the turn, at most `seconds`; False when the wait cannot be bounded here (the
    real-time timer is someone else's), so that SQLite's busy handler decides instead."""
    if signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        return False
    previous = signal.signal(signal.SIGALRM, _timed_out)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    except _TurnTimeout:
        locked = sqlite3.OperationalError("database is locked")
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", {}, locked) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def give_back() -> None:
    """The transaction is over (committed, rolled back or closed): the next writer's turn."""
    while _HELD:
        fcntl.flock(_HELD.pop(), fcntl.LOCK_UN)


def holding() -> bool:
    return bool(_HELD)


@event.listens_for(orm.Session, "after_transaction_end")
def _session_done(session: orm.Session, transaction: orm.SessionTransaction) -> None:
    if _HELD and transaction.parent is None:
        give_back()


@event.listens_for(sa.pool.Pool, "checkin")
def _connection_returned(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    # A write outside any ORM session (engine.begin() in a command): over when the connection
    # goes back to the pool.
    if _HELD:
        give_back()
