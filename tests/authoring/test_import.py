"""courses/ → database: validation with file and line, one transaction, stable keys, retiring."""

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.authoring.importer import import_courses
from lms.authoring.loader import ContentErrors, load_courses
from lms.catalog.models import Course, Lesson, LessonBlock, Module
from lms.db import db
from lms.quizzes.models import Question, Quiz

COURSES = Path(__file__).resolve().parents[2] / "courses"
SHIPPED = COURSES / "chu-de-2021"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped course."""
    target = tmp_path / "courses" / "chu-de-2021"
    shutil.copytree(SHIPPED, target)
    return target


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_the_shipped_course_is_valid_and_complete(app_ctx) -> None:
    [course] = load_courses(COURSES)
    assert course.slug == "chu-de-2021"
    kinds = [m.kind for m in course.modules]
    assert kinds == ["awareness", "core", "core", "core", "core"]
    for module in course.modules:
        questions = module.quiz_source.count("::") // 2
        if module.kind == "core":
            assert len(module.lessons) >= 4, module.slug
            assert questions >= 12, module.slug
            assert any(le.kind == "case" for le in module.lessons), module.slug
            assert any(b.kind == "case" for le in module.lessons for b in le.blocks), module.slug
        assert any(b.kind == "reflect" for le in module.lessons for b in le.blocks), module.slug
        for lesson in module.lessons:
            assert 5 <= lesson.minutes <= 10, lesson.path
            assert "### Căn cứ" in lesson.body_md, lesson.path


def test_cli_imports_five_modules_then_changes_nothing(runner) -> None:
    result = runner.invoke(args=["import-courses", str(COURSES)])
    assert result.exit_code == 0, result.output
    assert "5 chuyên đề" in result.output
    assert _count(Module) == 5 and _count(Quiz) == 5
    lessons, blocks, questions = _count(Lesson), _count(LessonBlock), _count(Question)
    updated = db.session.scalar(sa.select(sa.func.max(Course.updated_dt)))
    again = runner.invoke(args=["import-courses", str(COURSES)])
    assert again.exit_code == 0
    assert "tạo mới" not in again.output and "cập nhật" not in again.output
    assert (_count(Lesson), _count(LessonBlock), _count(Question)) == (lessons, blocks, questions)
    assert db.session.scalar(sa.select(sa.func.max(Course.updated_dt))) == updated


def test_check_validates_without_writing(runner) -> None:
    result = runner.invoke(args=["import-courses", "--check", str(COURSES)])
    assert result.exit_code == 0 and "Hợp lệ" in result.output
    assert _count(Course) == 0


def test_a_broken_lesson_names_file_and_line_and_imports_nothing(runner, copy: Path) -> None:
    lesson = next((copy / "01-tien-luong").glob("02-*.md"))
    lines = lesson.read_text(encoding="utf-8").split("\n")
    lines.insert(10, "```check oops\nCâu hỏi thiếu ngoặc đóng {=đúng ~sai\n```")
    lesson.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(args=["import-courses", "--check", str(copy.parent)])
    assert result.exit_code == 1
    assert f"chu-de-2021/01-tien-luong/{lesson.name}:12:" in result.output
    result = runner.invoke(args=["import-courses", str(copy.parent)])
    assert result.exit_code == 1 and "không nhập gì" in result.output
    assert _count(Course) == 0 and _count(Lesson) == 0


@pytest.mark.parametrize(
    ("target", "bad", "expected"),
    [
        ("01-tien-luong/module.toml", 'kind = "core"', "kind must be 'awareness' or 'core'"),
        ("01-tien-luong/module.toml", "title =", "invalid TOML"),
        ("course.toml", 'deadline = "2021-11-03"', "deadline"),
        ("02-thuong-luong-tap-the/quiz.gift", None, "quiz.gift:1:"),
    ],
)
def test_other_broken_files_are_named(
    runner, copy: Path, target: str, bad: str | None, expected: str
) -> None:
    path = copy / target
    text = path.read_text(encoding="utf-8")
    if target.endswith("module.toml") and bad.startswith("kind"):
        text = text.replace(bad, 'kind = "optional"')
    elif bad == "title =":
        text = text.replace("title =", "title = = ", 1)
    elif target == "course.toml":
        text = text.replace(bad, 'deadline = "03/11/2021"')
    else:
        text = "::Hỏng:: Câu hỏi {=một ~hai\n\n" + text
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["import-courses", "--check", str(copy.parent)])
    assert result.exit_code == 1
    assert expected in result.output


def test_renumbering_keeps_identity_and_removal_retires(app_ctx, copy: Path) -> None:
    import_courses(load_courses(copy))
    module_dir = copy / "04-hoat-dong-va-dan-chu"
    first = sorted(module_dir.glob("01-*.md"))[0]
    lesson_id = db.session.scalars(sa.select(Lesson.id).where(Lesson.slug == first.stem[3:])).one()
    first.rename(module_dir / ("09-" + first.name[3:]))
    removed = sorted(module_dir.glob("02-*.md"))[0]
    removed.unlink()
    report = import_courses(load_courses(copy))
    assert report.counts["lesson.retired"] == 1
    moved = db.session.get(Lesson, lesson_id)
    assert moved.position == 9 and not moved.retired
    gone = db.session.scalars(sa.select(Lesson).where(Lesson.slug == removed.stem[3:])).one()
    assert gone.retired  # kept, so completions that point at it survive


def test_changed_quiz_becomes_a_new_version(app_ctx, copy: Path) -> None:
    import_courses(load_courses(copy))
    quiz_file = copy / "00-dinh-huong" / "quiz.gift"
    quiz_file.write_text(
        quiz_file.read_text(encoding="utf-8") + "\n\n::Mới:: Câu mới? {T#Sai.#Đúng.}\n",
        encoding="utf-8",
    )
    import_courses(load_courses(copy))
    quiz = db.session.scalars(sa.select(Quiz).join(Module).where(Module.slug == "dinh-huong")).one()
    assert quiz.version == 2
    versions = dict(
        db.session.execute(
            sa.select(Question.version, sa.func.count())
            .where(Question.quiz_id == quiz.id)
            .group_by(Question.version)
        ).all()
    )
    assert versions[2] == versions[1] + 1


def test_lesson_html_is_sanitised_and_blocks_keep_their_key_server_side(
    app_ctx, copy: Path
) -> None:
    lesson = next((copy / "00-dinh-huong").glob("01-*.md"))
    lesson.write_text(
        lesson.read_text(encoding="utf-8") + "\n\n<script>alert(1)</script>\n"
        "[x](javascript:alert(1))\n",
        encoding="utf-8",
    )
    import_courses(load_courses(copy))
    stored = db.session.scalars(sa.select(Lesson).where(Lesson.slug == lesson.stem[3:])).one()
    assert "<script" not in stored.body_html and "javascript:" not in stored.body_html
    assert "<!--block:" in stored.body_html
    check = db.session.scalars(
        sa.select(LessonBlock).where(
            LessonBlock.lesson_id == stored.id, LessonBlock.kind == "check"
        )
    ).first()
    assert any(a["fraction"] == 1.0 for a in check.data["answers"])


def test_no_course_folder_is_an_error(tmp_path: Path, app_ctx) -> None:
    with pytest.raises(ContentErrors, match="no course folder"):
        load_courses(tmp_path)
