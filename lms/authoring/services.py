"""The trainers' editor: who may edit which course, modules and lessons, drafts that learners do
not see until published, optimistic locking, and the edit history with restore.

Publishing rule: a lesson's Markdown and a quiz's GIFT are edited as drafts; learners keep seeing
the published text until a trainer publishes. Publishing a changed quiz makes a new quiz version,
so attempts already taken keep their questions and scores, and an attempt in progress finishes on
the version it started with.
"""

import re
import unicodedata

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.accounts.models import Role, User
from lms.authoring.history import record
from lms.authoring.importer import ImportReport, sync_blocks
from lms.authoring.loader import BlockSpec
from lms.authoring.models import RevisionKind
from lms.catalog.models import (
    Course,
    CourseTrainer,
    Lesson,
    LessonKind,
    Module,
    ModuleKind,
    ModuleStatus,
)
from lms.db import db, unaccent
from lms.markdown import BlockError, render_lesson
from lms.quizzes import gift
from lms.quizzes.models import Quiz
from lms.quizzes.services import quiz_for_module, sync_quiz

# A lesson body above this many characters is refused with a message (the form limit is 2 MB).
MAX_LESSON_CHARS = 200_000


class AuthoringError(ValueError):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class EditConflict(Exception):
    """Someone saved this text since the editor was opened; `current` is what they saved."""

    def __init__(self, current: str, version: int) -> None:
        super().__init__("edit conflict")
        self.current = current
        self.version = version


MESSAGES = {
    "title_required": _l("Please enter a title."),
    "title_too_long": _l("The title is too long (at most 300 characters)."),
    "bad_pass_mark": _l("The pass mark is a whole number from 0 to 100."),
    "bad_minutes": _l("The reading time is a whole number of minutes, from 1 to 120."),
    "too_long": _l(
        "The lesson is too long (%(chars)s characters; at most %(limit)s). "
        "Split it into two lessons."
    ),
    "block": _l("Line %(line)s: %(reason)s"),
    "gift": _l("The quiz has errors; nothing was saved. Fix the lines marked below."),
    "unknown_user": _l("There is no trainer with the username “%(value)s”."),
    "not_a_trainer": _l("“%(value)s” is not a trainer account."),
}


def message(error: AuthoringError) -> str:
    text = str(MESSAGES[error.code])
    return text % error.params if error.params else text


# ---- who may edit what ---------------------------------------------------------------------


def courses_for(actor: User) -> list[Course]:
    """The courses an actor may edit: all for an admin, the assigned ones for a trainer."""
    stmt = sa.select(Course).order_by(Course.year.desc(), Course.title)
    if actor.role != Role.ADMIN:
        stmt = stmt.join(CourseTrainer, CourseTrainer.course_id == Course.id).where(
            CourseTrainer.user_id == actor.id
        )
    return list(db.session.scalars(stmt))


def can_edit(actor: User, course_id: int) -> bool:
    """Admins edit every course; a trainer only the courses assigned to them (AC-04)."""
    if actor.role == Role.ADMIN:
        return True
    if actor.role != Role.TRAINER:
        return False
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CourseTrainer)
            .where(CourseTrainer.course_id == course_id, CourseTrainer.user_id == actor.id)
        )
    )


def trainers_of(course: Course) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(CourseTrainer, CourseTrainer.user_id == User.id)
            .where(CourseTrainer.course_id == course.id)
            .order_by(User.full_name)
        )
    )


def assign_trainer(course: Course, username: str, actor: User) -> User:
    """Give a trainer the right to edit a course (administrators only, checked by the view)."""
    from lms.accounts.services import find_user_for_login

    user = find_user_for_login(username or "")
    if user is None:
        raise AuthoringError("unknown_user", value=username)
    if user.role != Role.TRAINER:
        raise AuthoringError("not_a_trainer", value=username)
    if not can_edit(user, course.id):
        db.session.add(CourseTrainer(course_id=course.id, user_id=user.id))
        db.session.flush()
        audit.log_event(
            "course.trainer_added", course=course.slug, trainer=user.username, by=actor.username
        )
    return user


def remove_trainer(course: Course, user_id: int, actor: User) -> None:
    db.session.execute(
        sa.delete(CourseTrainer).where(
            CourseTrainer.course_id == course.id, CourseTrainer.user_id == user_id
        )
    )
    audit.log_event(
        "course.trainer_removed", course=course.slug, trainer=user_id, by=actor.username
    )


# ---- modules and lessons -------------------------------------------------------------------


def slugify(title: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", unaccent(title).casefold()).strip("-")
    return text[:60].rstrip("-") or "muc"


# Words used by the editor's own URLs under a course or module: never given as slugs.
RESERVED = {"modules", "trainers", "uploads", "export-zip", "status", "move", "lessons", "learners",
            "quiz", "history", "autosave", "arrange", "preview", "live"}  # fmt: skip


def _unique_slug(title: str, taken: set[str]) -> str:
    taken = taken | RESERVED
    base = slugify(title)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _clean_title(title: str) -> str:
    title = unicodedata.normalize("NFC", title or "").strip()
    if not title:
        raise AuthoringError("title_required")
    if len(title) > 300:
        raise AuthoringError("title_too_long")
    return title


def modules_of(course: Course) -> list[Module]:
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.course_id == course.id)
            .order_by(Module.position, Module.id)
        )
    )


def lessons_of(module: Module) -> list[Lesson]:
    return list(
        db.session.scalars(
            sa.select(Lesson)
            .where(Lesson.module_id == module.id)
            .order_by(Lesson.retired, Lesson.position, Lesson.id)
        )
    )


def create_module(
    course: Course,
    *,
    title: str,
    kind: str,
    summary: str = "",
    pass_mark: int = 80,
    requires_live: bool = False,
) -> Module:
    """A new module, as a draft at the end of the course."""
    title = _clean_title(title)
    existing = modules_of(course)
    module = Module(
        course_id=course.id,
        slug=_unique_slug(title, {m.slug for m in existing}),
        position=max((m.position for m in existing), default=0) + 1,
        title=title,
        kind=ModuleKind(kind),
        summary=summary.strip(),
        status=ModuleStatus.DRAFT,
    )
    update_module(
        module,
        title=title,
        kind=kind,
        summary=summary,
        pass_mark=pass_mark,
        requires_live=requires_live,
    )
    db.session.add(module)
    db.session.flush()
    return module


def update_module(
    module: Module,
    *,
    title: str,
    kind: str,
    summary: str,
    pass_mark: int | None,
    requires_live: bool,
) -> None:
    if pass_mark is None or not 0 <= pass_mark <= 100:
        raise AuthoringError("bad_pass_mark")
    module.title, module.kind = _clean_title(title), ModuleKind(kind)
    module.summary = unicodedata.normalize("NFC", summary or "").strip()
    module.pass_mark, module.requires_live = pass_mark, requires_live


def move(item: Module | Lesson, siblings: list, step: int) -> None:  # type: ignore[type-arg]
    """Swap an item with its neighbour above (-1) or below (+1); positions are renumbered 1..n."""
    order = [s for s in siblings if not getattr(s, "retired", False)]
    index = order.index(item)
    target = index + step
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
    for position, sibling in enumerate(order, 1):
        sibling.position = position


def set_status(module: Module, status: str, actor: User) -> None:
    """Publish (drafts included), take back to draft, or retire a module."""
    module.status = ModuleStatus(status)
    if module.status == ModuleStatus.PUBLISHED:
        for lesson in lessons_of(module):
            if lesson.draft_md is not None and not lesson.retired:
                publish_lesson(lesson, actor)
        quiz = quiz_for_module(module)
        if quiz is not None and quiz.draft_source is not None:
            publish_quiz(quiz, module, actor)
    audit.log_event(
        "module.status", module=module.id, status=module.status.value, by=actor.username
    )


def create_lesson(module: Module, *, title: str, minutes: int, kind: str) -> Lesson:
    """A new, empty lesson at the end of the module (its text starts as a draft)."""
    title = _clean_title(title)
    existing = lessons_of(module)
    lesson = Lesson(
        module_id=module.id,
        slug=_unique_slug(title, {le.slug for le in existing}),
        position=max((le.position for le in existing), default=0) + 1,
        title=title,
        minutes=_check_minutes(minutes),
        kind=LessonKind(kind),
        body_md="",
        body_html="",
        draft_md="",
    )
    db.session.add(lesson)
    db.session.flush()
    return lesson


def _check_minutes(minutes: int | None) -> int:
    if minutes is None or not 1 <= minutes <= 120:
        raise AuthoringError("bad_minutes")
    return minutes


def validate_lesson(body: str) -> None:
    """Raise AuthoringError for a body the learners' pages could not show (with its line)."""
    if len(body) > MAX_LESSON_CHARS:
        raise AuthoringError(
            "too_long",
            chars=f"{len(body):,}".replace(",", "."),
            limit=f"{MAX_LESSON_CHARS:,}".replace(",", "."),
        )
    try:
        render_lesson(body)
    except BlockError as exc:
        raise AuthoringError("block", line=exc.line, reason=str(exc)) from exc


def save_lesson(
    lesson: Lesson,
    actor: User,
    *,
    title: str,
    minutes: int,
    kind: str,
    body: str,
    version: int,
    autosave: bool = False,
) -> None:
    """Save the trainer's text as the lesson's draft, unless someone else saved since (conflict)."""
    body = _clean_text(body)
    if version != lesson.version:
        raise EditConflict(current_text(lesson), lesson.version)
    lesson.title, lesson.minutes, lesson.kind = (
        _clean_title(title),
        _check_minutes(minutes),
        LessonKind(kind),
    )
    if not autosave:
        validate_lesson(body)
    lesson.draft_md = body if body != lesson.body_md else None
    lesson.version += 1
    if not autosave:
        record(RevisionKind.LESSON, lesson.id, actor, body)
    db.session.flush()


def _clean_text(text: str | None) -> str:
    """Authored text as stored: NFC, LF line endings, no NUL (PostgreSQL refuses it)."""
    return unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").replace("\x00", "")


def current_text(lesson: Lesson) -> str:
    """What the editor shows: the draft if there is one, else the published text."""
    return lesson.draft_md if lesson.draft_md is not None else lesson.body_md


def publish_lesson(lesson: Lesson, actor: User) -> None:
    """Make the draft what learners see: rendered, sanitised, blocks upserted by key."""
    body = current_text(lesson)
    validate_lesson(body)
    html, blocks = render_lesson(body)
    lesson.body_md, lesson.body_html, lesson.draft_md = body, html, None
    sync_blocks(lesson, [BlockSpec(b.key, b.kind, data) for b, data in blocks], ImportReport())
    record(RevisionKind.LESSON, lesson.id, actor, body, "published")


# ---- quizzes -------------------------------------------------------------------------------


def gift_errors(source: str) -> list[gift.GiftError]:
    """Every problem in a GIFT text, with line and column."""
    return gift.parse(source, collect_errors=True)[1]


def quiz_text(quiz: Quiz | None) -> str:
    if quiz is None:
        return ""
    return quiz.draft_source if quiz.draft_source is not None else quiz.gift_source


def save_quiz(module: Module, actor: User, source: str, version: int) -> Quiz:
    """Save GIFT as the quiz's draft after checking it; refuse it whole when it has errors."""
    source = _clean_text(source)
    quiz = quiz_for_module(module)
    if quiz is not None and version != quiz.edit_version:
        raise EditConflict(quiz_text(quiz), quiz.edit_version)
    if gift_errors(source):
        raise AuthoringError("gift")
    if quiz is None:
        # Version 0 has no questions; the first publish makes version 1.
        quiz = Quiz(module_id=module.id, version=0, gift_source="", content_hash="")
        db.session.add(quiz)
        db.session.flush()
    quiz.draft_source = source if source != quiz.gift_source else None
    quiz.edit_version += 1
    record(RevisionKind.QUIZ, quiz.id, actor, source)
    return quiz


def publish_quiz(quiz: Quiz, module: Module, actor: User) -> None:
    """Publish the draft: a new version when the questions changed (past attempts untouched)."""
    source = quiz_text(quiz)
    sync_quiz(module, source)
    quiz.draft_source = None
    record(RevisionKind.QUIZ, quiz.id, actor, source, "published")


# ---- what learners wrote, for the module's trainers ----------------------------------------


def reflections_in(module: Module) -> list:  # type: ignore[type-arg]
    """Learners' reflections in the module's lessons, newest first, with who wrote them where."""
    from lms.catalog.models import LessonBlock
    from lms.progress.models import BlockResponse

    return list(
        db.session.execute(
            sa.select(BlockResponse, User, Lesson, LessonBlock)
            .join(User, User.id == BlockResponse.user_id)
            .join(Lesson, Lesson.id == BlockResponse.lesson_id)
            .join(LessonBlock, LessonBlock.id == BlockResponse.block_id)
            .where(Lesson.module_id == module.id, LessonBlock.kind == "reflect")
            .order_by(BlockResponse.updated_dt.desc())
            .limit(500)
        ).all()
    )


def posts_in(module: Module) -> list:  # type: ignore[type-arg]
    """Discussion posts in the module's lessons, newest first, for moderation."""
    from lms.discussion.models import Post

    return list(
        db.session.execute(
            sa.select(Post, User, Lesson)
            .join(User, User.id == Post.user_id)
            .join(Lesson, Lesson.id == Post.lesson_id)
            .where(Lesson.module_id == module.id)
            .order_by(Post.created_dt.desc())
            .limit(500)
        ).all()
    )
