"""The shared database layer: the typed declarative base, the session and engine tuning."""

import enum
import os
import re
import unicodedata
import weakref
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, orm
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from lms import write_turn

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BULK_CHUNK = 5000  # rows per executemany
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (every *_dt column stores UTC)."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware, on SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use lms.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Model(orm.DeclarativeBase):
    registry = orm.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        # Enums are stored by value in a VARCHAR, never as a native PostgreSQL ENUM type.
        type_annotation_map={
            enum.Enum: sa.Enum(
                enum.Enum,
                native_enum=False,
                length=32,
                values_callable=lambda members: [m.value for m in members],
                validate_strings=True,
            ),
            datetime: UTCDateTime(),
        },
    )


db = SQLAlchemy(model_class=Model)

# Paths compare byte by byte on both databases (PostgreSQL's default collation ignores '/').
PathString = sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")


def unaccent(text: str) -> str:
    """Vietnamese without diacritics: 'Đặng Văn Ước' -> 'Dang Van Uoc'."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def fold(text: str) -> str:
    """Lowercase without Vietnamese marks, trimmed, so that "duong" finds "Dương"."""
    return unaccent(text).casefold().strip()


def _marked_letters() -> tuple[str, str]:
    """Every precomposed Latin letter whose fold is one ASCII letter, and that letter, then the
    combining marks: the arguments of PostgreSQL's translate(), which then does what fold()
    does for names."""
    marked = [chr(c) for c in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]]
    pairs = [(c, fold(c)) for c in marked]
    pairs = [(c, f) for c, f in pairs if len(f) == 1 and f.isascii() and f.isalpha() and c != f]
    # Combining marks last, with nothing to map to: translate() deletes them.
    combining = "".join(chr(c) for c in range(0x300, 0x370))
    return "".join(c for c, _f in pairs) + combining, "".join(f for _c, f in pairs)


_MARKED, _PLAIN = _marked_letters()


class folded(FunctionElement[str]):  # noqa: N801 (used like a SQL function)
    """A column folded like fold() inside the database, for searches that ignore marks and
    case without a stored copy of every name: a Python function on SQLite (registered on
    connect), translate() and lower() on PostgreSQL (no extension needed)."""

    type = sa.String()
    inherit_cache = True


@compiles(folded, "sqlite")
def _folded_sqlite(element: folded, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    return f"lms_fold({compiler.process(element.clauses, **kw)})"


@compiles(folded)
def _folded_default(element: folded, compiler, **kw) -> str:  # type: ignore[no-untyped-def]
    # Only letters in both strings: nothing to quote.
    argument = compiler.process(element.clauses, **kw)
    return f"btrim(lower(translate({argument}, '{_MARKED}', '{_PLAIN}')))"


def _fold_or_null(text: str | None) -> str | None:
    return None if text is None else fold(text)


@event.listens_for(sa.Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    """Turn on foreign keys and WAL, and let SQLAlchemy drive transactions (the busy timeout
    comes from the engine options, lms.web.engine_options)."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN itself.
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("lms_fold", 1, _fold_or_null, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(sa.Engine, "begin")
def _sqlite_on_begin(conn: sa.Connection) -> None:
    """A request that may write (any method but GET/HEAD/OPTIONS) takes SQLite's write lock when
    its transaction begins, waiting its turn for up to the busy timeout. Begun as a reader, it
    would be refused at its first write whenever another request committed meanwhile (its
    snapshot is then stale, and SQLite does not wait): two people finishing a lesson at the
    same moment would get an error. Writers of this app first take their turn (lms.write_turn).
    Reading requests never wait (WAL); nor does the reading part of a `reads_first` view."""
    if conn.dialect.name == "sqlite":
        in_request = has_request_context()
        reading_first = in_request and _reads_first()
        writing = conn.get_execution_options().get("lms_writes") or (
            in_request and request.method not in ("GET", "HEAD", "OPTIONS") and not reading_first
        )
        if writing:
            write_turn.take(conn)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
        if reading_first and not writing:
            g._lms_reading = conn.connection.dbapi_connection  # for start_writing to end


def reads_first(view: F) -> F:
    """Mark a POST view whose writes come after a long reading part (a quiz submit: the session
    user, the attempt, its questions and answers, the grading). On SQLite its transaction
    begins as a reader and takes the write lock only at `start_writing`, so that other writers
    are not kept waiting while it reads; what it writes must be guarded against changes made
    in between (a quiz's `UPDATE … WHERE revision = :seen`). Elsewhere this changes nothing."""
    view.lms_reads_first = True  # type: ignore[attr-defined]
    return view


def _reads_first() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "lms_reads_first", False)


def start_writing() -> None:
    """The reading part of a `reads_first` request is over: end its read transaction and
    begin a write transaction on the same connection, after this writer's turn. What the
    session loaded stays loaded (SQLAlchemy does not see the switch), so the caller must check
    in its writes that what it read still holds. Outside such a request: begin as a writer if
    no transaction is open (lms.db.begin_writing), else nothing."""
    session = db.session()
    reading = g.pop("_lms_reading", None) if has_request_context() else None
    if reading is None or not session.in_transaction():
        begin_writing()
        return
    conn = session.connection()
    if conn.connection.dbapi_connection is not reading:
        return
    write_turn.take(conn)
    conn.exec_driver_sql("COMMIT")
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# ---- reading requests end with COMMIT on PostgreSQL --------------------------------------------
# psycopg prepares a statement on the server once a connection has run it five times, and then
# only binds and executes it, but forgets everything it prepared at every ROLLBACK. Ending each
# request with the session's rollback meant nothing was ever prepared: every page parsed and
# planned its statements again. For a transaction that wrote nothing COMMIT and ROLLBACK are the
# same, so a reading request commits (at XL the lesson page's PostgreSQL backend CPU went from
# 1,1-1,7 to 0,3-0,4 ms). Anything that may have written still ends with the rollback.

_WROTE = "lms_wrote"
_READING = re.compile(r"\s*(?:SELECT|select)\b")


@event.listens_for(sa.Engine, "begin")
def _forget_writes(conn: sa.Connection) -> None:
    conn.info.pop(_WROTE, None)


@event.listens_for(sa.Engine, "before_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
    # Anything but a SELECT counts as a write (SAVEPOINT, LOCK and SET included): kept safe.
    if not _READING.match(statement):
        conn.info[_WROTE] = True


def commit_reads(app: Flask) -> None:
    """End a GET or HEAD request whose transaction wrote nothing with COMMIT on PostgreSQL,
    once its response is complete. A streamed response (a CSV or a call list) still reads
    while it is sent, through objects and cursors of this transaction: it ends as before."""

    @app.after_request
    def _commit_reads(response):  # type: ignore[no-untyped-def]
        if request.method not in ("GET", "HEAD") or response.status_code >= 400:
            return response
        if response.is_streamed or not db.session.registry.has():
            return response
        session = db.session()
        if session.get_bind().dialect.name != "postgresql" or not session.in_transaction():
            return response
        if session.new or session.dirty or session.deleted or session.connection().info.get(_WROTE):
            return response
        try:
            session.commit()
        except sa.exc.SQLAlchemyError:
            session.rollback()
        return response


# Every engine of this process, so that a forked child can let go of the parent's connections.
_ENGINES: "weakref.WeakSet[sa.Engine]" = weakref.WeakSet()


def track_engines(app: Flask) -> None:
    """Make this app's engines safe to fork: gunicorn --preload builds the app once and forks
    the workers from it."""
    with app.app_context():
        _ENGINES.update(db.engines.values())


def _drop_inherited_connections() -> None:
    """In a forked child: forget the pooled connections without closing them. They belong to
    the parent (a PostgreSQL socket or a SQLite handle); using or closing them here would
    break the parent's. The child opens its own on first use."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_drop_inherited_connections)


def begin_writing() -> None:
    """Begin this session's transaction as a writer, for work outside a request (the command
    line) that reads and then writes: on SQLite it waits for its turn to write from the start,
    instead of being refused at its first write because someone committed since it read."""
    if not db.session().in_transaction():
        db.session.connection(execution_options={"lms_writes": True})


def read_columns(stmt: sa.Select | sa.CompoundSelect, params: dict[str, Any]) -> sa.CursorResult:
    """Run a SELECT of plain columns (no entity) on the session's connection as a Core
    statement: the same rows, without the ORM's work around each statement and its result
    (about 50 µs of a lesson page's 2 CPU-ms per statement, at XL). Pending changes are flushed
    first, as Session.execute would."""
    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(stmt, params)


def upsert(target: Any, session: orm.Session | None = None):  # type: ignore[no-untyped-def]
    """An INSERT into a model or table that can say what to do ON CONFLICT, in the session's
    database (both dialects spell it alike; SQLAlchemy's core insert cannot say it)."""
    dialect = (session or db.session()).get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


def slices(items: Sequence[T], size: int = BULK_CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of `size` items: rows written, or ids bound in one IN (...) list
    (a statement binds at most 32.766 values on SQLite, 65.535 on PostgreSQL)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_insert(table: sa.Table, rows: list[dict], session: orm.Session | None = None) -> None:
    """Many new rows of one table at once. PostgreSQL takes them by COPY: for the 395.151
    roll-up rows of a rebuild at XL, 1 s of client CPU against 14 s for executemany, which
    builds and binds every row in Python."""
    session = session or db.session()
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from psycopg import sql as pg_sql  # the driver of every PostgreSQL URL here

        columns = list(rows[0])
        command = pg_sql.SQL("COPY {} ({}) FROM STDIN").format(
            pg_sql.Identifier(table.name), pg_sql.SQL(", ").join(map(pg_sql.Identifier, columns))
        )
        raw = session.connection().connection.driver_connection  # in the session's transaction
        with raw.cursor() as cursor, cursor.copy(command) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    for start in range(0, len(rows), BULK_CHUNK):
        session.execute(table.insert(), rows[start : start + BULK_CHUNK])


def vn_today() -> date:
    """Today's date in Vietnam, which is what 'today' means to every user of this product."""
    return datetime.now(VN_TZ).date()


def health() -> bool:
    """Whether the database answers a read of our own schema (`SELECT 1` would answer even
    from an empty or unreadable file); on failure the pooled connections are dropped."""
    try:
        db.session.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.SQLAlchemyError:
        forget_connections()
        return False
    db.session.rollback()
    return True


def forget_connections() -> None:
    """After a database failure: roll back and drop the pooled connections, so the next request
    opens fresh ones. A restarted server, a replaced SQLite file or a released lock is then
    picked up without restarting the app (REL-01)."""
    db.session.rollback()
    db.engine.dispose()


class _DeferredMigrate:
    """Stands as app.extensions["migrate"] until a migration is first asked for. Flask-Migrate
    brings Alembic, about 10 MB and 0.1 s at the start of every serving process, and only the
    `lms db` and `lms init-db` commands (and the tests) use it."""

    def __init__(self, app: Flask, directory: Path) -> None:
        self.app, self.directory = app, directory

    def __getattr__(self, name: str) -> object:
        return getattr(load_migrate(self.app), name)


def init_migrate(app: Flask, directory: Path) -> None:
    """Set up migrations for this app without loading Flask-Migrate yet."""
    app.extensions["migrate"] = _DeferredMigrate(app, directory)


def load_migrate(app: Flask) -> object:
    """Flask-Migrate's state for this app (its `db` commands added to the CLI), loaded once."""
    deferred = app.extensions["migrate"]
    if isinstance(deferred, _DeferredMigrate):
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(deferred.directory), render_as_batch=True)
    return app.extensions["migrate"]
