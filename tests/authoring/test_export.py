"""database → courses/ files: a faithful round trip, deterministic bytes, Moodle-ready GIFT."""

import dataclasses
import io
import re
import shutil
import tomllib
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.authoring.exporter import (
    ExportError,
    TargetNotEmpty,
    course_files,
    dump_toml,
    module_files,
    moodle_gift,
    write_course,
    zip_course,
    zip_module,
)
from lms.authoring.importer import import_courses
from lms.authoring.loader import CourseSpec, load_courses
from lms.catalog.models import Course, Module, ModuleKind
from lms.db import db
from lms.quizzes import gift
from lms.quizzes.services import quiz_for_module, sync_quiz

COURSES = Path(__file__).resolve().parents[2] / "courses"
SHIPPED = COURSES / "chu-de-2021"


def _course() -> Course:
    return db.session.scalars(sa.select(Course).where(Course.slug == "chu-de-2021")).one()


def _module(slug: str) -> Module:
    return db.session.scalars(sa.select(Module).where(Module.slug == slug)).one()


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _fields(spec: object, *skip: str) -> dict:
    return {
        f.name: getattr(spec, f.name)
        for f in dataclasses.fields(spec)
        if f.name not in {"path", *skip}
    }


def _assert_same(original: CourseSpec, exported: CourseSpec) -> None:
    """Equal in every field but `path`, compared piece by piece so a failure says where."""
    assert _fields(exported, "modules") == _fields(original, "modules")
    assert [m.slug for m in exported.modules] == [m.slug for m in original.modules]
    for mine, theirs in zip(exported.modules, original.modules, strict=True):
        assert _fields(mine, "lessons") == _fields(theirs, "lessons"), theirs.path
        assert [le.slug for le in mine.lessons] == [le.slug for le in theirs.lessons]
        for lesson, source in zip(mine.lessons, theirs.lessons, strict=True):
            assert _fields(lesson) == _fields(source), source.path


@pytest.fixture
def imported(app_ctx) -> CourseSpec:
    [spec] = load_courses(COURSES)
    import_courses([spec])
    return spec


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "src" / "chu-de-2021"
    shutil.copytree(SHIPPED, target)
    return target


# ---------------------------------------------------------------- round trip


def test_round_trip_of_the_shipped_course(imported: CourseSpec, tmp_path: Path) -> None:
    folder = write_course(_course(), tmp_path / "first")
    assert folder == tmp_path / "first" / "chu-de-2021"
    [exported] = load_courses(folder)
    _assert_same(imported, exported)
    report = import_courses([exported])
    assert not report.changed, dict(report.counts)
    assert report.counts["lesson.unchanged"] == 24 and report.counts["quiz.unchanged"] == 5
    again = write_course(_course(), tmp_path / "second")
    assert _tree(again) == _tree(folder)


def test_lessons_and_quizzes_come_back_byte_for_byte(imported, tmp_path: Path) -> None:
    files = course_files(_course())
    for name, text in files.items():
        if name.endswith((".md", ".gift")):
            assert text == (SHIPPED / name).read_text(encoding="utf-8"), name
    assert set(files) == {p.relative_to(SHIPPED).as_posix() for p in SHIPPED.rglob("*.*")}


def test_optional_keys_at_their_defaults_are_left_out(imported) -> None:
    files = course_files(_course())
    course = tomllib.loads(files["course.toml"])
    assert "split_members" not in course and "language" not in course
    assert course["deadline"] == "2021-11-03"
    module = tomllib.loads(files["01-tien-luong/module.toml"])
    assert set(module) == {"title", "kind", "summary"}
    front = files["01-tien-luong/01-luong-toi-thieu-vung.md"].split("+++")[1]
    assert set(tomllib.loads(front)) == {"title", "minutes", "kind"}


def test_changed_settings_are_written(imported) -> None:
    course, module = _course(), _module("tien-luong")
    course.split_members, course.language, course.deadline = 500, "en", None
    module.pass_mark, module.requires_live, module.max_attempts = 70, True, 3
    files = course_files(course)
    assert tomllib.loads(files["course.toml"])["split_members"] == 500
    assert "deadline" not in tomllib.loads(files["course.toml"])
    meta = tomllib.loads(files["01-tien-luong/module.toml"])
    assert (meta["pass_mark"], meta["requires_live"], meta["max_attempts"]) == (70, True, 3)


# ---------------------------------------------------------------- retired and renumbered


def test_retired_things_are_left_out_and_renumbering_keeps_the_slug(
    app_ctx, copy: Path, tmp_path: Path
) -> None:
    import_courses(load_courses(copy))
    module_dir = copy / "04-hoat-dong-va-dan-chu"
    first = next(module_dir.glob("01-*.md"))
    first.rename(module_dir / ("09-" + first.name[3:]))
    removed = next(module_dir.glob("02-*.md"))
    removed.unlink()
    shutil.rmtree(copy / "03-tai-chinh-cong-doan")
    report = import_courses(load_courses(copy))
    assert report.counts["lesson.retired"] == 1 and report.counts["module.retired"] == 1
    files = course_files(_course())
    assert f"04-hoat-dong-va-dan-chu/09-{first.name[3:]}" in files
    assert f"04-hoat-dong-va-dan-chu/{first.name}" not in files
    assert not any(removed.name[3:] in name for name in files)
    assert not any(name.startswith("03-") for name in files)
    exported, source = _tree(write_course(_course(), tmp_path / "out")), _tree(copy)
    assert set(exported) == set(source)
    assert {n: b for n, b in exported.items() if not n.endswith(".toml")} == {
        n: b for n, b in source.items() if not n.endswith(".toml")
    }


def test_overwrite_removes_stale_course_files_and_keeps_others(imported, tmp_path: Path) -> None:
    folder = write_course(_course(), tmp_path)
    (folder / "assets").mkdir()
    (folder / "assets" / "hinh.png").write_bytes(b"png")
    stale = folder / "01-tien-luong" / "07-bai-cu.md"
    stale.write_text("+++\ntitle = 'cũ'\n+++\n", encoding="utf-8")
    with pytest.raises(TargetNotEmpty):
        write_course(_course(), tmp_path)
    assert stale.exists()
    write_course(_course(), tmp_path, overwrite=True)
    assert not stale.exists() and (folder / "assets" / "hinh.png").read_bytes() == b"png"


def test_a_slug_that_is_not_a_file_name_is_refused(imported, tmp_path: Path) -> None:
    _module("tien-luong").slug = "../ra-ngoai"
    with pytest.raises(ExportError, match="not a valid slug"):
        write_course(_course(), tmp_path)
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- determinism


def test_exports_and_zips_are_deterministic_and_clean(imported, tmp_path: Path) -> None:
    one, two = write_course(_course(), tmp_path / "a"), write_course(_course(), tmp_path / "b")
    assert _tree(one) == _tree(two)
    for name, data in _tree(one).items():
        text = data.decode("utf-8")
        assert "\r" not in text and text.endswith("\n"), name
    archive = zip_course(_course())
    assert archive == zip_course(_course())
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        names = opened.namelist()
        assert names == sorted(names) and names[0].startswith("chu-de-2021/")
        assert {i.date_time for i in opened.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {n.removeprefix("chu-de-2021/"): opened.read(n) for n in names} == _tree(one)
    module = _module("tien-luong")
    files = module_files(module)
    assert list(files) == sorted(files) and {"module.toml", "quiz.gift"} <= set(files)
    assert zip_module(module) == zip_module(module)
    with zipfile.ZipFile(io.BytesIO(zip_module(module))) as opened:
        assert opened.namelist() == [f"01-tien-luong/{name}" for name in files]


# ---------------------------------------------------------------- TOML writer

AWKWARD = [
    'Anh nói "được"',
    "C:\\thu-muc\\tep",
    "dòng một\ndòng hai",
    "Công đoàn cơ sở – Đoàn viên ưu tú",
    'ba ngoặc """ ở giữa',
    '""""" năm ngoặc',
    'kết thúc bằng ngoặc"',
    'kết thúc bằng hai ngoặc""\nvà dòng mới""',
    "kết thúc bằng gạch chéo\\",
    "gạch chéo cuối dòng\\\nrồi dòng mới",
    "\ndòng trống đầu",
    "dòng cuối có xuống dòng\n",
    "\n\n",
    "tab\tở giữa, ký tự điều khiển \x01 và \x7f, CR \r",
    "  khoảng trắng đầu và cuối  ",
    "",
    "dài " * 30 + "có  hai  dấu cách  và\ttab " + "nữa " * 40 + "  ",
    "x" * 400,
    '"' + "ngoặc kép ở đầu và cuối một chuỗi dài " * 6 + '"',
]


@pytest.mark.parametrize("text", AWKWARD)
def test_toml_strings_round_trip(text: str) -> None:
    written = dump_toml([("summary", text)])
    assert written.endswith("\n")
    assert tomllib.loads(written) == {"summary": text}


def test_toml_scalars_and_key_order() -> None:
    written = dump_toml(
        [("year", 2021), ("live", False), ("on", True), ("deadline", date(2021, 11, 3))]
    )
    assert written == 'year = 2021\nlive = false\non = true\ndeadline = "2021-11-03"\n'
    with pytest.raises(TypeError):
        dump_toml([("ratio", 0.5)])


# ---------------------------------------------------------------- Moodle GIFT

WEIGHTED = """\
::Chọn nhiều:: Những việc nào đúng? {
~%33.33%Đối thoại#Một phần.
~%66.67%Thương lượng
~%-50%Im lặng#Sai.
~%-50%Bỏ qua
}

::Một đáp án:: Tổ chức nào đại diện NLĐ? {=Công đoàn#Đúng. ~Ban giám đốc#Sai.}

::Đúng sai:: Vào công đoàn là tự nguyện. {T#Sai rồi.#Đúng.}

::Điền:: Hai từ: {=%83.33%thành viên =%16.67%đoàn viên}

::Số:: Bao nhiêu giờ? {#=24 =%14.29%20:2}
"""


def _quiz_module() -> Module:
    course = Course(slug="thu-moodle", title="Thử", year=2026)
    db.session.add(course)
    db.session.flush()
    module = Module(course_id=course.id, slug="m", title="M", kind=ModuleKind.CORE, position=1)
    db.session.add(module)
    db.session.flush()
    return module


def test_moodle_gift_snaps_weights_and_keeps_the_questions(app_ctx) -> None:
    quiz, _ = sync_quiz(_quiz_module(), WEIGHTED)
    text = moodle_gift(quiz)
    for weight in ("%33.33333%", "%66.66667%", "%-50%", "%83.33333%", "%16.66667%", "%14.28571%"):
        assert weight in text
    for weight in re.findall(r"%(-?[0-9.]+)%", text):
        assert "." not in weight or len(weight.split(".")[1]) >= 5, weight
        assert any(abs(abs(float(weight)) / 100 - f) < 1e-5 for f in gift.ALLOWED_FRACTIONS)
    original, exported = gift.parse(WEIGHTED), gift.parse(text)
    assert [(q.type, q.title, q.text) for q in exported] == [
        (q.type, q.title, q.text) for q in original
    ]
    for mine, theirs in zip(exported, original, strict=True):
        assert [a.text for a in mine.answers] == [a.text for a in theirs.answers]
        assert [a.feedback for a in mine.answers] == [a.feedback for a in theirs.answers]
        for a, b in zip(mine.answers, theirs.answers, strict=True):
            assert abs(a.fraction - gift.snap_fraction(b.fraction)) < 1e-5
            assert abs(a.fraction - b.fraction) < 1e-4  # 33.33% moves by 3.3e-5 at most


def test_moodle_gift_of_the_shipped_quizzes_reads_back_the_same(imported) -> None:
    for module in db.session.scalars(sa.select(Module)):
        quiz = quiz_for_module(module)
        original = [q.to_json() for q in gift.parse(quiz.gift_source)]
        exported = [q.to_json() for q in gift.parse(moodle_gift(quiz))]
        for q in original + exported:
            q.pop("line")
        assert exported == original, module.slug


# ---------------------------------------------------------------- CLI


def test_cli_exports_the_course(runner, tmp_path: Path) -> None:
    assert runner.invoke(args=["import-courses", str(COURSES)]).exit_code == 0
    result = runner.invoke(args=["export-course", "chu-de-2021", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "35 tệp, 5 chuyên đề, 24 bài học" in result.stdout
    assert (tmp_path / "chu-de-2021" / "course.toml").is_file()
    assert load_courses(tmp_path)[0].slug == "chu-de-2021"


def test_cli_refuses_an_unknown_slug_and_bad_usage(runner, tmp_path: Path) -> None:
    result = runner.invoke(args=["export-course", "khong-co", str(tmp_path)])
    assert result.exit_code == 1
    assert "khong-co" in result.stderr and "không có khóa học" in result.stderr
    assert not any(tmp_path.iterdir())
    assert runner.invoke(args=["export-course"]).exit_code == 2
    assert runner.invoke(args=["export-course", "chu-de-2021"]).exit_code == 2


def test_cli_refuses_a_non_empty_target_unless_overwrite(runner, tmp_path: Path) -> None:
    runner.invoke(args=["import-courses", str(COURSES)])
    mine = tmp_path / "chu-de-2021" / "course.toml"
    mine.parent.mkdir()
    mine.write_text("# của tôi\n", encoding="utf-8")
    result = runner.invoke(args=["export-course", "chu-de-2021", str(tmp_path)])
    assert result.exit_code == 1 and "--overwrite" in result.stderr
    assert mine.read_text(encoding="utf-8") == "# của tôi\n"
    assert list(mine.parent.iterdir()) == [mine]
    result = runner.invoke(args=["export-course", "chu-de-2021", str(tmp_path), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert tomllib.loads(mine.read_text(encoding="utf-8"))["year"] == 2021
