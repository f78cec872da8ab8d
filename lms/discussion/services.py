"""Discussion under a lesson: post, reply, and hide with a reason (trainers and admins)."""

import unicodedata
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.accounts.models import Role, User
from lms.catalog.models import Lesson
from lms.db import db, utcnow
from lms.discussion.models import Post

MAX_LENGTH = 4000
MODERATORS = (Role.TRAINER, Role.ADMIN)


class DiscussionError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


MESSAGES = {
    "empty": _l("Your message is empty."),
    "too_long": _l("Your message is too long (at most 4.000 characters)."),
    "bad_parent": _l("The message you reply to is not in this lesson."),
    "reason_required": _l("Please give a reason for hiding this message."),
}


def message(error: DiscussionError) -> str:
    return str(MESSAGES[error.code])


@dataclass
class ThreadItem:
    post: Post
    replies: list[Post] = field(default_factory=list)


# Built once: every lesson page runs it (see lms.progress.services).
_THREAD = (
    sa.select(Post)
    .where(Post.lesson_id == sa.bindparam("lesson_id"))
    .options(sa.orm.joinedload(Post.author))
    .order_by(Post.created_dt, Post.id)
)


def thread(lesson: Lesson) -> list[ThreadItem]:
    """The lesson's posts, oldest first, replies under their post, authors loaded (one query)."""
    posts = db.session.scalars(_THREAD, {"lesson_id": lesson.id}).all()
    items = {p.id: ThreadItem(p) for p in posts if p.parent_id is None}
    for p in posts:
        if p.parent_id is not None and p.parent_id in items:
            items[p.parent_id].replies.append(p)
    return list(items.values())


def add_post(user: User, lesson: Lesson, body: str, parent_id: int | None = None) -> Post:
    """Post in the lesson's discussion, or reply to one of its top-level posts."""
    text = unicodedata.normalize("NFC", body or "").replace("\x00", "").strip()
    if not text:
        raise DiscussionError("empty")
    if len(text) > MAX_LENGTH:
        raise DiscussionError("too_long")
    if parent_id is not None:
        parent = db.session.get(Post, parent_id)
        if parent is None or parent.lesson_id != lesson.id or parent.parent_id is not None:
            raise DiscussionError("bad_parent")
    post = Post(lesson_id=lesson.id, user_id=user.id, parent_id=parent_id, body=text)
    db.session.add(post)
    db.session.flush()
    return post


def can_moderate(user: User) -> bool:
    return user.is_authenticated and user.role in MODERATORS


def hide_post(post: Post, actor: User, reason: str) -> None:
    """Hide a post from learners, keeping it and the reason for the record."""
    reason = unicodedata.normalize("NFC", reason or "").replace("\x00", "").strip()
    if not reason:
        raise DiscussionError("reason_required")
    post.hidden_dt = utcnow()
    post.hidden_by_id = actor.id
    post.hidden_reason = reason[:500]
    audit.log_event("post.hidden", post=post.id, by=actor.username)


def get_post(post_id: int) -> Post | None:
    return db.session.get(Post, post_id)


def lesson_address(lesson_id: int) -> tuple[str, str, str] | None:
    """(course slug, module slug, lesson slug) of a lesson, to link back to it."""
    from lms.catalog.models import Course, Module

    row = db.session.execute(
        sa.select(Course.slug, Module.slug, Lesson.slug)
        .select_from(Lesson)
        .join(Module, Module.id == Lesson.module_id)
        .join(Course, Course.id == Module.course_id)
        .where(Lesson.id == lesson_id)
    ).first()
    return tuple(row) if row else None  # type: ignore[return-value]
