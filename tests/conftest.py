"""Test fixtures: one migrated database per run (SQLite file or PostgreSQL), a rolled-back
transaction around each test, an HTTP client with CSRF handling, and sign-in helpers."""

import contextlib
import contextvars
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import orm

from lms import create_app
from lms.db import db

BACKEND = os.environ.get("LMS_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
REQUIRE_ALL = os.environ.get("LMS_REQUIRE_ALL_SUITES") == "1"
TEST_PASSWORD = "mat-khau-thu-nghiem"  # noqa: S105
UPLOADS = tempfile.mkdtemp(prefix="lms-test-uploads-")


def pytest_report_header(config: pytest.Config) -> str:
    return f"database backend: {BACKEND}" + (
        f" ({_redact(PG_URL)})" if BACKEND == "postgresql" else ""
    )


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "SECURE_COOKIES": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8,
        "ARGON2_PARALLELISM": 1,
        "SERVER_NAME": None,
        # Uploaded images go to a throwaway folder, never the checkout's instance/ folder.
        "UPLOAD_FOLDER": UPLOADS,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if BACKEND == "postgresql":
        if not PG_URL:
            message = "PostgreSQL suite: LMS_TEST_DATABASE_URL is not set"
            if REQUIRE_ALL:
                pytest.fail(message)
            pytest.skip(message)
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(base_config(database_url))
    with app.app_context():
        reset_database(db.engine)
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def fresh_database(folder: Path, prefix: str) -> Iterator[str]:
    """A brand-new database of the backend under test (for real commits), dropped afterwards."""
    if BACKEND != "postgresql":
        yield f"sqlite:///{folder / (prefix + '.db')}"
        return
    if not PG_URL:
        message = "PostgreSQL suite: LMS_TEST_DATABASE_URL is not set"
        if REQUIRE_ALL:
            pytest.fail(message)
        pytest.skip(message)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@contextmanager
def migrated_app(folder: Path, prefix: str, **config: object) -> Iterator[Flask]:
    """The app on a brand-new, migrated database of the backend under test, for tests that
    commit for real (settings in `config` on top of the suite's); its sessions and pooled
    connections are let go of afterwards, and the database dropped."""
    with fresh_database(folder, prefix) as url:
        app = create_app(base_config(url) | config)
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


def reset_database(engine: sa.Engine) -> None:
    """Drop everything so the migrations run from an empty database."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        else:
            meta = sa.MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _db_isolation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test that uses the app inside a transaction that is rolled back afterwards."""
    if "app" not in request.fixturenames or request.node.get_closest_marker("real_commits"):
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        factory = orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        db.session = orm.scoped_session(factory, scopefunc=_app_ctx_id)  # type: ignore[assignment]
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Client(FlaskClient):
    """A test client that fetches a CSRF token before each form POST (unless told not to).

    Each request runs in an empty context, as in a real server: otherwise Flask would reuse
    the test's application context, and `g` (caches, the loaded user) would leak between requests.
    The answer is read whole inside that context too: a streamed one (stream_with_context)
    pushes the request's contexts again while it is read, which must happen where they began.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self) -> str:
        """The token of this client's session, read from a page (every page carries one)."""
        page = self.get("/help")
        match = _CSRF.search(page.get_data(as_text=True))
        assert match, "no CSRF token found in the page"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        return self.post(url, data=data, **kwargs)

    def login(self, username: str, password: str = TEST_PASSWORD):
        return self.post_form("/login", {"username": username, "password": password})

    def logout(self):
        return self.post_form("/logout")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests about one backend's own behaviour (`postgres_only`, `sqlite_only`) are left out of
    the other backend's run: deselected, not skipped, so LMS_REQUIRE_ALL_SUITES still holds."""
    other = "sqlite_only" if BACKEND == "postgresql" else "postgres_only"
    kept = [item for item in items if not item.get_closest_marker(other)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i.get_closest_marker(other)])
        items[:] = kept


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (LMS_REQUIRE_ALL_SUITES=1) a skipped test means a suite did not really run: fail."""
    if not REQUIRE_ALL or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reasons = sorted({str(getattr(r, "longrepr", ""))[:200] for r in skipped})
        print(
            f"\n{len(skipped)} test(s) skipped while LMS_REQUIRE_ALL_SUITES=1:",
            *reasons,
            sep="\n  ",
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


class StatementCounter:
    """Counts SQL statements sent to the database while active (SAVEPOINT bookkeeping excluded)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(app: Flask):  # type: ignore[no-untyped-def]
    """Use as `with count_statements() as counter: ...; assert counter.count <= N`."""
    from contextlib import contextmanager

    @contextmanager
    def counting():  # type: ignore[no-untyped-def]
        counter = StatementCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    return counting


@contextmanager
def elsewhere_during(app: Flask, url: str, after: str, sql: str) -> Iterator[list[bool]]:
    """Another program writes `sql` and commits right after this app's first statement that
    contains `after`, in the middle of the request that sent it: with its own connection and a
    short lock wait, so it fails if the request holds the write lock at that point. Yields a
    list that holds True once that write went through (False if it was refused)."""
    done: list[bool] = []

    def write() -> None:
        if url.startswith("sqlite"):
            import sqlite3

            path = sa.make_url(url).database
            with contextlib.closing(sqlite3.connect(path, timeout=0.2)) as conn:
                try:
                    with conn:
                        conn.execute(sql)
                    done.append(True)
                except sqlite3.OperationalError:
                    done.append(False)
        else:
            import psycopg

            plain = sa.make_url(url).set(drivername="postgresql")
            conninfo = plain.render_as_string(hide_password=False)
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("SET lock_timeout = '200ms'")
                try:
                    conn.execute(sql)
                    done.append(True)
                except psycopg.errors.LockNotAvailable:
                    done.append(False)

    def listen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not done and after in statement:
            write()

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", listen)
    try:
        yield done
    finally:
        sa.event.remove(engine, "after_cursor_execute", listen)
