"""Images for lessons: checked by their content (not their name), stored under generated names.

Storage is one folder (default `instance/uploads`, setting UPLOAD_FOLDER) that several app
machines can share as a mounted volume.
"""

import re
import uuid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from lms.accounts.models import User
from lms.authoring.models import Upload
from lms.catalog.models import Course
from lms.db import db

MAX_BYTES = 2 * 1024 * 1024
NAME_RE = re.compile(r"[0-9a-f]{32}\.(png|jpg|gif|webp)")
# Magic numbers: what the file is, whatever its name says (XSS-08: no SVG, no HTML).
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
)


class UploadError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sniff(data: bytes) -> tuple[str, str] | None:
    """(extension, content type) of an image we accept, judged by its first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    return next(((ext, ctype) for magic, ext, ctype in SIGNATURES if data.startswith(magic)), None)


def max_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES") or MAX_BYTES)


def folder() -> Path:
    path = Path(
        current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(course: Course, actor: User, data: bytes) -> Upload:
    """Store an image for a course's lessons; refuse what is empty, too big or not an image."""
    if not data:
        raise UploadError("empty")
    if len(data) > max_bytes():
        raise UploadError("too_big")
    kind = sniff(data)
    if kind is None:
        raise UploadError("not_image")
    ext, ctype = kind
    upload = Upload(
        name=f"{uuid.uuid4().hex}.{ext}",
        content_type=ctype,
        size=len(data),
        course_id=course.id,
        uploaded_by_id=actor.id,
    )
    (folder() / upload.name).write_bytes(data)
    db.session.add(upload)
    db.session.flush()
    return upload


def get_upload(name: str) -> Upload | None:
    """The upload with this generated name; anything else (paths, NUL, ..) finds nothing."""
    if not NAME_RE.fullmatch(name or ""):
        return None
    return db.session.scalars(sa.select(Upload).where(Upload.name == name)).first()


def uploads_of(course: Course) -> list[Upload]:
    return list(
        db.session.scalars(
            sa.select(Upload)
            .where(Upload.course_id == course.id)
            .order_by(Upload.created_dt.desc())
            .limit(50)
        )
    )
