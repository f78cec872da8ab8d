"""Upsert loaded course specs into the catalog, keyed by slugs, in the caller's transaction.

Re-importing unchanged files writes nothing (content hashes). Lessons, blocks and modules that
disappear from the files are retired, never deleted, so learners' records keep their targets.
"""

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from lms import audit
from lms.authoring.loader import CourseSpec, LessonSpec, ModuleSpec
from lms.catalog.models import Course, Lesson, LessonBlock, Module, ModuleStatus
from lms.db import db
from lms.quizzes.services import sync_quiz


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, what: str, outcome: str) -> None:
        self.counts[f"{what}.{outcome}"] += 1

    @property
    def changed(self) -> bool:
        return any(not key.endswith(".unchanged") for key in self.counts)


def import_courses(specs: list[CourseSpec]) -> ImportReport:
    """Create or update every course, module, lesson, block and quiz in the specs."""
    report = ImportReport()
    for spec in specs:
        _import_course(spec, report)
    db.session.flush()
    audit.log_event("courses.imported", **dict(sorted(report.counts.items())))
    return report


def _import_course(spec: CourseSpec, report: ImportReport) -> None:
    course = db.session.scalars(sa.select(Course).where(Course.slug == spec.slug)).first()
    fields = {
        "title": spec.title, "year": spec.year, "summary": spec.summary,
        "language": spec.language, "deadline": spec.deadline,
        "split_members": spec.split_members, "lower_level": spec.lower_level,
        "upper_level": spec.upper_level, "content_hash": spec.content_hash,
    }  # fmt: skip
    course = _upsert(course, Course, {"slug": spec.slug}, fields, "course", report)
    existing = {
        m.slug: m
        for m in db.session.scalars(sa.select(Module).where(Module.course_id == course.id))
    }
    for module_spec in spec.modules:
        _import_module(course, existing.pop(module_spec.slug, None), module_spec, report)
    for gone in existing.values():
        if gone.status != ModuleStatus.RETIRED:
            gone.status = ModuleStatus.RETIRED
            report.add("module", "retired")


def _upsert(row, model, keys: dict, fields: dict, what: str, report: ImportReport):  # type: ignore[no-untyped-def]
    if row is None:
        row = model(**keys, **fields)
        db.session.add(row)
        db.session.flush()
        report.add(what, "created")
    elif any(getattr(row, name) != value for name, value in fields.items()):
        for name, value in fields.items():
            setattr(row, name, value)
        report.add(what, "updated")
    else:
        report.add(what, "unchanged")
    return row


def _import_module(
    course: Course, module: Module | None, spec: ModuleSpec, report: ImportReport
) -> None:
    fields = {
        "title": spec.title, "kind": spec.kind, "summary": spec.summary,
        "pass_mark": spec.pass_mark, "requires_live": spec.requires_live,
        "max_attempts": spec.max_attempts, "position": spec.position,
        "content_hash": spec.content_hash, "status": ModuleStatus.PUBLISHED,
    }  # fmt: skip
    module = _upsert(
        module, Module, {"course_id": course.id, "slug": spec.slug}, fields, "module", report
    )
    existing = {
        le.slug: le
        for le in db.session.scalars(sa.select(Lesson).where(Lesson.module_id == module.id))
    }
    for lesson_spec in spec.lessons:
        _import_lesson(module, existing.pop(lesson_spec.slug, None), lesson_spec, report)
    for gone in existing.values():
        if not gone.retired:
            gone.retired = True
            report.add("lesson", "retired")
    if spec.quiz_source is not None:
        quiz, changed = sync_quiz(module, spec.quiz_source)
        report.add(
            "quiz", "unchanged" if not changed else "created" if quiz.version == 1 else "updated"
        )


def _import_lesson(
    module: Module, lesson: Lesson | None, spec: LessonSpec, report: ImportReport
) -> None:
    fields = {
        "title": spec.title, "minutes": spec.minutes, "kind": spec.kind,
        "body_md": spec.body_md, "body_html": spec.body_html,
        "content_hash": spec.content_hash, "position": spec.position, "retired": False,
    }  # fmt: skip
    # The editor's lock only moves when the text does (renumbering is not an edit).
    text = (spec.body_md, spec.title)
    text_changed = lesson is not None and (lesson.body_md, lesson.title) != text
    lesson = _upsert(
        lesson, Lesson, {"module_id": module.id, "slug": spec.slug}, fields, "lesson", report
    )
    if text_changed:
        lesson.version += 1
    sync_blocks(lesson, spec.blocks, report)


def sync_blocks(lesson: Lesson, specs, report: ImportReport) -> None:  # type: ignore[no-untyped-def]
    """Make the lesson's blocks match the rendered ones, keyed by block key; retire the rest."""
    blocks = {
        b.key: b
        for b in db.session.scalars(
            sa.select(LessonBlock).where(LessonBlock.lesson_id == lesson.id)
        )
    }
    for position, block in enumerate(specs):
        fields = {"kind": block.kind, "position": position, "data": block.data, "retired": False}
        keys = {"lesson_id": lesson.id, "key": block.key}
        _upsert(blocks.pop(block.key, None), LessonBlock, keys, fields, "block", report)
    for gone in blocks.values():
        if not gone.retired:
            gone.retired = True
            report.add("block", "retired")
