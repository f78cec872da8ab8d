"""REL-01: the database down, unreadable or locked gives a Vietnamese 503 with a support id,
/healthz says so, nothing is half-written, and the same app recovers once the fault is gone.

Each test runs the app on a brand-new database of the backend under test (real commits) and
causes a real fault: a SQLite file replaced by junk or held under a write lock by another
process; a PostgreSQL database that refuses connections, a killed server connection, a table
locked by another session.
"""

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from lms import write_turn
from lms.accounts.models import UserSession
from lms.db import db, utcnow
from tests.conftest import PG_URL, Client, elsewhere_during, migrated_app
from tests.factories import make_user

# Short, so that a request held by a lock gives up quickly in the tests (production: 5 s).
LOCK_WAIT_MS = 300


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The app on a fresh, migrated database with one learner; yields (app, database URL)."""
    with migrated_app(tmp_path, "lms_fault", DATABASE_LOCK_TIMEOUT_MS=LOCK_WAIT_MS) as app:
        with app.app_context():
            make_user("hocvien.loi")
            db.session.commit()
            db.session.remove()
        yield app, app.config["DATABASE_URL"]


def sessions_in(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(sa.text("SELECT count(*) FROM user_session"))
        db.session.remove()
    return int(count or 0)


def assert_unavailable_page(response) -> None:  # type: ignore[no-untyped-def]
    """The 503 page: Vietnamese, the support id of this very request, nothing technical."""
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "Hệ thống tạm thời gián đoạn" in text
    support_id = response.headers["X-Request-Id"]
    assert f"Khi liên hệ hỗ trợ, xin cho biết mã này: {support_id}" in text
    for leak in ("Traceback", "sqlite", "psycopg", "locked", "SELECT", "INSERT"):
        assert leak not in text


def assert_healthz(client: Client, status: int) -> None:
    response = client.get("/healthz")
    assert response.status_code == status
    expected = {"status": "ok", "db": "ok"} if status == 200 else {
        "status": "error", "db": "unavailable"
    }  # fmt: skip
    assert response.get_json() == expected


def sign_in(client: Client):  # type: ignore[no-untyped-def]
    return client.login("hocvien.loi")


# -- SQLite ------------------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    return Path(sa.make_url(url).database or "")


@pytest.mark.sqlite_only
def test_sqlite_write_lock_held_elsewhere_then_released(served) -> None:
    """Another process (a maintenance script, a copy tool) holds the write lock: a sign-in, which
    writes its session, gets the 503 page and writes nothing; once released, it works."""
    app, url = served
    client = app.test_client()
    holder = sqlite3.connect(sqlite_path(url), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert_unavailable_page(sign_in(client))
        assert not write_turn.holding()  # the refused writer gave its turn back
        assert client.get("/login").status_code == 200  # reading still works
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sessions_in(app) == 0
    assert sign_in(client).status_code == 302
    assert sessions_in(app) == 1


@pytest.mark.sqlite_only
def test_a_writer_waits_its_turn_and_the_busy_timeout_is_kept(served) -> None:
    """The write lock held for less than the lock wait: the sign-in waits its turn and succeeds,
    and the connection's busy timeout is the configured lock wait."""
    app, url = served
    client = app.test_client()
    holder = sqlite3.connect(sqlite_path(url), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(LOCK_WAIT_MS / 3000, holder.execute, ("ROLLBACK",))
    release.start()
    try:
        assert sign_in(client).status_code == 302
    finally:
        release.join()
        holder.close()
    assert sessions_in(app) == 1
    with app.app_context():
        busy_ms = db.session.execute(sa.text("PRAGMA busy_timeout")).scalar()
        db.session.remove()
    assert busy_ms == LOCK_WAIT_MS


# Another worker process of the app in the middle of a write: it holds the writers' turn
# (lms.write_turn) for `seconds`, then writes a file saying it let go.
_HOLD_TURN = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
open(sys.argv[3], "w").close()
fcntl.flock(fd, fcntl.LOCK_UN)
"""


def hold_turn(url: str, seconds: float, released: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_TURN, write_turn.lock_file(sqlite_path(url)), str(seconds),
         str(released)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.sqlite_only
def test_a_writer_starts_when_the_previous_one_lets_go(served, tmp_path: Path) -> None:
    """Writers take turns through the lock file: a sign-in (it writes its session) begun while
    another process holds the turn completes only after that process let go."""
    app, url = served
    client = app.test_client()
    released = tmp_path / "released"
    holder = hold_turn(url, LOCK_WAIT_MS / 3000, released)
    try:
        assert client.get("/login").status_code == 200  # readers take no turn
        assert not released.exists()
        assert sign_in(client).status_code == 302
        assert released.exists()
    finally:
        holder.communicate()
    assert sessions_in(app) == 1


@pytest.mark.sqlite_only
def test_a_turn_held_past_the_lock_wait_gives_the_503(served, tmp_path: Path) -> None:
    app, url = served
    client = app.test_client()
    holder = hold_turn(url, 30, tmp_path / "released")
    try:
        assert_unavailable_page(sign_in(client))
        assert client.get("/login").status_code == 200
    finally:
        holder.kill()
        holder.communicate()
    assert sessions_in(app) == 0
    assert sign_in(client).status_code == 302  # the turn died with its holder
    assert sessions_in(app) == 1


@pytest.mark.sqlite_only
def test_a_writer_that_cannot_bound_its_wait_does_without_a_turn(served, tmp_path: Path) -> None:
    """Another timer of the process is running: waiting for the turn could not be cut short, so
    the writer does not wait for it (SQLite's own lock and busy timeout still apply)."""
    app, url = served
    client = app.test_client()
    released = tmp_path / "released"
    holder = hold_turn(url, 5, released)
    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    signal.setitimer(signal.ITIMER_REAL, 60)
    try:
        assert sign_in(client).status_code == 302
        assert not released.exists()
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # that timer was left alone
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        holder.kill()
        holder.communicate()
    assert sessions_in(app) == 1


@pytest.mark.sqlite_only
def test_the_turn_is_given_back_after_a_write_and_after_a_failed_one(served) -> None:
    app, url = served
    client = app.test_client()

    def free() -> bool:
        fd = os.open(write_turn.lock_file(sqlite_path(url)), os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)  # closing lets go of a lock taken through it
        return True

    assert sign_in(client).status_code == 302
    assert free() and not write_turn.holding()
    with app.test_request_context("/", method="POST"):
        db.session.execute(sa.text("UPDATE user_account SET full_name = 'X'"))
        assert write_turn.holding() and not free()
        db.session.rollback()
        assert free() and not write_turn.holding()
        db.session.remove()


@pytest.mark.sqlite_only
def test_sqlite_file_unreadable_then_put_back(served) -> None:
    """The database file is replaced by junk (a botched copy): /healthz and the pages say the
    system is unavailable; once the real file is back, the same app serves again."""
    app, url = served
    path = sqlite_path(url)
    client = app.test_client()
    assert_healthz(client, 200)
    aside = path.with_suffix(".aside")
    with app.app_context():
        db.engine.dispose()  # the copy tool works on a closed file
    os.replace(path, aside)
    path.write_bytes(b"this is not a database\n" * 200)
    try:
        assert_healthz(client, 503)
        assert_unavailable_page(sign_in(client))
    finally:
        os.replace(aside, path)
    assert_healthz(client, 200)
    assert sign_in(client).status_code == 302


# -- PostgreSQL --------------------------------------------------------------------------------


def admin_engine() -> sa.Engine:
    return sa.create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


def terminate_backends(conn: sa.Connection, database: str) -> int:
    """Kill every server connection to the database, as an administrator or a crash would."""
    killed = conn.execute(
        sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": database},
    )
    return int(killed.scalar() or 0)


@pytest.mark.postgres_only
def test_postgresql_connection_killed_is_replaced_without_restart(served) -> None:
    app, url = served
    client = app.test_client()
    assert sign_in(client).status_code == 302
    assert client.get("/").status_code == 200
    engine = admin_engine()
    try:
        with engine.connect() as conn:
            assert terminate_backends(conn, sa.make_url(url).database or "") >= 1
    finally:
        engine.dispose()
    # The pool checks a connection before use and replaces the dead one.
    assert client.get("/").status_code == 200
    assert_healthz(client, 200)


@pytest.mark.postgres_only
def test_postgresql_down_then_back(served) -> None:
    """The database refuses connections (a restart, a failover): 503 page and /healthz 503,
    nothing written; once it accepts connections again the same app serves."""
    app, url = served
    name = sa.make_url(url).database or ""
    client = app.test_client()
    assert_healthz(client, 200)
    engine = admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            terminate_backends(conn, name)
            try:
                assert_healthz(client, 503)
                assert_unavailable_page(sign_in(client))
            finally:
                conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    finally:
        engine.dispose()
    assert_healthz(client, 200)
    assert sessions_in(app) == 0
    assert sign_in(client).status_code == 302
    assert sessions_in(app) == 1


@pytest.mark.postgres_only
def test_postgresql_table_locked_elsewhere_then_released(served) -> None:
    """A long migration or a stuck session locks a table: the request gives up after the lock
    timeout with the 503 page, instead of hanging; once the lock goes, it works."""
    app, url = served
    client = app.test_client()
    holder = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with holder.connect() as conn:
            conn.execute(sa.text("LOCK TABLE user_session IN ACCESS EXCLUSIVE MODE"))
            assert_unavailable_page(sign_in(client))
            conn.rollback()
    finally:
        holder.dispose()
    assert sessions_in(app) == 0
    assert sign_in(client).status_code == 302


def test_the_hourly_touch_is_saved_when_someone_wrote_while_the_page_was_read(served) -> None:
    """A page read by a signed-in learner whose session was last seen over an hour ago saves
    the new last-seen time. Another program commits just after the page read the session: on
    SQLite that page's read snapshot is then stale, and a write from it would be refused
    ("database is locked") instead of waiting; the touch is written in a transaction of its
    own, so the page is served and the touch saved."""
    app, url = served
    client = app.test_client()
    assert client.login("hocvien.loi").status_code == 302
    two_hours_ago = utcnow() - timedelta(hours=2)
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE elsewhere (n INTEGER)"))
        db.session.execute(sa.update(UserSession).values(last_seen_dt=two_hours_ago))
        db.session.commit()
    insert = "INSERT INTO elsewhere VALUES (1)"
    with elsewhere_during(app, url, "user_session.token_hash", insert) as wrote:
        response = client.get("/account")
    assert wrote == [True]
    assert response.status_code == 200
    assert "Expires=" in response.headers["Set-Cookie"]
    with app.app_context():
        assert db.session.scalar(sa.select(UserSession.last_seen_dt)) > two_hours_ago
        db.session.remove()
