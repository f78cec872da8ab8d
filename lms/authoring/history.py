"""The edit history of lessons and quizzes: who saved what and when, diffs, and restore."""

import difflib

import sqlalchemy as sa

from lms.accounts.models import User
from lms.authoring.models import Revision, RevisionKind
from lms.catalog.models import Lesson
from lms.db import db
from lms.quizzes.models import Quiz


def record(
    kind: RevisionKind, object_id: int, actor: User, body: str, action: str = "saved"
) -> None:
    """Add one entry to a lesson's or quiz's history."""
    db.session.add(
        Revision(kind=kind, object_id=object_id, author_id=actor.id, body=body, action=action)
    )
    db.session.flush()


def history(kind: RevisionKind, object_id: int) -> list[Revision]:
    """Saved and published revisions, newest first, with their authors."""
    return list(
        db.session.scalars(
            sa.select(Revision)
            .where(Revision.kind == kind, Revision.object_id == object_id)
            .options(sa.orm.joinedload(Revision.author))
            .order_by(Revision.created_dt.desc(), Revision.id.desc())
        )
    )


def get_revision(kind: RevisionKind, object_id: int, revision_id: int) -> Revision | None:
    return db.session.scalars(
        sa.select(Revision).where(
            Revision.id == revision_id, Revision.kind == kind, Revision.object_id == object_id
        )
    ).first()


def diff(before: str, after: str) -> list[tuple[str, str]]:
    """A line diff for display: ("add" | "del" | "same" | "hunk", text)."""
    lines = []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        lines.append((kind, line[1:] if kind != "hunk" else line))
    return lines


def restore(revision: Revision, actor: User) -> None:
    """Make an old revision the current draft again (recorded as a new revision)."""
    if revision.kind == RevisionKind.LESSON:
        lesson = db.session.get(Lesson, revision.object_id)
        lesson.draft_md = revision.body if revision.body != lesson.body_md else None
        lesson.version += 1
    else:
        quiz = db.session.get(Quiz, revision.object_id)
        quiz.draft_source = revision.body if revision.body != quiz.gift_source else None
        quiz.edit_version += 1
    record(revision.kind, revision.object_id, actor, revision.body, f"restored:{revision.id}")


def diffs(revisions: list[Revision]) -> dict[int, list[tuple[str, str]]]:
    """Each revision's diff against the one before it, from a newest-first list (no queries)."""
    older = {
        r.id: revisions[i + 1].body if i + 1 < len(revisions) else ""
        for i, r in enumerate(revisions)
    }
    return {r.id: diff(older[r.id], r.body) for r in revisions}
