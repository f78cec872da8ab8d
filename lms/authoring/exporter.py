"""Write catalog rows back to the courses/ file format (DESIGN.md §7), deterministically.

The files read back through load_courses into the same specs (slugs, positions, texts, quiz
sources), so importing an export changes nothing. No commit, no request: callers decide.
"""

import io
import re
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from lms.authoring.loader import SLUG
from lms.catalog.models import Course, Lesson, Module, ModuleStatus
from lms.db import db
from lms.quizzes import gift
from lms.quizzes.models import Quiz
from lms.quizzes.services import quiz_for_module

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date zip can hold: no timestamps in exports
WRAP_OVER = 160  # a single-line string longer than this is wrapped like hand-written summaries
WRAP_WIDTH = 96
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BREAK = re.compile(r"(?<= )(?=\S)")


class ExportError(Exception):
    """A course that cannot be written as files."""


class TargetNotEmpty(ExportError):
    """The course folder already holds files and overwriting was not asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} exists and is not empty")
        self.path = path


# ---------------------------------------------------------------- TOML


def toml_value(value: object) -> str:
    """Write a str, bool, int or date (as the "YYYY-MM-DD" string the loader reads) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return f'"{value.isoformat()}"'
    if isinstance(value, str):
        return _toml_string(value)
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dump_toml(pairs: Iterable[tuple[str, object]]) -> str:
    """Write flat `key = value` lines in the given order."""
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in pairs)


def _toml_string(text: str) -> str:
    """Write a basic string, or a multi-line one for text with newlines or very long text."""
    if "\n" in text:
        closing = '"""' if text.endswith("\n") else '\\\n"""'
        return '"""\n' + _escape(text, multiline=True) + closing
    if len(text) > WRAP_OVER:
        lines = _wrap(text)
        return '"""\n' + "\\\n".join(_escape(line, multiline=True) for line in lines) + '\\\n"""'
    return '"' + _escape(text, multiline=False) + '"'


def _escape(text: str, multiline: bool) -> str:
    """Escape backslashes, quotes and control characters (newlines stay literal when multiline)."""
    if multiline:
        # A run of three quotes would close the string: escape every third one.
        parts = text.replace("\\", "\\\\").replace('"""', '""\\"').split("\n")
        return "\n".join(_CONTROL.sub(_control, part) for part in parts)
    return _CONTROL.sub(_control, text.replace("\\", "\\\\").replace('"', '\\"'))


def _control(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"


def _wrap(text: str) -> list[str]:
    """Split after a space followed by a non-space, so the line-ending backslash (which also eats
    the next line's leading whitespace) drops nothing."""
    lines = [""]
    for piece in _BREAK.split(text):
        if lines[-1] and len(lines[-1]) + len(piece) > WRAP_WIDTH:
            lines.append("")
        lines[-1] += piece
    return lines


# ---------------------------------------------------------------- files


def _lf(text: str) -> str:
    """Normalise line endings to LF (web edits may carry CRLF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _safe(slug: str) -> str:
    """Return a slug fit for a file name; anything else could escape the export folder."""
    if not SLUG.fullmatch(slug or ""):
        raise ExportError(f"'{slug}' is not a valid slug for a file name")
    return slug


def course_toml(course: Course) -> str:
    """The text of course.toml, optional keys only when they differ from the loader's defaults."""
    pairs: list[tuple[str, object]] = [("title", course.title), ("year", course.year)]
    pairs += [("summary", course.summary)] if course.summary else []
    pairs += [("language", course.language)] if course.language != "vi" else []
    pairs += [("deadline", course.deadline)] if course.deadline else []
    pairs += [("split_members", course.split_members)] if course.split_members != 1000 else []
    # Always written: the loader hashes these two as "" when absent, so leaving out a default
    # spelled out in the source would make re-importing the export report the course updated.
    pairs += [("lower_level", course.lower_level), ("upper_level", course.upper_level)]
    return dump_toml(pairs)


def module_toml(module: Module) -> str:
    """The text of module.toml; the slug lives in the folder name."""
    pairs: list[tuple[str, object]] = [("title", module.title), ("kind", str(module.kind))]
    pairs += [("summary", module.summary)] if module.summary else []
    pairs += [("pass_mark", module.pass_mark)] if module.pass_mark != 80 else []
    pairs += [("requires_live", True)] if module.requires_live else []
    pairs += [("max_attempts", module.max_attempts)] if module.max_attempts is not None else []
    return dump_toml(pairs)


def lesson_text(lesson: Lesson) -> str:
    """A lesson file: TOML front matter between `+++` lines, then the stored Markdown."""
    front = dump_toml(
        [("title", lesson.title), ("minutes", lesson.minutes), ("kind", str(lesson.kind))]
    )
    # The loader drops trailing newlines from the body, so exactly one is written back.
    body = _lf(lesson.body_md).rstrip("\n")
    return f"+++\n{front}+++\n{body}\n"


def module_folder(module: Module) -> str:
    """The folder name `NN-slug`, NN being the position."""
    return f"{module.position:02d}-{_safe(module.slug)}"


def module_files(module: Module) -> dict[str, str]:
    """Relative path → text for one module's folder (module.toml, lessons, quiz.gift)."""
    files = {"module.toml": module_toml(module)}
    for lesson in _lessons(module):
        files[f"{lesson.position:02d}-{_safe(lesson.slug)}.md"] = lesson_text(lesson)
    quiz = quiz_for_module(module)
    if quiz is not None:
        source = _lf(quiz.gift_source)
        # sync_quiz hashes the source's bytes: add nothing but a missing final newline.
        files["quiz.gift"] = source if not source or source.endswith("\n") else source + "\n"
    return dict(sorted(files.items()))


def course_files(course: Course) -> dict[str, str]:
    """Relative path → text for the whole course: course.toml and one folder per live module."""
    _safe(course.slug)
    files = {"course.toml": course_toml(course)}
    for module in _modules(course):
        folder = module_folder(module)
        files.update({f"{folder}/{name}": text for name, text in module_files(module).items()})
    return dict(sorted(files.items()))


def _modules(course: Course) -> list[Module]:
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.course_id == course.id, Module.status != ModuleStatus.RETIRED)
            .order_by(Module.position, Module.slug)
        )
    )


def _lessons(module: Module) -> list[Lesson]:
    return list(
        db.session.scalars(
            sa.select(Lesson)
            .where(Lesson.module_id == module.id, Lesson.retired.is_(False))
            .order_by(Lesson.position, Lesson.slug)
        )
    )


# ---------------------------------------------------------------- disk and zip


def write_course(course: Course, directory: Path, overwrite: bool = False) -> Path:
    """Write the course to directory/<slug>/ and return that folder."""
    files = course_files(course)  # first, so a bad slug fails before the disk is touched
    target = Path(directory) / course.slug
    if not overwrite and _has_content(target):
        raise TargetNotEmpty(target)
    if overwrite:
        _remove_stale(target, files)
    for name, text in files.items():
        path = target.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))  # bytes: no platform newline translation
    return target


def _has_content(path: Path) -> bool:
    """Whether writing here could replace someone's files (a file, or a non-empty folder)."""
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


def _remove_stale(target: Path, files: dict[str, str]) -> None:
    """Delete course files the export lacks (a lesson left from an earlier export would come
    back on import), keeping everything else, such as assets/ and READMEs."""
    if not target.is_dir():
        return
    wanted = {target.joinpath(*name.split("/")) for name in files}
    for sub in sorted(p for p in target.iterdir() if p.is_dir() and p.name != "assets"):
        candidates = [*sub.glob("*.md"), sub / "module.toml", sub / "quiz.gift"]
        for path in candidates:
            if path.is_file() and path not in wanted and path.name.lower() != "readme.md":
                path.unlink()
        if not any(sub.iterdir()):
            sub.rmdir()


def _zip(files: dict[str, str]) -> bytes:
    """A zip with sorted entries, fixed dates and modes: the same content gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the exporting machine
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()


def zip_course(course: Course) -> bytes:
    """The course as a zip whose entries sit under `<slug>/`."""
    files = course_files(course)
    return _zip({f"{course.slug}/{name}": text for name, text in files.items()})


def zip_module(module: Module) -> bytes:
    """One module as a zip whose entries sit under its `NN-slug/` folder."""
    folder = module_folder(module)
    return _zip({f"{folder}/{name}": text for name, text in module_files(module).items()})


def moodle_gift(quiz: Quiz) -> str:
    """The quiz as GIFT Moodle imports: rewritten with weights snapped to Moodle's list."""
    return gift.write(gift.parse(_lf(quiz.gift_source)))
