"""`lms backup FILE` and `lms restore FILE` (DESIGN §6), and the restore drill (REL-12): a
populated database is backed up, restored into an empty one, and both hold exactly the same
rows and reports; the app serves from the restored copy. On the backend under test: SQLite's
online backup API, or pg_dump / pg_restore against the real server."""

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from lms import create_app
from lms.db import db
from tests import drill
from tests.conftest import BACKEND, Client, base_config, fresh_database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@pytest.fixture
def new_app(tmp_path: Path) -> Iterator[Callable[[], Flask]]:
    """Makes apps on brand-new databases of the backend under test (not migrated)."""
    apps: list[Flask] = []
    with ExitStack() as stack:

        def make() -> Flask:
            url = stack.enter_context(fresh_database(tmp_path, f"lms_backup{len(apps)}"))
            apps.append(create_app(base_config(url)))
            return apps[-1]

        yield make
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def migrated(app: Flask) -> Flask:
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        db.session.remove()
    return app


def invoke(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def test_restore_drill(new_app, tmp_path: Path) -> None:
    origin, empty, migrated_empty = new_app(), new_app(), new_app()
    drill.populate(migrated(origin))
    before = drill.take(origin)
    assert before["row counts"]["completion"] == 6 and before["row counts"]["attempt"] == 2
    code, report = before["coverage json"]  # online, live and class completions all count
    assert code == 0 and json.loads(report)["targets"]["awareness"]["done"] == 4
    file = tmp_path / "lms.backup"
    result = invoke(origin, "backup", str(file))
    assert result.exit_code == 0, result.output
    assert f"Đã sao lưu cơ sở dữ liệu vào {file}" in result.output
    assert file.read_bytes()[:5] == (b"SQLit" if BACKEND == "sqlite" else b"PGDMP")

    # Into a database with nothing in it, and into one that `lms init-db` has just created.
    for target in (empty, migrated(migrated_empty)):
        result = invoke(target, "restore", str(file))
        assert result.exit_code == 0, result.output
        assert "Đã khôi phục" in result.output
        assert drill.take(target) == before

    # The app serves from the restored copy: health, sign-in, the certificate earned before.
    empty.test_client_class = Client
    client = empty.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "db": "ok"}
    assert client.login("0901000001", "hoc-tap-2021").status_code == 302
    assert "Chứng nhận của tôi" in client.get("/").get_data(as_text=True)


def test_restore_refuses_a_database_with_data_unless_forced(new_app, tmp_path: Path) -> None:
    origin, other = new_app(), new_app()
    file = tmp_path / "lms.backup"
    invoke(migrated(origin), "demo")
    assert invoke(origin, "backup", str(file)).exit_code == 0
    invoke(migrated(other), "import-courses", str(drill.ROOT / "courses"))
    kept = drill.take(other)

    refused = invoke(other, "restore", str(file))
    assert refused.exit_code == 1
    assert "cơ sở dữ liệu đang có dữ liệu" in refused.output and "--force" in refused.output
    assert drill.take(other) == kept

    forced = invoke(other, "restore", "--force", str(file))
    assert forced.exit_code == 0, forced.output
    assert drill.take(other) == drill.take(origin)


def test_backup_refuses_to_overwrite_unless_forced(new_app, tmp_path: Path) -> None:
    origin = migrated(new_app())
    file = tmp_path / "lms.backup"
    file.write_bytes(b"an earlier backup")
    refused = invoke(origin, "backup", str(file))
    assert refused.exit_code == 1 and "--force" in refused.output
    assert file.read_bytes() == b"an earlier backup"
    assert invoke(origin, "backup", "--force", str(file)).exit_code == 0
    assert file.read_bytes() != b"an earlier backup"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".lms-backup-")] == []


def test_restore_refuses_what_is_not_a_backup_of_this_database(new_app, tmp_path: Path) -> None:
    target = new_app()
    junk = tmp_path / "notes.txt"
    junk.write_text("Biên bản họp công đoàn", encoding="utf-8")
    result = invoke(target, "restore", str(junk))
    assert result.exit_code == 1 and "không rõ loại" in result.output
    other_kind = tmp_path / "other.backup"
    other_kind.write_bytes(b"PGDMP" if BACKEND == "sqlite" else b"SQLite format 3\x00" + b"\0" * 84)
    result = invoke(target, "restore", str(other_kind))
    assert result.exit_code == 1
    assert "bản sao lưu" in result.output and "cơ sở dữ liệu đang dùng là" in result.output


def test_usage_errors_exit_2(new_app, tmp_path: Path) -> None:
    target = new_app()
    assert invoke(target, "restore", str(tmp_path / "missing.backup")).exit_code == 2
    assert invoke(target, "backup").exit_code == 2
    assert invoke(target, "backup", str(tmp_path / "no-such-folder" / "x")).exit_code == 1
