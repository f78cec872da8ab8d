"""Query plans of the statements a piece of product code sends, on the backend under test.

The statements are captured as they run, then explained with the same parameters: SQLite's
EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN with sequential scans priced out (enable_seqscan
off), so that a Seq Scan left in the plan means no index can serve it, whatever the table size.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from lms.db import db

# Tables that grow with the federation: a full scan of one of them does not scale.
LARGE = ("completion", "lesson_progress", "attempt", "officer", "user_account", "organization")


@dataclass
class Plan:
    statement: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def full_scans(self) -> list[str]:
        """Large tables read from end to end."""
        if db.engine.dialect.name == "sqlite":
            pattern = re.compile(r"\bSCAN (\w+)")
        else:
            pattern = re.compile(r"Seq Scan on (\w+)")
        return [m.group(1) for line in self.lines for m in pattern.finditer(line)
                if m.group(1) in LARGE]  # fmt: skip

    def automatic_indexes(self) -> list[str]:
        """SQLite building a throwaway index for one statement: an index is missing."""
        return [line for line in self.lines if "AUTOMATIC" in line]

    def searches(self, table: str) -> list[str]:
        """How a table is reached (SQLite): the plan lines that name it."""
        return [line for line in self.lines if re.search(rf"\b(SEARCH|SCAN) {table}\b", line)]


_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


def plans_of(action: Callable[[], object], *, inserts: bool = False) -> list[Plan]:
    """Run `action`, then explain each SELECT it sent (and each INSERT ... SELECT if asked:
    a rebuild's reads are in them)."""
    sent: list[tuple[str, object]] = []
    kinds = ("SELECT", "INSERT") if inserts else ("SELECT",)

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        text = statement.lstrip().upper()
        if text.startswith(kinds) and "SELECT" in text and not executemany:
            sent.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    conn = db.session.connection()
    sqlite = conn.dialect.name == "sqlite"
    if not sqlite:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    plans = []
    for statement, parameters in sent:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        plans.append(Plan(statement, [str(row[-1]) for row in rows]))
    return plans
