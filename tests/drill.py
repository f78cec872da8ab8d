"""A database filled the way people fill it, and a canonical snapshot of a database: two
databases hold the same data exactly when their snapshots are equal (the restore drill, REL-12;
the transaction tests, COMP-04).

A snapshot is every table's rows plus every report registered with `@snapshot(name)`. A report
that must come out the same after a restore registers here with one function of the app, e.g.
the coverage JSON of DESIGN §6 through `lms coverage --format json`."""

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from lms.db import db, utcnow

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS: dict[str, Callable[[Flask], Any]] = {}


def snapshot(name: str) -> Callable[[Callable[[Flask], Any]], Callable[[Flask], Any]]:
    """Register a part of the canonical snapshot."""

    def register(function: Callable[[Flask], Any]) -> Callable[[Flask], Any]:
        SNAPSHOTS[name] = function
        return function

    return register


def take(app: Flask) -> dict[str, Any]:
    """The canonical snapshot of the app's database: {part name: its content}."""
    return {name: function(app) for name, function in sorted(SNAPSHOTS.items())}


def _plain(value: Any) -> Any:
    """A value as the same text on both databases (timestamps in UTC, JSON with sorted keys)."""
    if isinstance(value, datetime):
        return value.isoformat() if value.tzinfo is None else value.astimezone().isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


@snapshot("tables")
def table_rows(app: Flask) -> dict[str, list[tuple]]:
    """Every table (migration bookkeeping included) with its rows, sorted."""
    with app.app_context(), db.engine.connect() as conn:
        meta = sa.MetaData()
        meta.reflect(conn)
        return {
            name: sorted(
                (tuple(_plain(v) for v in row) for row in conn.execute(sa.select(table))),
                key=repr,
            )
            for name, table in sorted(meta.tables.items())
        }


@snapshot("row counts")
def row_counts(app: Flask) -> dict[str, int]:
    """How many rows each table holds (a short, readable summary when snapshots differ)."""
    return {name: len(rows) for name, rows in table_rows(app).items()}


@snapshot("coverage json")
def coverage_json(app: Flask) -> tuple[int, str]:
    """The coverage report of the whole tree, every unit included, as `lms coverage` prints it
    (DESIGN §6): its figures come from the aggregates kept beside the completions, so a restore
    or a rolled-back write that lost or kept an aggregate row shows here. (Exit code, stdout);
    a database without a course gives exit code 1 and nothing on stdout."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["coverage", "--format", "json"])
    return result.exit_code, result.stdout


# -- filling a database ------------------------------------------------------------------------


def populate(app: Flask) -> dict[str, Any]:
    """The shipped courses, the demo federation and the example roster (new unions, a vacancy),
    then what people do: a chairperson studies the orientation module, fails and passes its
    quiz (attempts, answers, a completion and its certificates, reflections, a post), a live
    session covering a core module is attended (a live completion), and a class's attendance
    list is imported (external completions). Returns the ids the callers need."""
    from tests.conftest import Client

    runner = app.test_cli_runner()
    examples = ROOT / "docs" / "examples"
    for args in (["import-courses", str(ROOT / "courses")], ["demo"],
                 ["import-roster", str(examples / "roster-example.csv")]):  # fmt: skip
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    app.test_client_class = Client
    client = app.test_client()
    with app.app_context():
        assert client.login("0901000001", "hoc-tap-2021").status_code == 302
        module_id = study_orientation(client)
        client.post_form(f"/lessons/{first_lesson_id(module_id)}/posts", {"body": "Xin chào."})
        chair = user_id("0901000001")
        take_quiz(client, module_id, chair, right=False)
        take_quiz(client, module_id, chair, right=True)
        db.session.rollback()  # a fresh snapshot, so that this session may write (SQLite WAL)
        live = attended_live_session("0901000004")
        db.session.commit()
        # The command gets its app context from `lms`; the test runner needs this one.
        completions = examples / "completions-example.csv"
        result = runner.invoke(args=["import-completions", str(completions)])
        assert result.exit_code == 0, result.output
    return {"module_id": module_id, "live": live}


def first_lesson_id(module_id: int) -> int:
    from lms.catalog.models import Lesson

    return db.session.scalars(
        sa.select(Lesson.id).where(Lesson.module_id == module_id).order_by(Lesson.position)
    ).first()


def study_orientation(client) -> int:  # type: ignore[no-untyped-def]
    """Every lesson of the orientation module, with its checks, reflections and cases."""
    from lms.catalog.models import Lesson, Module
    from tests.test_walkthrough import _study

    module = db.session.scalars(sa.select(Module).where(Module.slug == "dinh-huong")).one()
    for lesson in db.session.scalars(
        sa.select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position)
    ).all():
        _study(client, lesson)
    return module.id


def take_quiz(client, module_id: int, user_id: int, *, right: bool) -> str:  # type: ignore[no-untyped-def]
    """Start an attempt of the module's quiz and submit it, answered right or wrong."""
    from tests.quizzes.helpers import answer_form, latest_attempt

    client.post_form(f"/modules/{module_id}/quiz/start")
    db.session.rollback()  # end this session's read snapshot: the request committed since
    attempt = latest_attempt(user_id)
    client.post_form(f"/attempts/{attempt.public_id}/submit", answer_form(attempt, right=right))
    return attempt.public_id


def user_id(username: str) -> int:
    from lms.accounts.models import User

    return db.session.scalars(sa.select(User.id).where(User.username == username)).one()


def attended_live_session(username: str) -> str:
    """A Jitsi session covering a core module, held yesterday, with `username` confirmed."""
    from lms.accounts.models import User
    from lms.catalog.models import Module
    from lms.live import services as live
    from lms.live.providers import LiveSettings

    trainer = db.session.scalars(sa.select(User).where(User.username == "giangvien")).one()
    person = db.session.scalars(sa.select(User).where(User.username == username)).one()
    module = db.session.scalars(sa.select(Module).where(Module.slug == "tien-luong")).one()
    start = (utcnow() - timedelta(days=1)).astimezone(live.VN).replace(tzinfo=None)
    session = live.schedule(
        trainer,
        module,
        title="Thương lượng tiền lương",
        start_local=start.replace(second=0, microsecond=0),
        minutes=90,
        provider="jitsi",
        covers_module=True,
        settings=LiveSettings(),
    )
    live.confirm_attendance(trainer, session, [person.id])
    return session.public_id
