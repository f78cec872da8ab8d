"""The shared database layer: the typed declarative base, the session and engine tuning."""

import contextvars
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, orm

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

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


@event.listens_for(sa.Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    """Turn on foreign keys, WAL and a busy timeout, and let SQLAlchemy drive transactions."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# Set by write_lock_first(): SQLite transactions then begin IMMEDIATE (see there).
_IMMEDIATE: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_immediate", default=False)


@contextmanager
def write_lock_first() -> Iterator[None]:
    """On SQLite, take the write lock when a transaction begins (BEGIN IMMEDIATE). A deferred
    transaction that has read and then writes is refused at once ("database is locked", no busy
    wait) when another connection wrote in between; an immediate one waits for the lock (busy
    timeout) and cannot be refused that way. For a write retried after such a refusal."""
    token = _IMMEDIATE.set(True)
    try:
        yield
    finally:
        _IMMEDIATE.reset(token)


@event.listens_for(sa.Engine, "begin")
def _sqlite_on_begin(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _IMMEDIATE.get() else "BEGIN")


def vn_today() -> date:
    """Today's date in Vietnam, which is what 'today' means to every user of this product."""
    return datetime.now(VN_TZ).date()
