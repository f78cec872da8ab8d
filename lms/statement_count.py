"""SQL statements per request, for the benchmarks: LMS_COUNT_SQL=1 puts the count in the
response header X-SQL-Statements, which the access log can carry. Off by default, when
nothing is hooked and nothing is paid."""

import re

import sqlalchemy as sa
from flask import Flask, g, has_request_context

from lms.db import db

# Queries only: SQLite's explicit BEGIN (lms.db) has no counterpart on PostgreSQL.
_TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


def install(app: Flask) -> None:
    """With COUNT_SQL set, count the statements each request sends and report them in a
    response header; otherwise do nothing."""
    if not app.config.get("COUNT_SQL"):
        return

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if has_request_context() and not _TRANSACTION_CONTROL.match(statement):
            g.sql_statements = g.get("sql_statements", 0) + 1

    def report(response):  # type: ignore[no-untyped-def]
        response.headers["X-SQL-Statements"] = str(g.get("sql_statements", 0))
        return response

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
    app.after_request(report)
