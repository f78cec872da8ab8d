"""A learner's progress: what they must do, lessons read and done, in-lesson answers, and the
module completions those lead to. Reads are shaped for few SQL statements per page."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.accounts.models import User
from lms.catalog.models import (
    BlockKind,
    Course,
    Lesson,
    LessonBlock,
    LessonKind,
    Module,
    ModuleKind,
    ModuleStatus,
)
from lms.db import db, read_columns, upsert, utcnow, vn_today
from lms.live.models import Attendance, LiveSession
from lms.orgs import services as orgs
from lms.orgs.models import Position, Sector
from lms.progress import activity, rollup, rules, standing
from lms.progress.models import BlockResponse, Completion, CompletionSource, LessonProgress
from lms.quizzes.models import Quiz

# A revisit refreshes "last seen" at most this often, so reading a lesson costs no write.
VISIT_REFRESH = timedelta(minutes=10)


class ProgressError(ValueError):
    """A learner action that the rules refuse; `code` names the rule."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


MESSAGES = {
    "reflection_missing": _l(
        "Please write your answer to the reflection question(s) before marking this lesson as done."
    ),
    "empty_reflection": _l("Your reflection is empty. Write a few lines, then save."),
    "reflection_too_long": _l("Your reflection is too long (at most 5.000 characters)."),
    "no_choice": _l("Please choose one of the options."),
}


def message(error: ProgressError) -> str:
    return str(MESSAGES[error.code])


# ---- what a person must do -----------------------------------------------------------------


_PUBLISHED_COURSES = (
    sa.select(Course)
    .where(Course.published.is_(True))
    .order_by(Course.year.desc(), Course.id.desc())
)


def published_courses() -> list[Course]:
    """Courses open to learners, newest year first."""
    return list(db.session.scalars(_PUBLISHED_COURSES))


def required_kinds(user: User, positions: list | None = None) -> set[ModuleKind]:
    """Chairs of non-state unions must complete every module; other chairs the awareness one.
    A page that has loaded the user's positions already passes them (no second query)."""
    positions = orgs.positions_of(user) if positions is None else positions
    chairs = [p for p in positions if p.position == Position.CHAIR]
    if any(p.org.sector == Sector.NON_STATE for p in chairs):
        return {ModuleKind.AWARENESS, ModuleKind.CORE}
    return {ModuleKind.AWARENESS} if chairs else set()


def get_course(slug: str) -> Course | None:
    return db.session.scalars(
        sa.select(Course).where(Course.slug == slug, Course.published.is_(True))
    ).first()


# The pages' hot statements are built once: building one costs more CPU than running it, and a
# statement kept whole also keeps its cache key, so each request only binds its values.
_MODULE_BY_SLUGS = (
    sa.select(Module)
    .join(Course)
    .where(
        Course.slug == sa.bindparam("course_slug"),
        Course.published.is_(True),
        Module.slug == sa.bindparam("module_slug"),
        Module.status == ModuleStatus.PUBLISHED,
    )
    .options(sa.orm.contains_eager(Module.course))
)
def _lesson_by_slugs(*columns) -> sa.Select:  # type: ignore[no-untyped-def]
    """A current lesson of a published module of a published course, by its three slugs."""
    return (
        sa.select(*columns)
        .select_from(Lesson)
        .join(Module)
        .join(Course)
        .where(
            Course.slug == sa.bindparam("course_slug"),
            Course.published.is_(True),
            Module.slug == sa.bindparam("module_slug"),
            Module.status == ModuleStatus.PUBLISHED,
            Lesson.slug == sa.bindparam("lesson_slug"),
            Lesson.retired.is_(False),
        )
    )


_LESSON_BY_SLUGS = _lesson_by_slugs(Lesson).options(
    sa.orm.contains_eager(Lesson.module).contains_eager(Module.course)
)


class ModuleRef(NamedTuple):
    id: int
    slug: str
    title: str


class CourseRef(NamedTuple):
    slug: str
    title: str


class LessonPage(NamedTuple):
    """A lesson as its page shows it, with its module and course: plain columns, no ORM
    objects (the most requested page; three entities cost more than the statement)."""

    id: int
    module_id: int
    slug: str
    title: str
    minutes: int
    kind: LessonKind
    body_html: str
    module: ModuleRef
    course: CourseRef


_LESSON_PAGE = _lesson_by_slugs(
    *(getattr(Lesson, name) for name in LessonPage._fields[:-2]),
    Module.id, Module.slug, Module.title, Course.slug, Course.title,
)  # fmt: skip


def get_module(course_slug: str, module_slug: str) -> Module | None:
    """A published module of a published course, with its course loaded."""
    params = {"course_slug": course_slug, "module_slug": module_slug}
    return db.session.scalars(_MODULE_BY_SLUGS, params).first()


def get_lesson(course_slug: str, module_slug: str, lesson_slug: str) -> Lesson | None:
    """A current lesson of a published module, with module and course loaded (one query)."""
    params = {"course_slug": course_slug, "module_slug": module_slug, "lesson_slug": lesson_slug}
    return db.session.scalars(_LESSON_BY_SLUGS, params).first()


def lesson_page(course_slug: str, module_slug: str, lesson_slug: str) -> LessonPage | None:
    """What get_lesson finds, as plain values for the lesson page (one query)."""
    params = {"course_slug": course_slug, "module_slug": module_slug, "lesson_slug": lesson_slug}
    row = read_columns(_LESSON_PAGE, params).first()
    if row is None:
        return None
    width = len(LessonPage._fields) - 2
    return LessonPage(*row[:width], ModuleRef(*row[width : width + 3]), CourseRef(*row[-2:]))


# ---- progress read models ------------------------------------------------------------------


class LessonItem(NamedTuple):
    """What lists of lessons show: plain columns, no ORM object (a home page lists hundreds)."""

    id: int
    module_id: int
    slug: str
    title: str
    minutes: int
    kind: LessonKind


@dataclass
class LessonState:
    lesson: LessonItem
    seen: bool = False
    done: bool = False
    last_seen_dt: object = None


@dataclass
class ModuleState:
    module: Module
    lessons: list[LessonState] = field(default_factory=list)
    completion: Completion | None = None
    required: bool = False

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.lessons if s.done)

    @property
    def percent(self) -> int:
        if self.completion is not None:
            return 100
        return round(100 * self.done_count / len(self.lessons)) if self.lessons else 0

    @property
    def next_lesson(self) -> LessonState | None:
        """Continue where the learner left off: the last seen unfinished lesson, else the first
        unfinished one."""
        pending = [s for s in self.lessons if not s.done]
        seen = [s for s in pending if s.seen]
        if seen:
            return max(seen, key=lambda s: s.last_seen_dt)  # type: ignore[arg-type,return-value]
        return pending[0] if pending else None


_LESSONS_WITH_PROGRESS = (
    sa.select(
        *(getattr(Lesson, name) for name in LessonItem._fields),
        LessonProgress.lesson_id.label("progress_of"),
        LessonProgress.completed_dt,
        LessonProgress.last_seen_dt,
    )
    .outerjoin(
        LessonProgress,
        sa.and_(
            LessonProgress.lesson_id == Lesson.id,
            LessonProgress.user_id == sa.bindparam("user_id"),
        ),
    )
    .where(Lesson.module_id.in_(sa.bindparam("module_ids", expanding=True)))
    .where(Lesson.retired.is_(False))
    .order_by(Lesson.module_id, Lesson.position, Lesson.id)
)


def module_lessons(user: User, module_ids: list[int]) -> dict[int, list[LessonState]]:
    """Current lessons of the modules, in order, with the user's progress: one query."""
    params = {"user_id": user.id, "module_ids": list(module_ids)}
    result: dict[int, list[LessonState]] = {i: [] for i in module_ids}
    width = len(LessonItem._fields)
    for row in read_columns(_LESSONS_WITH_PROGRESS, params):
        item = LessonItem(*row[:width])
        seen = row.progress_of is not None
        result[item.module_id].append(
            LessonState(item, seen=seen, done=bool(row.completed_dt), last_seen_dt=row.last_seen_dt)
        )
    return result


_STANDING_COMPLETIONS = sa.select(Completion).where(
    Completion.user_id == sa.bindparam("user_id"),
    Completion.module_id.in_(sa.bindparam("module_ids", expanding=True)),
    Completion.revoked_dt.is_(None),
)


def completions_of(user: User, module_ids: list[int]) -> dict[int, Completion]:
    """The user's standing completions of these modules."""
    params = {"user_id": user.id, "module_ids": list(module_ids)}
    return {c.module_id: c for c in db.session.scalars(_STANDING_COMPLETIONS, params)}


def course_overview(user: User, course: Course) -> list[ModuleState]:
    """Every published module of the course with the user's progress (four queries)."""
    return courses_overview(user, [course])[course.id]


def courses_overview(
    user: User, courses: list[Course], kinds: set[ModuleKind] | None = None
) -> dict[int, list[ModuleState]]:
    """course_overview for several courses at once: the same queries however many courses."""
    modules = db.session.scalars(
        sa.select(Module)
        .where(
            Module.course_id.in_([c.id for c in courses]),
            Module.status == ModuleStatus.PUBLISHED,
        )
        .order_by(Module.position, Module.id)
    ).all()
    ids = [m.id for m in modules]
    lessons, done = module_lessons(user, ids), completions_of(user, ids)
    kinds = required_kinds(user) if kinds is None else kinds
    result: dict[int, list[ModuleState]] = {c.id: [] for c in courses}
    for m in modules:
        result[m.course_id].append(ModuleState(m, lessons[m.id], done.get(m.id), m.kind in kinds))
    return result


@dataclass(frozen=True)
class Visit:
    """A lesson visit to record: plain values, so it can be written after the page's reads end."""

    user_id: int
    lesson_id: int
    module_id: int
    seen: bool
    first_in_module: bool = True  # no lesson of the module seen yet: the funnel counts it
    new_day: bool = True  # no lesson of the module seen today: the course's day is written


def pending_visit(
    user: User,
    lesson: Lesson | LessonPage,
    state: LessonState | None,
    module_lessons: list[LessonState] | None = None,
) -> Visit | None:
    """The visit to record for 'continue where you left off', or None when a recent one stands
    (so reading a lesson again costs no write)."""
    seen = state is not None and state.seen
    if seen and state.last_seen_dt and state.last_seen_dt > utcnow() - VISIT_REFRESH:  # type: ignore[union-attr,operator]
        return None
    lessons = module_lessons or ()
    first = not any(s.seen for s in lessons)
    # Every write of a visit time also moves the course's last-seen day (activity), so a
    # lesson of the module already seen today means that day is written.
    today = vn_today()
    new_day = not any(s.last_seen_dt and standing.vn_day(s.last_seen_dt) == today for s in lessons)  # type: ignore[arg-type]
    return Visit(user.id, lesson.id, lesson.module_id, seen, first, new_day)


def record_visit(visit: Visit) -> None:
    """Write a visit with statements that read nothing first: run in a fresh transaction, SQLite
    then waits for the write lock instead of refusing a reader that turned writer."""
    if visit.new_day:
        activity.seen_today(visit.user_id, visit.module_id)
    if visit.seen:
        db.session.execute(
            sa.update(LessonProgress)
            .where(
                LessonProgress.user_id == visit.user_id,
                LessonProgress.lesson_id == visit.lesson_id,
            )
            .values(last_seen_dt=utcnow())
        )
        return
    now = utcnow()
    # Opened twice at once, the other request's row stands. Written as a statement rather than
    # an ORM object, which the roll-ups would take for a first visit of the module every time:
    # only the first lesson of a module changes the funnel, and only that one marks the chair.
    db.session.execute(
        upsert(LessonProgress)
        .values(user_id=visit.user_id, lesson_id=visit.lesson_id, module_id=visit.module_id,
                first_seen_dt=now, last_seen_dt=now)  # fmt: skip
        .on_conflict_do_nothing(index_elements=["user_id", "lesson_id"])
    )
    if visit.first_in_module:
        rollup.mark_opened(db.session(), visit.user_id, visit.module_id)


# ---- in-lesson blocks ----------------------------------------------------------------------


class BlockItem(NamedTuple):
    """A lesson block as the lesson page shows it: plain columns, no ORM object."""

    id: int
    lesson_id: int
    key: str
    kind: BlockKind
    data: dict


class ResponseItem(NamedTuple):
    """The learner's stored answer to a block, as the lesson page shows it."""

    value: dict
    updated_dt: datetime


_BLOCKS_WITH_RESPONSES = (
    sa.select(
        *(getattr(LessonBlock, name) for name in BlockItem._fields),
        BlockResponse.id.label("response_id"),
        BlockResponse.value,
        BlockResponse.updated_dt,
    )
    .outerjoin(
        BlockResponse,
        sa.and_(
            BlockResponse.block_id == LessonBlock.id,
            BlockResponse.user_id == sa.bindparam("user_id"),
        ),
    )
    .where(LessonBlock.lesson_id == sa.bindparam("lesson_id"), LessonBlock.retired.is_(False))
    .order_by(LessonBlock.position)
)


def blocks_with_responses(
    user: User, lesson: Lesson | LessonPage
) -> list[tuple[BlockItem, ResponseItem | None]]:
    """The lesson's current blocks and this user's answers to them (one query)."""
    params = {"user_id": user.id, "lesson_id": lesson.id}
    width = len(BlockItem._fields)
    return [
        (
            BlockItem(*row[:width]),
            None if row.response_id is None else ResponseItem(row.value, row.updated_dt),
        )
        for row in read_columns(_BLOCKS_WITH_RESPONSES, params)
    ]


def get_block(lesson: Lesson, key: str, kind: BlockKind) -> LessonBlock | None:
    return db.session.scalars(
        sa.select(LessonBlock).where(
            LessonBlock.lesson_id == lesson.id,
            LessonBlock.key == key,
            LessonBlock.kind == kind,
            LessonBlock.retired.is_(False),
        )
    ).first()


def _save_response(user: User, block: LessonBlock, value: dict) -> BlockResponse:
    response = db.session.scalars(
        sa.select(BlockResponse).where(
            BlockResponse.user_id == user.id, BlockResponse.block_id == block.id
        )
    ).first()
    if response is None:
        response = BlockResponse(
            user_id=user.id, block_id=block.id, lesson_id=block.lesson_id, value=value
        )
        db.session.add(response)
    else:
        response.value = value
        response.updated_dt = utcnow()
    db.session.flush()
    return response


def save_reflection(user: User, block: LessonBlock, text: str) -> BlockResponse:
    """Save (or edit) the learner's answer to a reflection prompt, in their notebook."""
    text = (text or "").strip()
    if not text:
        raise ProgressError("empty_reflection")
    if len(text) > 5000:
        raise ProgressError("reflection_too_long")
    return _save_response(user, block, {"text": text})


def choose_case(user: User, block: LessonBlock, choice: int | None) -> BlockResponse:
    """Record the option the learner chose in a case study (they may change their mind)."""
    if choice is None or not 0 <= choice < len(block.data.get("choices", [])):
        raise ProgressError("no_choice")
    return _save_response(user, block, {"choice": choice})


def answer_check(user: User, block: LessonBlock, answer: dict, score: float) -> BlockResponse:
    """Record the learner's answer to a knowledge check and its server-side score."""
    return _save_response(user, block, {"answer": answer, "score": score})


# ---- completing lessons and modules --------------------------------------------------------


def complete_lesson(user: User, lesson: Lesson) -> Completion | None:
    """Mark a lesson done (its reflections must be answered); complete the module if it was last."""
    missing = rules.unanswered_reflections(user, [lesson.id])
    if missing:
        raise ProgressError("reflection_missing")
    progress = _progress_of(user, lesson)
    if progress is None:
        with db.session.begin_nested() as nested:
            progress = LessonProgress(
                user_id=user.id, lesson_id=lesson.id, module_id=lesson.module_id
            )
            db.session.add(progress)
            try:
                db.session.flush()
            except sa.exc.IntegrityError:
                nested.rollback()  # marked done twice at once: use the other request's row
                progress = None
        if progress is not None:  # a visit time written: the last-seen day follows it
            activity.seen_today(user.id, lesson.module_id)
        progress = progress or _progress_of(user, lesson)
    if progress is not None and progress.completed_dt is None:
        progress.completed_dt = utcnow()
    db.session.flush()
    return complete_module_if_done(user, lesson.module)


def _progress_of(user: User, lesson: Lesson) -> LessonProgress | None:
    return db.session.scalars(
        sa.select(LessonProgress).where(
            LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id
        )
    ).first()


def complete_module_if_done(user: User, module: Module) -> Completion | None:
    """Write the single online Completion when every rule of the module holds."""
    if not rules.all_met(user, module):
        return None
    return record_completion(user, module, CompletionSource.ONLINE)


def record_completion(
    user: User,
    module: Module,
    source: CompletionSource,
    *,
    recorded_by: User | None = None,
    note: str | None = None,
    when=None,
    class_name: str | None = None,
    evidence: tuple[str, str] | None = None,
) -> Completion:  # type: ignore[no-untyped-def]
    """Write a completion unless one stands already (then return it): one per person and module.

    `when` is when it happened (for a class, that day); the row also keeps when it was entered.
    An external completion carries its class and, optionally, (stored file name, content type)
    of its evidence."""
    existing = completions_of(user, [module.id]).get(module.id)
    if existing is not None:
        return existing
    now = utcnow()
    completion: Completion | None = Completion(
        user_id=user.id,
        module_id=module.id,
        source=source,
        note=note,
        recorded_by_id=recorded_by.id if recorded_by else None,
        completed_dt=when or now,
        recorded_dt=now,
        class_name=class_name,
        evidence_file=evidence[0] if evidence else None,
        evidence_type=evidence[1] if evidence else None,
    )
    with db.session.begin_nested() as nested:
        db.session.add(completion)
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            nested.rollback()  # a concurrent request completed it first: keep that one
            completion = None
    if completion is None:  # read after the savepoint has closed, as the session requires
        return completions_of(user, [module.id])[module.id]
    standing.refresh_for(user.id, module)  # coverage aggregates, in this same transaction
    audit.log_event("completion.recorded", user=user.id, module=module.id, source=source.value)
    from lms.progress.certificates import issue_certificates

    issue_certificates(user, module)
    return completion


def revoke_completion(
    completion: Completion, actor: User | None, reason: str, *, fall_back_online: bool = True
) -> None:
    """Withdraw a completion, with a reason; the row stays for the record. `actor` None is the
    command line. `fall_back_online=False` when another completion is about to replace it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a reason is required to revoke a completion")
    completion.revoked_dt = utcnow()
    completion.revoked_by_id = actor.id if actor else None
    completion.revoke_reason = reason[:500]
    db.session.flush()
    standing.refresh(completion.user_id, _course_of(completion.module_id))
    audit.log_event(
        "completion.revoked",
        completion=completion.id,
        by=actor.username if actor else "cli",
        reason=reason,
    )
    if fall_back_online and completion.source != CompletionSource.ONLINE:
        _complete_online_instead(completion)


def _complete_online_instead(completion: Completion) -> None:
    """A live or external completion taken back from someone whose own online work meets the
    module's rules: that work completes it now (while the other one stood, finishing the
    lessons wrote nothing). A module with no lessons and no quiz is never done online."""
    module = db.session.get(Module, completion.module_id)
    lessons = sa.select(Lesson.id).where(Lesson.module_id == module.id, Lesson.retired.is_(False))
    quizzes = sa.select(Quiz.id).where(Quiz.module_id == module.id)
    if not db.session.scalar(sa.select(sa.or_(lessons.exists(), quizzes.exists()))):
        return
    user = db.session.get(User, completion.user_id)
    complete_module_if_done(user, module)  # type: ignore[arg-type]


def _course_of(module_id: int) -> int:
    return db.session.scalar(sa.select(Module.course_id).where(Module.id == module_id))  # type: ignore[return-value]


def notebook(user: User) -> list[tuple[BlockResponse, LessonBlock, Lesson, Module, Course]]:
    """The learner's reflections, newest first, with where each was written."""
    return list(
        db.session.execute(
            sa.select(BlockResponse, LessonBlock, Lesson, Module, Course)
            .join(LessonBlock, LessonBlock.id == BlockResponse.block_id)
            .join(Lesson, Lesson.id == LessonBlock.lesson_id)
            .join(Module)
            .join(Course)
            .where(BlockResponse.user_id == user.id, LessonBlock.kind == BlockKind.REFLECT)
            .order_by(BlockResponse.updated_dt.desc())
        ).all()
    )


def next_after(user: User, lesson: Lesson) -> LessonItem | None:
    """The next lesson of the module after this one that the user has not finished."""
    states = module_lessons(user, [lesson.module_id])[lesson.module_id]
    index = next(i for i, s in enumerate(states) if s.lesson.id == lesson.id)
    later = [s for s in states[index + 1 :] if not s.done] or [
        s for s in states[:index] if not s.done
    ]
    return later[0].lesson if later else None


# ---- signals from other rooms --------------------------------------------------------------


def on_attempt_graded(attempt, *, user: User, module: Module, **_kw: object) -> None:  # type: ignore[no-untyped-def]
    """A passed quiz may be the last step of a module: complete it in the same transaction.
    A second or later attempt may change the quizzes failed twice (the chairs to contact)."""
    activity.quiz_graded(user.id, module.course_id, attempt.attempt_no)
    if attempt.passed:
        complete_module_if_done(user, module)


def on_attendance_confirmed(  # type: ignore[no-untyped-def]
    session, *, user: User, module: Module, covers_module: bool, when=None, **_kw: object
) -> None:
    """Confirmed attendance: a covering session completes the module (source `live`); otherwise
    it may be the last rule of a module that requires live attendance."""
    if covers_module:
        record_completion(user, module, CompletionSource.LIVE, recorded_by=None, when=when)
    else:
        complete_module_if_done(user, module)


def on_attendance_withdrawn(  # type: ignore[no-untyped-def]
    session, *, user: User, module: Module, covers_module: bool, actor: User, **_kw: object
) -> None:
    """A confirmation taken back: revoke the completion it produced, unless something else
    (another covering session, or the module's rules still met) supports it."""
    completion = completions_of(user, [module.id]).get(module.id)
    if completion is None:
        return
    if covers_module:
        if completion.source != CompletionSource.LIVE or _other_covering_attendance(user, module):
            return
    elif not module.requires_live or completion.source != CompletionSource.ONLINE:
        return
    elif rules.all_met(user, module):
        return
    reason = _("Attendance at the live session “%(title)s” was withdrawn.", title=session.title)
    revoke_completion(completion, actor, reason)


def _other_covering_attendance(user: User, module: Module) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Attendance)
            .join(LiveSession, LiveSession.id == Attendance.session_id)
            .where(
                LiveSession.module_id == module.id,
                LiveSession.covers_module.is_(True),
                LiveSession.cancelled_dt.is_(None),
                Attendance.user_id == user.id,
                Attendance.confirmed_dt.is_not(None),
            )
        )
    )


def connect_signals() -> None:
    from lms.live.signals import attendance_confirmed, attendance_withdrawn
    from lms.quizzes.signals import attempt_graded

    attempt_graded.connect(on_attempt_graded)
    attendance_confirmed.connect(on_attendance_confirmed)
    attendance_withdrawn.connect(on_attendance_withdrawn)
    standing.connect()
    rollup.connect()


def overall_percent(states: list[ModuleState], *, required_only: bool = False) -> int:
    """Share of lessons done across modules (completed modules count in full)."""
    chosen = [s for s in states if s.required] if required_only else states
    total = sum(len(s.lessons) for s in chosen)
    done = sum(len(s.lessons) if s.completion else s.done_count for s in chosen)
    return round(100 * done / total) if total else 0
