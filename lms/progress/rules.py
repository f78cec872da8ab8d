"""Module completion rules, as a registry of small classes (STYLE rule 11).

A module is complete for a learner when every rule holds: all current lessons done, every
reflection in them answered, the quiz passed (if the module has one) and, where the module
requires it, live attendance. Retired lessons no longer count either way.

All the facts the rules need come from one SQL statement (`facts`), so checking completion
after each lesson or quiz costs a single round trip whatever the size of the module.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.catalog.models import BlockKind, Lesson, LessonBlock, Module
from lms.db import db, read_columns
from lms.live.models import Attendance, LiveSession
from lms.progress.models import BlockResponse, LessonProgress
from lms.quizzes.models import Attempt, Quiz


@dataclass(frozen=True)
class Facts:
    pending_lessons: int
    unanswered_reflections: int
    has_quiz: bool
    quiz_passed: bool
    live_confirmed: int = 0


def _facts_statement() -> sa.Select:
    """Counts for every rule of a module (`module_id`) for a person (`user_id`)."""
    module_id, user_id = sa.bindparam("module_id"), sa.bindparam("user_id")
    current = sa.and_(Lesson.module_id == module_id, Lesson.retired.is_(False))
    pending = (
        sa.select(sa.func.count()).select_from(Lesson)
        .outerjoin(LessonProgress, sa.and_(LessonProgress.lesson_id == Lesson.id,
                                           LessonProgress.user_id == user_id))
        .where(current, LessonProgress.completed_dt.is_(None))
    )  # fmt: skip
    unanswered = (
        sa.select(sa.func.count()).select_from(LessonBlock).join(Lesson)
        .outerjoin(BlockResponse, sa.and_(BlockResponse.block_id == LessonBlock.id,
                                          BlockResponse.user_id == user_id))
        .where(current, LessonBlock.kind == BlockKind.REFLECT, LessonBlock.retired.is_(False),
               BlockResponse.id.is_(None))
    )  # fmt: skip
    quizzes = sa.select(sa.func.count()).select_from(Quiz).where(Quiz.module_id == module_id)
    passed = (
        sa.select(sa.func.count()).select_from(Attempt).join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(Quiz.module_id == module_id, Attempt.user_id == user_id, Attempt.passed.is_(True))
    )  # fmt: skip
    attended = (
        sa.select(sa.func.count()).select_from(Attendance)
        .join(LiveSession, LiveSession.id == Attendance.session_id)
        .where(LiveSession.module_id == module_id, LiveSession.cancelled_dt.is_(None),
               Attendance.user_id == user_id, Attendance.confirmed_dt.is_not(None))
    )  # fmt: skip
    return sa.select(
        pending.scalar_subquery(),
        unanswered.scalar_subquery(),
        quizzes.scalar_subquery(),
        passed.scalar_subquery(),
        attended.scalar_subquery(),
    )


# Built once: building it costs several times more CPU than running it (module pages, completions).
_FACTS = _facts_statement()


def facts(user: User, module: Module) -> Facts:
    """Counts for every rule of the module, for this user, in one statement."""
    row = read_columns(_FACTS, {"module_id": module.id, "user_id": user.id}).one()
    return Facts(row[0], row[1], bool(row[2]), bool(row[3]), row[4])


class Rule:
    code = ""
    label: object = ""

    def applies(self, module: Module, facts: Facts) -> bool:
        return True

    def is_met(self, facts: Facts) -> bool:
        raise NotImplementedError


class LessonsDone(Rule):
    code = "lessons"
    label = _l("Study every lesson and mark it as done")

    def is_met(self, facts: Facts) -> bool:
        return facts.pending_lessons == 0


class ReflectionsAnswered(Rule):
    code = "reflections"
    label = _l("Answer the reflection questions in the lessons")

    def is_met(self, facts: Facts) -> bool:
        return facts.unanswered_reflections == 0


class QuizPassed(Rule):
    code = "quiz"
    label = _l("Pass the module quiz")

    def applies(self, module: Module, facts: Facts) -> bool:
        return facts.has_quiz

    def is_met(self, facts: Facts) -> bool:
        return facts.quiz_passed


class LiveAttended(Rule):
    code = "live"
    label = _l("Attend a live session of this module")

    def applies(self, module: Module, facts: Facts) -> bool:
        return module.requires_live

    def is_met(self, facts: Facts) -> bool:
        # Joining is not enough: a trainer must confirm the learner attended a (not cancelled)
        # session of this module.
        return facts.live_confirmed > 0


RULES: list[Rule] = [LessonsDone(), ReflectionsAnswered(), QuizPassed(), LiveAttended()]


@dataclass(frozen=True)
class RuleStatus:
    code: str
    label: str
    met: bool


def status(user: User, module: Module) -> list[RuleStatus]:
    """Each rule that applies to the module, and whether the user meets it."""
    found = facts(user, module)
    return [RuleStatus(r.code, str(r.label), r.is_met(found)) for r in RULES
            if r.applies(module, found)]  # fmt: skip


def all_met(user: User, module: Module) -> bool:
    found = facts(user, module)
    return all(r.is_met(found) for r in RULES if r.applies(module, found))


def unanswered_reflections(user: User, lesson_ids) -> list[int]:  # type: ignore[no-untyped-def]
    """Ids of current reflection blocks in these lessons that the user has not answered."""
    return list(db.session.scalars(
        sa.select(LessonBlock.id)
        .outerjoin(BlockResponse, sa.and_(BlockResponse.block_id == LessonBlock.id,
                                          BlockResponse.user_id == user.id))
        .where(LessonBlock.lesson_id.in_(lesson_ids), LessonBlock.kind == BlockKind.REFLECT,
               LessonBlock.retired.is_(False), BlockResponse.id.is_(None))
    ))  # fmt: skip
