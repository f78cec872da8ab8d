"""What a learner has done: lessons, in-lesson answers, module completions, certificates."""

import enum
import secrets
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.accounts.models import User
from lms.catalog.models import Course, LessonBlock, Module
from lms.db import Model, PathString, utcnow


class CompletionSource(enum.StrEnum):
    ONLINE = "online"
    LIVE = "live"
    EXTERNAL = "external"


class LessonProgress(Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "lesson_id", name="uq_lesson_progress_user_lesson"),
        sa.Index("ix_lesson_progress_user_module", "user_id", "module_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id"), index=True)
    # Kept to answer "continue where you left off" without a write on every page view.
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id"))
    first_seen_dt: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_dt: Mapped[datetime] = mapped_column(default=utcnow)
    completed_dt: Mapped[datetime | None]


class BlockResponse(Model):
    """A learner's answer to an in-lesson block: a check, a reflection (notebook) or a case."""

    __tablename__ = "block_response"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "block_id", name="uq_block_response_user_block"),
        sa.Index("ix_block_response_user_lesson", "user_id", "lesson_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    block_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson_block.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id"))
    value: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow)

    block: Mapped[LessonBlock] = orm.relationship(lazy="raise_on_sql")


class Completion(Model):
    """The fact that a person completed a module; what coverage counts. Revoked with a reason,
    never deleted. At most one standing completion per person and module."""

    __tablename__ = "completion"
    __table_args__ = (
        sa.Index(
            "uq_completion_current",
            "user_id",
            "module_id",
            unique=True,
            sqlite_where=sa.text("revoked_dt IS NULL"),
            postgresql_where=sa.text("revoked_dt IS NULL"),
        ),
        sa.Index("ix_completion_module_completed", "module_id", "completed_dt"),
        # A person's completions, revoked ones too (certificates check both): by person.
        sa.Index("ix_completion_user_module", "user_id", "module_id"),
        # The statements feed pages through completions in the order they were entered.
        sa.Index("ix_completion_recorded", "recorded_dt", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id"))
    source: Mapped[CompletionSource]
    # When it happened (an external class: that day); recorded_dt is when it was entered here.
    completed_dt: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_dt: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    # An external completion: the class it was earned at, and an optional evidence file
    # (stored under a generated name, see lms.progress.evidence).
    class_name: Mapped[str | None] = mapped_column(sa.String(300))
    evidence_file: Mapped[str | None] = mapped_column(sa.String(64))
    evidence_type: Mapped[str | None] = mapped_column(sa.String(32))
    revoked_dt: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(500))

    module: Mapped[Module] = orm.relationship(lazy="raise_on_sql")


class CourseStanding(Model):
    """What coverage counts for one person in one course, kept in step with their completions in
    the same transaction (lms.progress.standing). Days are Vietnam calendar days (COMP-06), kept
    as dates rather than flags so that a report for any as-of day is a comparison, not a recount."""

    __tablename__ = "course_standing"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", name="uq_course_standing_user_course"),
        sa.Index("ix_course_standing_course", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"))
    # The day the last of the course's awareness modules was completed (all of them done).
    awareness_on: Mapped[date | None]
    # The day the last core module was completed, once every core module is.
    core_all_on: Mapped[date | None]
    # The first completion of any of the course's modules: "started" for any as-of day.
    first_on: Mapped[date | None]
    core_done: Mapped[int] = mapped_column(default=0)
    # The sorted days of each core module's completion ("2021-10-01,2021-10-09"): the number
    # done by any as-of day, without reading the completions again.
    core_dates: Mapped[str] = mapped_column(sa.String(1000), default="")
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow)

    def core_done_by(self, as_of: date) -> int:
        return core_done_by(self.core_dates, as_of)



class LearnerActivity(Model):
    """What one person last did in one course, for the dashboard's chairs to contact: the day of
    their latest lesson visit and how many of the course's quizzes they failed twice without
    passing. Kept in step by the visits and submits that change them (lms.progress.activity), so
    the list reads a row per chair instead of searching every chair's visits and attempts."""

    __tablename__ = "learner_activity"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), primary_key=True)
    # The Vietnam day of the latest visit of any lesson of the course (COMP-06).
    last_seen_on: Mapped[date | None]
    failed_quizzes: Mapped[int] = mapped_column(default=0, server_default="0")


class UnitStanding(Model):
    """What one grassroots union adds to the roll-ups of one course, as last counted: its path
    (for its ancestors), sector and size, and its current chair's two days. Kept so that a change
    to a union, its chair or the chair's completions is applied to the roll-ups as a difference
    between the old and new contribution (lms.progress.rollup)."""

    __tablename__ = "unit_standing"

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"), primary_key=True)
    path: Mapped[str] = mapped_column(PathString)
    non_state: Mapped[bool]
    # Trained by the province (members at or above the course's split) rather than the district.
    large: Mapped[bool]
    aware_on: Mapped[date | None]
    trained_on: Mapped[date | None]
    # For the dashboard's funnel, the counted modules the chair has started (opened a lesson of,
    # or completed) and completed, as ordered ids: "21,22,23" and "21".
    modules_started: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    modules_done: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # For the dashboard's chairs to contact, what decides whether to call the chair, so that
    # the list reads one row per union: the chair, whether they activated their account,
    # failed a quiz of the course twice without passing it, the day of their latest lesson
    # visit in the course and of their latest core module. Kept in step by what changes them
    # (a recount of the union, a visit, a graded quiz, a password set; lms.progress.rollup and
    # lms.progress.activity).
    chair_id: Mapped[int | None] = mapped_column(index=True)
    chair_activated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    chair_failed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    chair_seen_on: Mapped[date | None]
    chair_core_on: Mapped[date | None]


# The roll-up row that holds the unions themselves rather than a day's completions: a day before
# any as-of day, so that "day <= as_of" always counts it.
EVER = date(1, 1, 1)


class CoverageRollup(Model):
    """The coverage figures of one scope (an organisation, or 0 for the whole federation) in one
    course, per Vietnam day: how many chairs met each requirement that day. Summed up to an as-of
    day they give the four targets without visiting a single union (province and national
    reports at any size). The EVER row carries the unions counted for each target."""

    __tablename__ = "coverage_rollup"

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), primary_key=True)
    scope_id: Mapped[int] = mapped_column(primary_key=True)  # no foreign key: 0 is everything
    day: Mapped[date] = mapped_column(primary_key=True)
    units: Mapped[int] = mapped_column(default=0)
    units_non_state: Mapped[int] = mapped_column(default=0)
    units_non_state_large: Mapped[int] = mapped_column(default=0)
    aware: Mapped[int] = mapped_column(default=0)
    trained_small: Mapped[int] = mapped_column(default=0)
    trained_large: Mapped[int] = mapped_column(default=0)


class ModuleRollup(Model):
    """The dashboard's funnel for one scope, course and module as it stands today: how many
    chairs started the module (opened a lesson of it, or completed it) and how many completed it,
    among all unions and among the non-state ones. Not per day, unlike CoverageRollup: a day per
    module made 20 times the rows; a funnel for a past day is counted from the chairs."""

    __tablename__ = "module_rollup"

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), primary_key=True)
    scope_id: Mapped[int] = mapped_column(primary_key=True)  # no foreign key: 0 is everything
    module_id: Mapped[int] = mapped_column(primary_key=True)  # derived rows, rebuilt: no key
    started: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    started_non_state: Mapped[int] = mapped_column(default=0)
    done_non_state: Mapped[int] = mapped_column(default=0)


def core_done_by(core_dates: str, as_of: date) -> int:
    """How many of the days in a core_dates string fall on or before as_of."""
    day = as_of.isoformat()
    return sum(1 for d in core_dates.split(",") if d and d <= day)


def new_certificate_code() -> str:
    # 10 characters from an alphabet without look-alikes, easy to read over the phone.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Certificate(Model):
    """A certificate for one module, or for a whole course (module_id empty)."""

    __tablename__ = "certificate"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", "module_id", name="uq_certificate_user_scope"),
        # NULLs are distinct in the constraint above: this one allows one course certificate.
        sa.Index(
            "uq_certificate_user_course",
            "user_id",
            "course_id",
            unique=True,
            sqlite_where=sa.text("module_id IS NULL"),
            postgresql_where=sa.text("module_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_certificate_code)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"))
    module_id: Mapped[int | None] = mapped_column(sa.ForeignKey("module.id"))
    issued_dt: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = orm.relationship(lazy="raise_on_sql")
    course: Mapped[Course] = orm.relationship(lazy="raise_on_sql")
    module: Mapped[Module | None] = orm.relationship(lazy="raise_on_sql")
