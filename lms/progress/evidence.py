"""Evidence of an external completion (a class certificate, a signed attendance sheet).

PDF, JPEG or PNG, judged by the file's first bytes and never by its name; kept in the same
storage folder as lesson images (lms.authoring.uploads.folder, a volume every app machine can
share), under a generated name in its own sub-folder, and only ever served as a download.
"""

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import event, orm

from lms.authoring import uploads
from lms.db import db

MAX_BYTES = 5 * 1024 * 1024
SUBFOLDER = "evidence"
NAME_RE = re.compile(r"[0-9a-f]{32}\.(pdf|png|jpg)")
ACCEPTED = {"png": "image/png", "jpg": "image/jpeg"}


@dataclass(frozen=True)
class Evidence:
    data: bytes
    ext: str
    content_type: str


def max_bytes() -> int:
    return int(current_app.config.get("EVIDENCE_MAX_BYTES") or MAX_BYTES)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(extension, content type) of a file we accept as evidence, from its content."""
    if data.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    found = uploads.sniff(data)
    if found and found[0] in ACCEPTED:
        return found[0], ACCEPTED[found[0]]
    return None


def check(data: bytes) -> Evidence | str:
    """The evidence, or the code of what is wrong with it: empty, too_big, bad_type."""
    if not data:
        return "evidence_empty"
    if len(data) > max_bytes():
        return "evidence_too_big"
    kind = sniff(data)
    if kind is None:
        return "evidence_type"
    return Evidence(data, *kind)


def _folder() -> Path:
    path = uploads.folder() / SUBFOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


# Files written in the session's current transaction, kept only if it commits.
_UNCOMMITTED = "lms.evidence.uncommitted"


def store(evidence: Evidence) -> str:
    """Write the file under a fresh generated name and return that name. The file goes with
    the transaction that records it: if that transaction does not commit, the file is deleted,
    so no evidence is left on disk that no completion points to."""
    name = f"{uuid.uuid4().hex}.{evidence.ext}"
    path = _folder() / name
    path.write_bytes(evidence.data)
    db.session().info.setdefault(_UNCOMMITTED, []).append(path)
    return name


@event.listens_for(orm.Session, "after_commit")
def _keep_committed(session: orm.Session) -> None:
    # Also sent when a savepoint is released, which commits nothing yet.
    if session.get_nested_transaction() is None:
        session.info.pop(_UNCOMMITTED, None)


@event.listens_for(orm.Session, "after_transaction_end")
def _delete_uncommitted(session: orm.Session, transaction: orm.SessionTransaction) -> None:
    """The outermost transaction ended without a commit (rolled back, or the session closed):
    its files go too."""
    if transaction.parent is None:
        for path in session.info.pop(_UNCOMMITTED, []):
            path.unlink(missing_ok=True)


def path_of(name: str | None) -> Path | None:
    """Where a stored evidence file is; None for anything not made by `store` or missing."""
    if not name or not NAME_RE.fullmatch(name):
        return None
    path = _folder() / name
    return path if path.is_file() else None
