"""Completions and quiz results as xAPI 1.0.3 statements (shared/INTEROP.md §3).

Every statement is derived from one row, so exporting twice gives the same text: its id is a
UUID (version 5) of the row's kind and id under BASE_URL; the actor is an account whose name is
the person's numeric id (no personal data); activity ids are IRIs under BASE_URL built from
course and module slugs. A revoked completion also yields a voiding statement.

Statements are ordered by `stored` (when the record was entered here), then kind and id, and
paged with an opaque cursor, as an LRS pages GET /statements with `more`.
"""

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from lms.accounts.models import User
from lms.catalog.models import Course, Module
from lms.db import db
from lms.orgs import services as orgs
from lms.progress.models import Completion
from lms.quizzes.models import Attempt, Quiz

ADL = "http://adlnet.gov/expapi"
VERBS = {
    "completed": f"{ADL}/verbs/completed",
    "passed": f"{ADL}/verbs/passed",
    "failed": f"{ADL}/verbs/failed",
    "voided": f"{ADL}/verbs/voided",
}
COMPLETION, ATTEMPT, VOID = 0, 1, 2  # kinds of record, in the order they sort at one instant
KIND_NAMES = {COMPLETION: "completion", ATTEMPT: "attempt", VOID: "void"}
PLATFORM = "lms"
MAX_LIMIT = 500


@dataclass(frozen=True)
class Cursor:
    stored: datetime
    kind: int
    id: int

    def encode(self) -> str:
        text = f"{self.stored.astimezone(UTC).isoformat()}|{self.kind}|{self.id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        """Raises ValueError for anything this module did not make."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            stored, kind, ident = text.split("|")
            cursor = cls(datetime.fromisoformat(stored), int(kind), int(ident))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError("bad cursor") from exc
        if cursor.stored.tzinfo is None or cursor.kind not in KIND_NAMES:
            raise ValueError("bad cursor")
        return cursor


@dataclass(frozen=True)
class Query:
    limit: int = 100
    ascending: bool = False
    since: datetime | None = None  # exclusive, on `stored` (as the xAPI spec says)
    until: datetime | None = None  # inclusive
    cursor: Cursor | None = None


@dataclass(frozen=True)
class Page:
    statements: list[dict[str, Any]]
    next_cursor: Cursor | None


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as xAPI asks (§4.5)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(seconds: float) -> str:
    """ISO 8601 duration to the hundredth of a second (§4.6), e.g. PT0H12M3.50S."""
    hundredths = max(0, round(seconds * 100))
    hours, rest = divmod(hundredths, 360000)
    minutes, rest = divmod(rest, 6000)
    return f"PT{hours}H{minutes}M{rest // 100}.{rest % 100:02d}S"


class Builder:
    """Turns rows into statements for one BASE_URL."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def uuid(self, *parts: object) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join([self.base, "xapi", *map(str, parts)])))

    def iri(self, *parts: str) -> str:
        return "/".join([self.base, "xapi", *(quote(p, safe="") for p in parts)])

    def actor(self, user_id: int | None) -> dict[str, Any]:
        name = str(user_id) if user_id is not None else "system"
        return {"objectType": "Agent", "account": {"homePage": self.base, "name": name}}

    def verb(self, name: str) -> dict[str, Any]:
        return {"id": VERBS[name], "display": {"en-US": name}}

    def course(self, course: Course) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": self.iri("activities", "course", course.slug),
            "definition": {
                "type": f"{ADL}/activities/course",
                "name": {course.language: course.title},
            },
        }

    def module(self, module: Module, course: Course) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": self.iri("activities", "module", course.slug, module.slug),
            "definition": {
                "type": f"{ADL}/activities/module",
                "name": {course.language: module.title},
            },
        }

    def context(self, user_id: int, course: Course, parents: list, **extensions: object) -> dict:
        found = {self.iri("extensions", k): v for k, v in extensions.items() if v is not None}
        context = {
            # One registration per person and course, stable across exports.
            "registration": self.uuid("registration", user_id, course.slug),
            "platform": PLATFORM,
            "language": course.language,
            "contextActivities": parents,
        }
        return context | ({"extensions": found} if found else {})

    def completion(self, row: Completion, module: Module, course: Course) -> dict[str, Any]:
        return {
            "id": self.uuid(KIND_NAMES[COMPLETION], row.id),
            "actor": self.actor(row.user_id),
            "verb": self.verb("completed"),
            "object": self.module(module, course),
            "result": {"completion": True},
            "context": self.context(
                row.user_id,
                course,
                {"parent": [self.course(course)]},
                source=row.source.value,
                **{"class": row.class_name},
            ),
            "timestamp": timestamp(row.completed_dt),
            "stored": timestamp(row.recorded_dt),
        }

    def void(self, row: Completion, module: Module, course: Course) -> dict[str, Any]:
        """The statement that withdraws a revoked completion's statement."""
        revoked = row.revoked_dt or row.recorded_dt
        return {
            "id": self.uuid(KIND_NAMES[VOID], row.id),
            "actor": self.actor(row.revoked_by_id),
            "verb": self.verb("voided"),
            "object": {
                "objectType": "StatementRef",
                "id": self.uuid(KIND_NAMES[COMPLETION], row.id),
            },
            "timestamp": timestamp(revoked),
            "stored": timestamp(revoked),
        }

    def attempt(self, row: Attempt, module: Module, course: Course) -> dict[str, Any]:
        score = min(100.0, max(0.0, float(row.score or 0)))
        submitted = row.submitted_dt or row.started_dt
        quiz = {
            "objectType": "Activity",
            "id": self.iri("activities", "quiz", course.slug, module.slug),
            "definition": {
                "type": f"{ADL}/activities/assessment",
                "name": {course.language: module.title},
            },
        }
        return {
            "id": self.uuid(KIND_NAMES[ATTEMPT], row.id),
            "actor": self.actor(row.user_id),
            "verb": self.verb("passed" if row.passed else "failed"),
            "object": quiz,
            "result": {
                "score": {
                    "scaled": round(score / 100, 4),
                    "raw": round(score, 2),
                    "min": 0,
                    "max": 100,
                },
                "success": bool(row.passed),
                "completion": True,
                "duration": duration((submitted - row.started_dt).total_seconds()),
            },
            "context": self.context(
                row.user_id,
                course,
                {"parent": [self.module(module, course)], "grouping": [self.course(course)]},
                attempt=row.attempt_no,
            ),
            "timestamp": timestamp(submitted),
            "stored": timestamp(submitted),
        }


# ---- reading the records -------------------------------------------------------------------


@dataclass(frozen=True)
class _Stream:
    kind: int
    stored: Any  # the column that orders and filters
    ident: Any
    select: sa.Select


def _streams(actor: User | None) -> list[_Stream]:
    people = None
    if actor is not None and orgs.scope_root(actor) is not None:
        people = orgs.people_query(actor).with_only_columns(User.id).order_by(None)
    done = (
        sa.select(Completion, Module, Course)
        .join(Module, Module.id == Completion.module_id)
        .join(Course, Course.id == Module.course_id)
    )
    tried = (
        sa.select(Attempt, Module, Course)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(Module, Module.id == Quiz.module_id)
        .join(Course, Course.id == Module.course_id)
        .where(Attempt.submitted_dt.is_not(None), Attempt.passed.is_not(None))
    )
    voided = done.where(Completion.revoked_dt.is_not(None))
    if people is not None:
        done, voided = (s.where(Completion.user_id.in_(people)) for s in (done, voided))
        tried = tried.where(Attempt.user_id.in_(people))
    return [
        _Stream(COMPLETION, Completion.recorded_dt, Completion.id, done),
        _Stream(ATTEMPT, Attempt.submitted_dt, Attempt.id, tried),
        _Stream(VOID, Completion.revoked_dt, Completion.id, voided),
    ]


def _after(stream: _Stream, cursor: Cursor, ascending: bool) -> sa.ColumnElement[bool]:
    """Rows strictly after the cursor in (stored, kind, id) order, read in either direction."""
    col, ident = stream.stored, stream.ident
    beyond = (lambda a, b: a > b) if ascending else (lambda a, b: a < b)
    if stream.kind == cursor.kind:
        tie = beyond(ident, cursor.id)
    else:  # at the cursor's instant, a whole kind sorts before or after the cursor's kind
        tie = sa.true() if beyond(stream.kind, cursor.kind) else sa.false()
    return sa.or_(beyond(col, cursor.stored), sa.and_(col == cursor.stored, tie))


def _fetch(stream: _Stream, query: Query, limit: int) -> list[tuple[tuple, dict]]:
    stmt = stream.select
    if query.since is not None:
        stmt = stmt.where(stream.stored > query.since)
    if query.until is not None:
        stmt = stmt.where(stream.stored <= query.until)
    if query.cursor is not None:
        stmt = stmt.where(_after(stream, query.cursor, query.ascending))
    order = (
        (stream.stored, stream.ident)
        if query.ascending
        else (stream.stored.desc(), stream.ident.desc())
    )
    rows = db.session.execute(stmt.order_by(*order).limit(limit)).all()
    stored_of = {COMPLETION: "recorded_dt", ATTEMPT: "submitted_dt", VOID: "revoked_dt"}
    return [((getattr(r[0], stored_of[stream.kind]), stream.kind, r[0].id), r) for r in rows]


BUILD = {COMPLETION: Builder.completion, ATTEMPT: Builder.attempt, VOID: Builder.void}


def page(actor: User | None, query: Query, base_url: str) -> Page:
    """One page of the statements the actor may see (None: everything)."""
    limit = max(1, min(query.limit, MAX_LIMIT))
    found = [item for s in _streams(actor) for item in _fetch(s, query, limit + 1)]
    found.sort(key=lambda item: item[0], reverse=not query.ascending)
    shown = found[:limit]
    builder = Builder(base_url)
    statements = [BUILD[key[1]](builder, *row) for key, row in shown]
    more = Cursor(*shown[-1][0]) if len(found) > limit else None
    return Page(statements, more)


def export(actor: User | None, base_url: str, batch: int = MAX_LIMIT) -> Iterator[dict]:
    """Every statement, oldest first, read a page at a time."""
    query = Query(limit=batch, ascending=True)
    while True:
        result = page(actor, query, base_url)
        yield from result.statements
        if result.next_cursor is None:
            return
        query = Query(limit=batch, ascending=True, cursor=result.next_cursor)
