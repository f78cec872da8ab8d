"""A district's report reads through indexes: no full scan of the completions, the standings,
the lesson progress or the organisation tree (issue [7/7]'s fast tier, checked early)."""

import re

import pytest
import sqlalchemy as sa

from lms.db import db
from tests.coverage.conftest import AS_OF

WATCHED = ("completion", "course_standing", "learner_activity", "lesson_progress", "organization")


@pytest.fixture
def captured(app):  # type: ignore[no-untyped-def]
    statements: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", listen)


def full_scans(statement: str, parameters) -> list[str]:  # type: ignore[no-untyped-def]
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        lines = [row[-1] for row in plan]
        pattern = r"^SCAN ({})\b(?! USING COVERING INDEX)".format("|".join(WATCHED))
    else:
        # Tables this small are cheaper to read whole; forbid that to see which index serves.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        lines = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
        pattern = r"Seq Scan on ({})\b".format("|".join(WATCHED))
    return [line for line in lines if re.search(pattern, line.strip())]


def test_the_district_dashboard_reads_through_indexes(client, scenario, captured) -> None:
    client.login("canbo.a")
    captured.clear()
    assert client.get(f"/reports/coverage?as_of={AS_OF}").status_code == 200
    report = [(s, p) for s, p in captured if "course_standing" in s or "completion" in s]
    assert len(report) >= 3  # units, officers, laggards (the rest is read from the roll-ups)
    for statement, parameters in report:
        assert full_scans(statement, parameters) == [], statement


def plan_lines(statement: str, parameters) -> list[str]:  # type: ignore[no-untyped-def]
    conn = db.session.connection()
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    return [str(row[-1]) for row in conn.exec_driver_sql(prefix + statement, parameters)]


def test_the_chairs_to_contact_read_each_unions_kept_row(client, scenario, captured) -> None:
    # What decides a call is kept on each union's row of the course (unit_standing, reached by
    # its key): the list searches no chair's visits or attempts, and reads no chair's activity
    # row, whatever their number; only the rows shown join the chair's account and standing.
    client.login("canbo.a")
    captured.clear()
    assert client.get(f"/reports/coverage?as_of={AS_OF}").status_code == 200
    [(statement, parameters)] = [(s, p) for s, p in captured if "chair_seen_on" in s]
    assert "unit_standing" in statement and "learner_activity" not in statement
    assert "lesson_progress" not in statement and " attempt" not in statement
    assert full_scans(statement, parameters) == [], plan_lines(statement, parameters)
