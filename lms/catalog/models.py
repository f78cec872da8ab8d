"""Courses, modules, lessons and the interactive blocks inside lessons."""

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, utcnow


class ModuleKind(enum.StrEnum):
    AWARENESS = "awareness"
    CORE = "core"


class ModuleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class LessonKind(enum.StrEnum):
    READING = "reading"
    CASE = "case"
    PRACTICE = "practice"

    @property
    def label(self) -> str:
        return str(LESSON_KIND_LABELS[self])


LESSON_KIND_LABELS = {
    LessonKind.READING: _l("Reading"),
    LessonKind.CASE: _l("Case study"),
    LessonKind.PRACTICE: _l("Practice"),
}


class BlockKind(enum.StrEnum):
    CHECK = "check"
    REFLECT = "reflect"
    CASE = "case"


class Course(Model):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    year: Mapped[int]
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    language: Mapped[str] = mapped_column(sa.String(8), default="vi")
    deadline: Mapped[date | None]
    # Unions with at least this many members are trained by the upper level.
    split_members: Mapped[int] = mapped_column(default=1000)
    lower_level: Mapped[str] = mapped_column(sa.String(100), default="LĐLĐ huyện")
    upper_level: Mapped[str] = mapped_column(sa.String(100), default="LĐLĐ tỉnh")
    published: Mapped[bool] = mapped_column(default=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    modules: Mapped[list["Module"]] = orm.relationship(
        back_populates="course", order_by="Module.position", lazy="raise_on_sql"
    )


class Module(Model):
    __tablename__ = "module"
    __table_args__ = (sa.UniqueConstraint("course_id", "slug", name="uq_module_course_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The old course, kind and status are loaded when one is set, even on an expired row: the
    # coverage rows are recounted only when what counts changed (lms.progress.standing).
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id"), index=True, active_history=True
    )
    slug: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[ModuleKind] = mapped_column(active_history=True)
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    pass_mark: Mapped[int] = mapped_column(default=80)
    requires_live: Mapped[bool] = mapped_column(default=False)
    max_attempts: Mapped[int | None]
    status: Mapped[ModuleStatus] = mapped_column(
        default=ModuleStatus.PUBLISHED, active_history=True
    )
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")

    course: Mapped[Course] = orm.relationship(back_populates="modules", lazy="raise_on_sql")
    lessons: Mapped[list["Lesson"]] = orm.relationship(
        back_populates="module", order_by="Lesson.position", lazy="raise_on_sql"
    )

    @property
    def is_published(self) -> bool:
        return self.status == ModuleStatus.PUBLISHED


class Lesson(Model):
    __tablename__ = "lesson"
    __table_args__ = (sa.UniqueConstraint("module_id", "slug", name="uq_lesson_module_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(300))
    minutes: Mapped[int] = mapped_column(default=5)
    kind: Mapped[LessonKind] = mapped_column(default=LessonKind.READING)
    body_md: Mapped[str] = mapped_column(sa.Text, default="")
    # Rendered and sanitised once at import; holds <!--block:KEY--> markers where blocks go.
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    # A lesson removed from the files is retired, never deleted: completions refer to it.
    retired: Mapped[bool] = mapped_column(default=False)
    # Optimistic lock for the web editor: every saved edit bumps it.
    version: Mapped[int] = mapped_column(default=1)
    # A trainer's unpublished edit (Markdown); learners keep seeing body_html until it is published.
    draft_md: Mapped[str | None] = mapped_column(sa.Text)

    module: Mapped[Module] = orm.relationship(back_populates="lessons", lazy="raise_on_sql")
    blocks: Mapped[list["LessonBlock"]] = orm.relationship(
        back_populates="lesson", order_by="LessonBlock.position", lazy="raise_on_sql"
    )


class LessonBlock(Model):
    """A knowledge check, reflection prompt or case study inside a lesson, keyed for answers."""

    __tablename__ = "lesson_block"
    __table_args__ = (sa.UniqueConstraint("lesson_id", "key", name="uq_lesson_block_lesson_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id"), index=True)
    key: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[BlockKind]
    position: Mapped[int] = mapped_column(default=0)
    # Rendered, sanitised content; for a check also its answer key (never sent to a browser).
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    retired: Mapped[bool] = mapped_column(default=False)

    lesson: Mapped[Lesson] = orm.relationship(back_populates="blocks", lazy="raise_on_sql")


class CourseTrainer(Model):
    """A trainer assigned to a course by an administrator: they may edit it and see its learners'
    reflections and discussion."""

    __tablename__ = "course_trainer"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "user_id", name="uq_course_trainer_course_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
