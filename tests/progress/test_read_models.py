"""The lesson lists and lookups built once per process bind each request's own values: one
person's progress never shows in another's list, and each slug finds its own lesson."""

from lms.catalog.models import LessonKind, ModuleStatus
from lms.db import db, utcnow
from lms.progress import rules, services
from lms.progress.models import LessonProgress
from tests.factories import make_course, make_lesson, make_module, make_user


def test_each_person_gets_their_own_progress_in_the_same_process(app_ctx) -> None:
    course = make_course("khoa")
    first, second = make_module(course, "mot"), make_module(course, "hai", position=2)
    a1 = make_lesson(first, "a1", title="Bài A1", minutes=7, kind=LessonKind.CASE)
    a2 = make_lesson(first, "a2", position=2)
    b1 = make_lesson(second, "b1")
    make_lesson(first, "cu", position=3, retired=True)
    reader, other = make_user(), make_user()
    db.session.add(LessonProgress(user_id=reader.id, lesson_id=a2.id, module_id=first.id,
                                  completed_dt=utcnow()))  # fmt: skip
    db.session.flush()

    mine = services.module_lessons(reader, [first.id, second.id])
    theirs = services.module_lessons(other, [first.id])
    assert [(s.lesson.slug, s.seen, s.done) for s in mine[first.id]] == [
        ("a1", False, False), ("a2", True, True)]  # fmt: skip
    assert [s.lesson.id for s in mine[second.id]] == [b1.id]
    assert [(s.lesson.slug, s.seen, s.done) for s in theirs[first.id]] == [
        ("a1", False, False), ("a2", False, False)]  # fmt: skip
    item = mine[first.id][0].lesson
    assert (item.id, item.title, item.minutes) == (a1.id, "Bài A1", 7)
    assert item.kind.label == "Tình huống"
    assert services.module_lessons(reader, []) == {}

    assert rules.facts(reader, first).pending_lessons == 1
    assert rules.facts(other, first).pending_lessons == 2


def test_each_slug_finds_its_own_lesson(app_ctx) -> None:
    course = make_course("khoa")
    module = make_module(course, "mot")
    one, two = make_lesson(module, "mot"), make_lesson(module, "hai", position=2)
    assert services.get_lesson("khoa", "mot", "mot") is one
    assert services.get_lesson("khoa", "mot", "hai") is two
    assert services.get_lesson("khoa", "hai", "mot") is None
    assert services.get_module("khoa", "mot") is module
    assert services.get_module("khoa", "khac") is None


def test_the_lesson_page_reads_what_get_lesson_finds(app_ctx) -> None:
    course = make_course("khoa", title="Khóa học")
    module = make_module(course, "mot", title="Chuyên đề một")
    found = make_lesson(module, "bai", title="Bài", minutes=4, kind=LessonKind.PRACTICE)
    make_lesson(module, "cu", position=2, retired=True)
    page = services.lesson_page("khoa", "mot", "bai")
    assert page is not None
    assert (page.id, page.module_id, page.slug, page.title, page.minutes, page.kind) == (
        found.id, module.id, "bai", "Bài", 4, LessonKind.PRACTICE)  # fmt: skip
    assert page.body_html == found.body_html
    assert page.module == (module.id, "mot", "Chuyên đề một")
    assert page.course == ("khoa", "Khóa học")
    assert services.lesson_page("khoa", "mot", "cu") is None  # retired, as get_lesson
    module.status = ModuleStatus.DRAFT
    db.session.flush()
    assert services.lesson_page("khoa", "mot", "bai") is None
    assert services.get_lesson("khoa", "mot", "bai") is None


def test_the_plain_column_reads_see_changes_not_yet_flushed(app_ctx) -> None:
    """They run on the connection, below the session; pending changes are flushed first, as
    Session.execute would."""
    course = make_course("khoa")
    module = make_module(course, "mot")
    lesson = make_lesson(module, "bai")
    reader = make_user()
    db.session.add(LessonProgress(user_id=reader.id, lesson_id=lesson.id, module_id=module.id))
    states = services.module_lessons(reader, [module.id])[module.id]
    assert [(s.lesson.id, s.seen) for s in states] == [(lesson.id, True)]
    module.status = ModuleStatus.DRAFT
    assert services.lesson_page("khoa", "mot", "bai") is None
