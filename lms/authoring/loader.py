"""Read a courses/ folder into frozen specs, checking everything, touching no database.

Every problem is reported as a ContentError with the file, the line and the reason; the loader
collects all of them so an author fixes a folder in one pass.
"""

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lms.markdown import BlockError, render_lesson
from lms.quizzes import gift

NUMBERED = re.compile(r"(\d+)-(.+)")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
COURSE_KEYS = {"title", "year", "summary", "language", "deadline", "split_members", "lower_level",
               "upper_level"}  # fmt: skip
MODULE_KEYS = {"title", "kind", "summary", "pass_mark", "requires_live", "slug", "max_attempts"}
LESSON_KEYS = {"title", "minutes", "kind", "slug"}


@dataclass(frozen=True)
class ContentError(Exception):
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentErrors(Exception):
    """All the problems found in a folder."""

    def __init__(self, errors: list[ContentError]) -> None:
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


@dataclass(frozen=True)
class BlockSpec:
    key: str
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class LessonSpec:
    slug: str
    position: int
    title: str
    minutes: int
    kind: str
    body_md: str
    body_html: str
    blocks: tuple[BlockSpec, ...]
    content_hash: str
    path: str


@dataclass(frozen=True)
class ModuleSpec:
    slug: str
    position: int
    title: str
    kind: str
    summary: str
    pass_mark: int
    requires_live: bool
    max_attempts: int | None
    lessons: tuple[LessonSpec, ...]
    quiz_source: str | None
    content_hash: str
    path: str


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title: str
    year: int
    summary: str
    language: str
    deadline: date | None
    split_members: int
    lower_level: str
    upper_level: str
    modules: tuple[ModuleSpec, ...]
    content_hash: str
    path: str


@dataclass
class _Collector:
    root: Path
    errors: list[ContentError] = field(default_factory=list)

    def add(self, path: Path, line: int, message: str) -> None:
        self.errors.append(ContentError(self._rel(path), line, message))

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)


def load_courses(root: Path | str) -> list[CourseSpec]:
    """Every course under root (a folder of courses, or one course folder). Raises ContentErrors."""
    root = Path(root)
    folders = (
        [root]
        if (root / "course.toml").exists()
        else sorted(p for p in root.iterdir() if p.is_dir() and (p / "course.toml").exists())
    )
    found = _Collector(root if folders != [root] else root.parent)
    if not folders:
        found.add(root, 1, "no course folder (a folder with course.toml) here")
    courses = [c for c in (_load_course(folder, found) for folder in folders) if c is not None]
    if found.errors:
        raise ContentErrors(found.errors)
    return courses


def _read_text(path: Path, found: _Collector) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        found.add(path, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    return unicodedata.normalize("NFC", text.lstrip("\ufeff").replace("\r\n", "\n"))


def _toml(
    path: Path, text: str, found: _Collector, allowed: set[str], offset: int = 0
) -> dict | None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found.add(path, offset + (getattr(exc, "lineno", 1) or 1), f"invalid TOML: {exc}")
        return None
    for key in sorted(set(data) - allowed):
        found.add(
            path,
            offset + _line_of(text, key),
            f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})",
        )
    return data


def _line_of(text: str, key: str) -> int:
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip().startswith(key):
            return n
    return 1


def _digest(*parts: object) -> str:
    """A hash of the parsed content (not of the file's bytes), so that a file written back
    differently but meaning the same is recognised as unchanged."""
    text = "\x1f".join(str(part).strip() if isinstance(part, str) else repr(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()


def _load_course(folder: Path, found: _Collector) -> CourseSpec | None:
    path = folder / "course.toml"
    text = _read_text(path, found)
    meta = _toml(path, text, found, COURSE_KEYS) if text is not None else None
    if meta is None or not SLUG.fullmatch(folder.name):
        if meta is not None:
            found.add(
                folder,
                1,
                f"course folder name '{folder.name}' must be lowercase a-z, 0-9 and dashes",
            )
        return None
    title, year = (
        _require(meta, path, found, "title", str),
        _require(meta, path, found, "year", int),
    )
    deadline = _deadline(meta.get("deadline"), path, found)
    modules = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name == "assets":
            continue
        module = _load_module(sub, found)
        if module is not None:
            modules.append(module)
    _unique([m.slug for m in modules], folder, found, "module")
    if title is None or year is None:
        return None
    return CourseSpec(
        slug=folder.name,
        title=title.strip(),
        year=year,
        summary=str(meta.get("summary", "")).strip(),
        language=str(meta.get("language", "vi")),
        deadline=deadline,
        split_members=int(meta.get("split_members", 1000)),
        lower_level=str(meta.get("lower_level", "LĐLĐ huyện")),
        upper_level=str(meta.get("upper_level", "LĐLĐ tỉnh")),
        modules=tuple(modules),
        content_hash=_digest(
            title,
            year,
            meta.get("summary", ""),
            meta.get("language", "vi"),
            deadline,
            meta.get("split_members", 1000),
            meta.get("lower_level", ""),
            meta.get("upper_level", ""),
        ),
        path=found._rel(folder),
    )


def _require(
    meta: dict, path: Path, found: _Collector, key: str, kind: type, limit: int = 300
) -> Any:
    value = meta.get(key)
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        found.add(path, 1, f"'{key}' is required ({kind.__name__})")
        return None
    if kind is str and len(value.strip()) > limit:
        found.add(
            path, 1, f"'{key}' is too long ({len(value.strip())} characters, at most {limit})"
        )
        return None
    return value


def _deadline(value: Any, path: Path, found: _Collector) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        found.add(
            path,
            _line_of(path.read_text(encoding="utf-8"), "deadline"),
            f"deadline '{value}' must be a date YYYY-MM-DD",
        )
        return None


def _unique(slugs: list[str], folder: Path, found: _Collector, what: str) -> None:
    for slug in sorted({s for s in slugs if slugs.count(s) > 1}):
        found.add(folder, 1, f"two {what}s have the slug '{slug}'")


def _numbered(name: str, path: Path, found: _Collector) -> tuple[int, str] | None:
    match = NUMBERED.fullmatch(name)
    if not match:
        found.add(path, 1, f"'{name}' must start with a number and a dash, e.g. 01-{name}")
        return None
    return int(match.group(1)), match.group(2)


def _load_module(folder: Path, found: _Collector) -> ModuleSpec | None:
    numbered = _numbered(folder.name, folder, found)
    path = folder / "module.toml"
    if numbered is None:
        return None
    if not path.exists():
        found.add(path, 1, "module.toml is missing")
        return None
    text = _read_text(path, found)
    meta = _toml(path, text, found, MODULE_KEYS) if text is not None else None
    if meta is None:
        return None
    slug = str(meta.get("slug") or numbered[1])
    kind = meta.get("kind")
    if kind not in ("awareness", "core"):
        found.add(path, _line_of(text or "", "kind"), "kind must be 'awareness' or 'core'")
    pass_mark = meta.get("pass_mark", 80)
    if not isinstance(pass_mark, int) or not 0 <= pass_mark <= 100:
        found.add(path, _line_of(text or "", "pass_mark"), "pass_mark must be a whole number 0-100")
    if not SLUG.fullmatch(slug):
        found.add(path, 1, f"module slug '{slug}' must be lowercase a-z, 0-9 and dashes")
    lessons = [le for le in (_load_lesson(p, found) for p in sorted(folder.glob("*.md"))) if le]
    _unique([le.slug for le in lessons], folder, found, "lesson")
    quiz_path = folder / "quiz.gift"
    quiz = _read_text(quiz_path, found) if quiz_path.exists() else None
    if quiz is not None:
        for error in gift.parse(quiz, collect_errors=True)[1]:
            found.add(quiz_path, error.line, f"column {error.column}: {error.message}")
    title = _require(meta, path, found, "title", str)
    if title is None:
        return None
    return ModuleSpec(
        slug=slug,
        position=numbered[0],
        title=title.strip(),
        kind=str(kind),
        summary=str(meta.get("summary", "")).strip(),
        pass_mark=int(pass_mark) if isinstance(pass_mark, int) else 80,
        requires_live=bool(meta.get("requires_live", False)),
        max_attempts=meta.get("max_attempts"),
        lessons=tuple(lessons),
        quiz_source=quiz,
        content_hash=_digest(
            slug,
            title,
            kind,
            meta.get("summary", ""),
            pass_mark,
            meta.get("requires_live", False),
            meta.get("max_attempts"),
        ),
        path=found._rel(folder),
    )


def _load_lesson(path: Path, found: _Collector) -> LessonSpec | None:
    if path.name.lower() == "readme.md":
        return None
    numbered = _numbered(path.stem, path, found)
    text = _read_text(path, found)
    if numbered is None or text is None:
        return None
    lines = text.split("\n")
    if not lines or lines[0].strip() != "+++":
        found.add(path, 1, "a lesson starts with front matter between two '+++' lines")
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "+++"), None)
    if end is None:
        found.add(path, 1, "the front matter is not closed with '+++'")
        return None
    meta = _toml(path, "\n".join(lines[1:end]), found, LESSON_KEYS, offset=1)
    body = "\n".join(lines[end + 1 :]).rstrip("\n")  # keep leading lines: errors count them
    try:
        html, blocks = render_lesson(body)
    except BlockError as exc:
        found.add(path, end + 1 + exc.line, str(exc))
        return None
    if meta is None:
        return None
    slug, kind, minutes = (
        str(meta.get("slug") or numbered[1]),
        meta.get("kind", "reading"),
        meta.get("minutes", 5),
    )
    problems = [
        (not SLUG.fullmatch(slug), f"lesson slug '{slug}' must be lowercase a-z, 0-9 and dashes"),
        (kind not in ("reading", "case", "practice"), "kind must be reading, case or practice"),
        (
            not isinstance(minutes, int) or minutes < 1,
            "minutes must be a whole number of at least 1",
        ),
        (not str(meta.get("title", "")).strip(), "'title' is required"),
        (
            len(str(meta.get("title", "")).strip()) > 300,
            "'title' is too long (at most 300 characters)",
        ),
        (len(slug) > 80, "the slug is too long (at most 80 characters)"),
    ]
    for bad, message in problems:
        if bad:
            found.add(path, 2, message)
    if any(bad for bad, _ in problems):
        return None
    return LessonSpec(
        slug=slug,
        position=numbered[0],
        title=str(meta["title"]).strip(),
        minutes=int(minutes),
        kind=str(kind),
        body_md=body,
        body_html=html,
        blocks=tuple(BlockSpec(b.key, b.kind, data) for b, data in blocks),
        content_hash=_digest(slug, meta["title"], minutes, kind, body),
        path=found._rel(path),
    )
