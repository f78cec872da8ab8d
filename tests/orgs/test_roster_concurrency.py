"""The same roster file imported several times at once, with real commits on a fresh database of
the backend under test: through the web (staff who previewed it press "import" together) and
through the service the command line uses (each import in its own session and transaction).
One import does the work; the others wait their turn and find nothing left to do. No union,
person or position is doubled, none is lost, and nobody gets an error page."""

import io
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from lms.accounts.models import User
from lms.db import db
from lms.orgs.models import Officer, Organization
from lms.orgs.roster import parse_roster
from lms.orgs.roster_import import IMPORT_LOCK, import_roster, plan_roster
from tests.conftest import Client, migrated_app
from tests.orgs.roster_helpers import counts, example_bytes, make_federation

RACERS = 4


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Flask]:
    """The province and its two districts with their staff, committed; nothing imported yet."""
    kept = str(tmp_path / "kept")
    with migrated_app(tmp_path, "lms_roster_race", ROSTER_UPLOAD_FOLDER=kept) as app:
        with app.app_context():
            make_federation()
            db.session.commit()
        yield app


def expected(app: Flask) -> tuple[int, int, int]:
    """Units, accounts and positions after the example file is imported once."""
    with app.app_context():
        before = counts()
        plan = plan_roster(parse_roster(example_bytes()), None)
        assert plan.ok, plan.errors
        made = plan.counts()
        db.session.rollback()
    return (
        before[0] + made["units_created"],
        before[1] + made["people_created"],
        before[2] + made["positions_opened"],
    )


def at_once(jobs: list[Callable[[], object]]) -> list[object]:
    """Run every job in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], object]) -> object:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def assert_imported_once(app: Flask, want: tuple[int, int, int]) -> None:
    with app.app_context():
        assert counts() == want
        doubled = db.session.execute(
            sa.select(User.org_id, User.full_name)
            .group_by(User.org_id, User.full_name)
            .having(sa.func.count() > 1)
        ).all()
        assert doubled == []
        positions = db.session.execute(
            sa.select(Officer.user_id, Officer.org_id, Officer.position)
            .where(Officer.ended_on.is_(None))
            .group_by(Officer.user_id, Officer.org_id, Officer.position)
            .having(sa.func.count() > 1)
        ).all()
        assert positions == []
        codes = set(db.session.scalars(sa.select(Organization.code)))
        assert {"DMC-DTTA", "DMC-MAYHP", "DMC-UBXA", "GD-GIAYDL", "GD-BVGD"} <= codes


def previewed(app: Flask) -> Client:
    """An administrator's session that has checked the example file and may now import it."""
    client = app.test_client()
    assert client.login("quantri").status_code == 302
    upload = {"file": (io.BytesIO(example_bytes()), "danh-sach.csv")}
    assert client.post_form("/roster/preview", upload).status_code == 200
    return client


def test_staff_importing_the_same_file_together_import_it_once(federation) -> None:
    want = expected(federation)
    clients = [previewed(federation) for _ in range(RACERS)]
    tokens = [client.csrf_token() for client in clients]

    def apply(client: Client, token: str) -> Callable[[], object]:
        def job() -> tuple[int, str]:
            answer = client.post("/roster/apply", data={"csrf_token": token})
            return answer.status_code, answer.headers.get("Location", "")

        return job

    answers = at_once([apply(c, t) for c, t in zip(clients, tokens, strict=True)])
    assert Counter(status for status, _ in answers) == Counter({302: RACERS}), answers
    assert all(where.endswith("/roster/") for _, where in answers)
    assert_imported_once(federation, want)
    # Each page says what its own import did: one created everything, the others nothing.
    summaries = [c.get("/roster/").get_data(as_text=True) for c in clients]
    assert sum("0 công đoàn mới" not in page for page in summaries) == 1, summaries


def test_imports_in_separate_transactions_wait_for_each_other(federation) -> None:
    want = expected(federation)

    def job() -> dict[str, int]:
        with federation.app_context():
            plan, done = import_roster(parse_roster(example_bytes()), None)
            assert plan.ok and done is not None
            db.session.commit()
            return done

    results = at_once([job] * RACERS)
    created = sorted(result["units_created"] for result in results)  # type: ignore[index]
    assert created[:-1] == [0] * (RACERS - 1) and created[-1] > 0, results
    assert_imported_once(federation, want)


@contextmanager
def another_import_running(app: Flask) -> Iterator[None]:
    """Another import holding its turn: PostgreSQL's advisory lock, or SQLite's write lock."""
    with app.app_context():
        connection = db.engine.connect().execution_options(lms_writes=True)
        connection.begin()  # SQLite: BEGIN IMMEDIATE (lms.db)
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_lock(IMPORT_LOCK)))
    try:
        yield
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_unlock(IMPORT_LOCK)))
        connection.rollback()
        connection.close()


def test_an_import_that_waits_too_long_says_so_and_writes_nothing(federation, tmp_path) -> None:
    federation.config["DATABASE_LOCK_TIMEOUT_MS"] = 300
    with federation.app_context():
        db.engine.dispose()  # new connections with the shorter lock timeout
        before = counts()
    file = tmp_path / "danh-sach.csv"
    file.write_bytes(example_bytes())
    runner = federation.test_cli_runner()
    with another_import_running(federation):
        result = runner.invoke(args=["import-roster", str(file)])
    assert result.exit_code == 1, result.output
    assert "Đang có một lần nhập danh sách khác" in result.output
    with federation.app_context():
        assert counts() == before
    assert runner.invoke(args=["import-roster", str(file)]).exit_code == 0


@pytest.mark.postgres_only
def test_the_web_import_that_waits_too_long_keeps_the_preview(federation) -> None:
    """On SQLite the request waits for the write lock at its start (a 503 when too long:
    tests/faults/test_database.py); here the preview comes back, ready to import again."""
    federation.config["DATABASE_LOCK_TIMEOUT_MS"] = 300
    with federation.app_context():
        db.engine.dispose()
        before = counts()
    client = previewed(federation)
    with another_import_running(federation):
        answer = client.post_form("/roster/apply")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "Đang có một lần nhập danh sách khác" in page and "Nhập các thay đổi này" in page
    with federation.app_context():
        assert counts() == before
    assert client.post_form("/roster/apply").status_code == 302
