"""Whole-database backups with each database's own tools: SQLite's online backup API (a
consistent copy while the app keeps serving) and PostgreSQL's pg_dump / pg_restore."""

import os
import shutil
import sqlite3
import subprocess  # only pg_dump/pg_restore, fixed arguments, no shell  # nosec B404
import tempfile
from pathlib import Path

import sqlalchemy as sa

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"  # pg_dump's custom format


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the operator (Vietnamese)."""


def backup(engine: sa.Engine, target: Path, *, overwrite: bool = False) -> None:
    """Write a consistent copy of the database to `target`, atomically (a temporary file in the
    same folder, renamed at the end: an interrupted backup never leaves a half file)."""
    if target.exists() and not overwrite:
        raise BackupError(f"Lỗi: tệp {target} đã có; thêm --force để ghi đè.")
    if not target.parent.is_dir():
        raise BackupError(f"Lỗi: không có thư mục {target.parent}.")
    handle, partial = tempfile.mkstemp(prefix=".lms-backup-", dir=target.parent)
    os.close(handle)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine, Path(partial))
        else:
            _pg_dump(engine, Path(partial))
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)


def restore(engine: sa.Engine, source: Path, *, force: bool = False) -> None:
    """Replace the database's content with the backup in `source`. An empty database (no
    tables, or only empty ones) is restored into; a database holding data needs `force`."""
    kind = backup_kind(source)
    if kind != engine.dialect.name:
        raise BackupError(
            f"Lỗi: {source} là bản sao lưu {_NAMES.get(kind, kind)}, còn cơ sở dữ liệu đang "
            f"dùng là {_NAMES[engine.dialect.name]}."
        )
    filled = tables_with_rows(engine)
    if filled and not force:
        raise BackupError(
            f"Lỗi: cơ sở dữ liệu đang có dữ liệu ({', '.join(filled[:5])}"
            f"{', …' if len(filled) > 5 else ''}); thêm --force để thay toàn bộ bằng bản sao lưu."
        )
    engine.dispose()  # no pooled connection may hold the old content open
    if kind == "sqlite":
        _sqlite_restore(engine, source)
    else:
        _pg_restore(engine, source)
    engine.dispose()


_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "unknown": "không rõ loại"}


def backup_kind(path: Path) -> str:
    """The kind of backup in the file ("sqlite", "postgresql" or "unknown"), by its first bytes."""
    with open(path, "rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        return "sqlite"
    return "postgresql" if head.startswith(PG_MAGIC) else "unknown"


def tables_with_rows(engine: sa.Engine) -> list[str]:
    """The tables that hold at least one row (the migration bookkeeping table aside)."""
    with engine.connect() as conn:
        names = [n for n in sa.inspect(conn).get_table_names() if n != "alembic_version"]
        table = sa.table  # a lightweight table clause: no reflection of the columns needed
        return [
            name
            for name in sorted(names)
            if conn.execute(sa.select(sa.literal(1)).select_from(table(name)).limit(1)).first()
        ]


# -- SQLite ------------------------------------------------------------------------------------


def _sqlite_backup(engine: sa.Engine, target: Path) -> None:
    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(copy)  # type: ignore[union-attr]
        finally:
            copy.close()
    finally:
        raw.close()


def _sqlite_restore(engine: sa.Engine, source: Path) -> None:
    try:
        original = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in original.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables:
                raise BackupError(f"Lỗi: {source} không phải bản sao lưu của hệ thống này.")
            raw = engine.raw_connection()
            try:
                original.backup(raw.driver_connection)  # type: ignore[arg-type]
            finally:
                raw.close()
        finally:
            original.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Lỗi: không đọc được {source}: {exc}") from None


# -- PostgreSQL --------------------------------------------------------------------------------


def _pg_dump(engine: sa.Engine, target: Path) -> None:
    _run_pg(
        "pg_dump", engine, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"
    )


def _pg_restore(engine: sa.Engine, source: Path) -> None:
    # One transaction: either the whole backup is in, or the database is left as it was.
    # --clean drops the tables of the backup that exist already (an empty migrated database).
    _run_pg(
        "pg_restore", engine, "--clean", "--if-exists", "--no-owner", "--no-privileges",
        "--single-transaction", "--exit-on-error", str(source),
    )  # fmt: skip


def _run_pg(program: str, engine: sa.Engine, *args: str) -> None:
    binary = shutil.which(program)
    if binary is None:
        raise BackupError(
            f"Lỗi: không tìm thấy {program} (Debian: apt-get install postgresql-client)."
        )
    url = engine.url
    # libpq takes the URL without the SQLAlchemy driver; the password goes in the environment,
    # never on the command line where any local user could read it.
    libpq_url = sa.URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    ).render_as_string()
    env = {**os.environ, "PGPASSWORD": str(url.password or "")}
    # Fixed program found on PATH, fixed options, no shell: nothing here comes from a user.
    done = subprocess.run(  # noqa: S603  # nosec B603
        [binary, f"--dbname={libpq_url}", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"Lỗi: {program} thất bại: {done.stderr.strip()[-2000:]}")
