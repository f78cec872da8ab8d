"""Read and write Moodle's GIFT quiz format, following Moodle's qformat_gift semantics.

Deliberately stricter than Moodle: stray braces, malformed weights and non-numeric numerical
answers are reported with their line and column instead of being imported as odd text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, overload


def N_(message: str) -> str:  # noqa: N802 - the usual gettext marker name
    """Mark a message for the gettext extractor; the app translates it when showing it."""
    return message


MESSAGES: dict[str, str] = {
    "unclosed_brace": N_("Missing closing brace '}'"),
    "unopened_brace": N_("Closing brace '}' without an opening brace '{'"),
    "extra_block": N_(
        "Only one answer block {…} is allowed per question; write \\{ and \\} for literal braces"
    ),
    "too_few_answers": N_("This question needs at least %(min)s answers, found %(count)s"),
    "empty_answer": N_("This answer is empty"),
    "matching_no_arrow": N_("Matching pair without '->'"),
    "no_numerical_answer": N_("Numerical question without an answer"),
    "not_a_number": N_("'%(value)s' is not a number"),
    "bad_range": N_("In the range %(min)s..%(max)s the minimum is greater than the maximum"),
    "bad_weight": N_("Malformed weight '%(weight)s' (write it like %%50%% or %%-33.33333%%)"),
    "weight_out_of_range": N_("The weight %(weight)s%% is outside -100%% to 100%%"),
    "not_one_question": N_("Expected exactly one question, found %(count)s"),
}

FORMATS = ("moodle", "html", "plain", "markdown")
TYPES = ("multiple_choice", "multiple_answer", "true_false", "short_answer", "matching",
         "numerical", "essay", "description")  # fmt: skip
# question_bank::fraction_options_full(); Moodle rejects grades further than 1e-5 from these.
ALLOWED_FRACTIONS = (
    1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2,
    0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05,
)  # fmt: skip
_SNAP_TO = (0.0, *ALLOWED_FRACTIONS, *(-f for f in ALLOWED_FRACTIONS))

_WS = " \t\n\r\0\x0b"  # PHP trim()'s set: Moodle keeps e.g. a trailing no-break space.
# Escaped specials become Unicode noncharacters while splitting, so they never act as syntax.
_ESCAPES = dict(zip(":#={}~n", map(chr, range(0xFDD0, 0xFDD7)), strict=True))
_RESTORE = str.maketrans({v: "\n" if k == "n" else k for k, v in _ESCAPES.items()})
_WRITE_ESCAPES = str.maketrans({c: "\\" + c for c in "\\#=~{}:"} | {"\n": "\\n", "\r": ""})
_MOODLE_WEIGHT = re.compile(r"%-*([0-9]{1,2})\.?([0-9]*)%")
_WEIGHT_LIKE = re.compile(r"%[-+0-9. \t]*%")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")  # PHP is_numeric()
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_ID = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f\x7f])+)\]")
_TAG = re.compile(r"\[tag:((?:\\\]|[^\]<>\x00-\x1f\x7f])*)\]")


@dataclass
class Answer:
    """One answer (or matching pair) of a question."""

    text: str
    fraction: float  # 0..1 ; -0.5 for -50%
    feedback: str | None = None
    text_format: str | None = None  # own [format], when not the question's
    match: str | None = None  # matching: the right-hand side (text is the subquestion)
    value: float | None = None  # numerical exact/tolerance form
    tolerance: float | None = None
    min: float | None = None  # numerical range form a..b
    max: float | None = None
    feedback_format: str | None = None  # the feedback's own [format], when not the question's

    def to_json(self, qtype: str) -> dict[str, Any]:
        """Return this answer in the shape of `lms gift parse --json`."""
        data: dict[str, Any] = {
            "text": self.text,
            "fraction": self.fraction,
            "feedback": self.feedback,
        }
        if self.text_format:
            data["text_format"] = self.text_format
        if self.feedback_format:
            data["feedback_format"] = self.feedback_format
        if qtype == "matching":
            data["match"] = self.match or ""
        elif qtype == "numerical" and self.min is not None:
            data.update(min=self.min, max=self.max)
        elif qtype == "numerical" and self.value is not None:
            data.update(value=self.value, tolerance=self.tolerance)
        return data


@dataclass
class Question:
    """One GIFT question record."""

    type: str
    title: str | None
    text: str
    text_format: str
    answers: list[Answer]
    general_feedback: str | None
    category: str | None = None
    idnumber: str | None = None
    tags: list[str] = field(default_factory=list)
    line: int = 1  # 1-based line where the record starts in the source
    general_feedback_format: str | None = None  # own [format], when not the question's

    def to_json(self) -> dict[str, Any]:
        """Return the question in the shape of `lms gift parse --json` (DESIGN.md §6)."""
        data: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "text": self.text,
            "text_format": self.text_format,
            "answers": [a.to_json(self.type) for a in self.answers],
            "general_feedback": self.general_feedback,
        }
        if self.general_feedback_format:
            data["general_feedback_format"] = self.general_feedback_format
        if self.category is not None:
            data["category"] = self.category
        if self.idnumber:
            data["id"] = self.idnumber
        if self.tags:
            data["tags"] = list(self.tags)
        data["line"] = self.line
        return data


class GiftError(ValueError):
    """A problem in GIFT text, located at a 1-based line and column of the original text."""

    def __init__(self, code: str, line: int, column: int, params: dict[str, Any] | None = None):
        self.code = code
        self.line = line
        self.column = column
        self.params = params or {}
        super().__init__(code, line, column, self.params)

    @property
    def message(self) -> str:
        """Return the English message without its location."""
        return MESSAGES[self.code] % self.params

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class _RecordError(Exception):
    """An error at an index of the record text, turned into a GiftError by the caller."""

    def __init__(self, code: str, index: int, params: dict[str, Any] | None = None):
        super().__init__(code)
        self.code, self.index, self.params = code, index, params or {}


# ---------------------------------------------------------------- source text to records


@dataclass
class _Record:
    """One blank-line separated record, with escapes replaced and every character's position."""

    s: str
    pos: list[tuple[int, int]]
    raw: str  # before escape processing ($CATEGORY paths are taken verbatim, as Moodle writes them)
    comments: str
    line: int

    def at(self, index: int) -> tuple[int, int]:
        """Return the (line, column) of an index, or just after the last character."""
        if index < len(self.pos):
            return self.pos[index]
        line, column = self.pos[-1]
        return line, column + 1

    def trim(self, a: int, b: int) -> tuple[int, int]:
        """Return the range s[a:b] without surrounding whitespace."""
        while a < b and self.s[a] in _WS:
            a += 1
        while b > a and self.s[b - 1] in _WS:
            b -= 1
        return a, b


def _nfc_line(raw: str) -> tuple[str, list[int]]:
    """Return a line in NFC and, per character plus one past the end, its column in `raw`."""
    if unicodedata.is_normalized("NFC", raw):
        return raw, list(range(1, len(raw) + 2))
    segments: list[tuple[int, str]] = []
    for i, ch in enumerate(raw):  # a new segment starts wherever NFC cannot join with the last
        last = segments[-1][1] if segments else ""
        nfc = unicodedata.normalize
        if last and (unicodedata.combining(ch) or nfc("NFC", last + ch) != nfc("NFC", last) + ch):
            segments[-1] = (segments[-1][0], last + ch)
        else:
            segments.append((i, ch))
    text, columns = "", []
    for start, seg in segments:
        part = unicodedata.normalize("NFC", seg)
        text += part
        columns += [start + 1] * len(part)
    if text != unicodedata.normalize("NFC", raw):  # exotic composition: keep text, approximate
        text = unicodedata.normalize("NFC", raw)
        columns = [min(i + 1, len(raw)) for i in range(len(text))]
    return text, [*columns, len(raw) + 1]


def _records(text: str) -> list[_Record]:
    """Split GIFT text into records the way Moodle does: trimmed lines, blank-line separated."""
    records, current = [], []
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff")), 1):
        line, columns = _nfc_line(raw)
        if line.strip(_WS):
            current.append((number, line, columns))
        elif current:
            records.append(_build(current))
            current = []
    if current:
        records.append(_build(current))
    return [r for r in records if r is not None]


def _build(lines: list[tuple[int, str, list[int]]]) -> _Record | None:
    """Join a record's lines, blanking comment lines, then replace escapes."""
    chars: list[str] = []
    pos: list[tuple[int, int]] = []
    comments = ""
    for k, (number, line, columns) in enumerate(lines):
        a = len(line) - len(line.lstrip(_WS))
        b = len(line.rstrip(_WS))
        if k:
            chars.append("\n")
            pos.append((pos[-1][0], pos[-1][1] + 1))
        if line[a:b].startswith("//"):
            comments += line[a:b] + "\n"
            chars.append(" ")
            pos.append((number, columns[a]))
        else:
            chars += line[a:b]
            pos += [(number, columns[i]) for i in range(a, b)]
    joined = "".join(chars)
    a, b = len(joined) - len(joined.lstrip(_WS)), len(joined.rstrip(_WS))
    if a >= b:
        return None
    s, spos = _unescape(joined[a:b], pos[a:b])
    return _Record(s, spos, joined[a:b], comments, lines[0][0])


def _unescape(raw: str, pos: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Replace `\\\\` by a backslash and other escapes by placeholders, keeping positions."""
    out: list[str] = []
    out_pos: list[tuple[int, int]] = []
    i = 0
    while i < len(raw):
        pair = raw[i + 1] if raw[i] == "\\" and i + 1 < len(raw) else ""
        out.append("\\" if pair == "\\" else _ESCAPES.get(pair, raw[i]))
        out_pos.append(pos[i])
        i += 2 if pair == "\\" or pair in _ESCAPES else 1
    return "".join(out), out_pos


def _restore(text: str) -> str:
    """Turn placeholders back into the literal characters they stand for."""
    return text.translate(_RESTORE)


def _prefix(text: str) -> str | None:
    """Return the format named by a leading `[html]`-style prefix, if any."""
    end = text.find("]")
    return text[1:end] if text.startswith("[") and text[1:end] in FORMATS and end > 0 else None


def _with_format(raw: str, pretrim: bool = True) -> tuple[str, str | None]:
    """Split an optional [format] prefix off a field; return (text, own format or None)."""
    if pretrim:
        raw = raw.strip(_WS)
    own = _prefix(raw)
    if own:
        raw = raw[len(own) + 2 :]
    return _restore(raw).strip(_WS), own


def _id_and_tags(comments: str) -> tuple[str | None, list[str]]:
    """Extract Moodle's `[id:…]` and `[tag:…]` markers from a record's comments."""
    found = _ID.search(comments)
    idnumber = found.group(1).strip(_WS).replace("\\]", "]") if found else ""
    tags = [t.strip(_WS).replace("\\]", "]") for t in _TAG.findall(comments)]
    return idnumber or None, [t for t in tags if t]


# ---------------------------------------------------------------- records to questions


def _read(rec: _Record) -> Question | str:
    """Read one record; a `$CATEGORY:` record gives its path as a string."""
    if rec.raw.startswith("$CATEGORY:"):
        return rec.raw[10:].strip(_WS)
    s, a, b, title = rec.s, 0, len(rec.s), None
    if s.startswith("::"):
        a = 2  # Moodle drops the `::` even when the name is never closed
        end = s.find("::", 2)
        if end >= 0:
            title = _restore(s[2:end]).strip(_WS)
            a, b = rec.trim(end + 2, b)
    opening, closing = _find_block(rec, a, b)
    body = s[a:b]
    if opening >= 0:  # a block that does not end the record leaves a blank (missing word)
        body = s[a:opening] + ("" if closing == b - 1 else "_____") + s[closing + 1 : b]
    text, fmt = _with_format(body, pretrim=False)
    q = Question("description", title, text, fmt or "moodle", [], None, line=rec.line)
    q.idnumber, q.tags = _id_and_tags(rec.comments)
    if opening >= 0:
        _read_block(rec, q, opening, closing)
    return q


def _read_block(rec: _Record, q: Question, opening: int, closing: int) -> None:
    """Read the answer block into q: general feedback, type and answers."""
    a, b = rec.trim(opening + 1, closing)
    gf_at = rec.s.rfind("####", a, b)
    if gf_at >= 0:
        gf, own = _with_format(rec.s[gf_at + 4 : b], pretrim=False)
        q.general_feedback = gf or None
        q.general_feedback_format = own if gf and own != q.text_format else None
        a, b = rec.trim(a, gf_at)
    q.type, q.answers = _read_answers(rec, a, b, opening)
    for answer in q.answers:  # a prefix naming the inherited format changes nothing: forget it
        if answer.text_format == q.text_format:
            answer.text_format = None
        if answer.feedback_format == q.text_format:
            answer.feedback_format = None


def _find_block(rec: _Record, a: int, b: int) -> tuple[int, int]:
    """Return the indices of the answer block's braces, (-1, -1) when there is none."""
    s = rec.s
    opening, closing = s.find("{", a, b), s.find("}", a, b)
    if opening < 0 and closing < 0:
        return -1, -1
    if closing >= 0 and (opening < 0 or closing < opening):
        raise _RecordError("unopened_brace", closing)
    if closing < 0 or s.find("{", opening + 1, closing) >= 0:  # a `{` inside: first one unclosed
        raise _RecordError("unclosed_brace", opening)
    next_open, next_close = s.find("{", closing + 1, b), s.find("}", closing + 1, b)
    if next_close >= 0 and (next_open < 0 or next_close < next_open):
        raise _RecordError("unopened_brace", next_close)
    if next_open >= 0:
        raise _RecordError("extra_block" if next_close >= 0 else "unclosed_brace", next_open)
    return opening, closing


def _read_answers(rec: _Record, a: int, b: int, opening: int) -> tuple[str, list[Answer]]:
    """Detect the question type in Moodle's order and read the answers."""
    block = rec.s[a:b]
    if not block:
        return "essay", []
    if block[0] == "#":
        return "numerical", _read_numerical(rec, a + 1, b, opening)
    if "~" in block:
        qtype = "multiple_choice" if "=" in block else "multiple_answer"
        return qtype, _read_choice(rec, a, b, opening)
    if "=" in block and "->" in block:
        return "matching", _read_matching(rec, a, b, opening)
    hash_at = block.find("#")
    if (block[:hash_at].strip(_WS) if hash_at > 0 else block) in _TRUE_FALSE:
        return "true_false", _read_true_false(block)
    return "short_answer", _read_short(rec, a, b, opening)


def _pieces(rec: _Record, a: int, b: int, cut: str, keep: str = "") -> list[tuple[int, int]]:
    """Split s[a:b] at each `cut` character (dropped) and before each `keep` one, trimmed."""
    out, start = [], a
    for i in range(a, b):
        if rec.s[i] in cut or rec.s[i] in keep:
            out.append(rec.trim(start, i))
            start = i + (rec.s[i] in cut)
    out.append(rec.trim(start, b))
    return out[1:] if out[0][0] == out[0][1] else out  # text before the first sigil, if empty


def _weight(rec: _Record, a: int, b: int, default: float) -> tuple[float, int]:
    """Read a leading `%w%` weight; return (fraction, index after it)."""
    found = _MOODLE_WEIGHT.match(rec.s, a, b)
    if not found:
        typo = _WEIGHT_LIKE.match(rec.s, a, b)  # Moodle would keep it as answer text
        if typo:
            raise _RecordError("bad_weight", a, {"weight": typo[0]})
        return default, a
    body = found[0][1:-1]
    if body.count("-") > 1:
        raise _RecordError("bad_weight", a, {"weight": found[0]})
    percent = Decimal(body.lstrip("-"))
    if percent > 100:
        raise _RecordError("weight_out_of_range", a, {"weight": body})
    fraction = float(percent / 100)
    return (-fraction if body.startswith("-") else fraction) + 0.0, found.end()


def _answer(rec: _Record, a: int, b: int, fraction: float) -> Answer:
    """Read `text#feedback` from s[a:b], each with an optional [format] prefix."""
    hash_at = rec.s.find("#", a, b)
    text, own = _with_format(rec.s[a : hash_at if hash_at >= 0 else b])
    if not text:
        raise _RecordError("empty_answer", a)
    feedback, feedback_own = _with_format(rec.s[hash_at + 1 : b]) if hash_at >= 0 else ("", None)
    answer = Answer(text, fraction, feedback or None, own)
    answer.feedback_format = feedback_own if feedback else None
    return answer


def _at_least(pieces: list[tuple[int, int]], minimum: int, opening: int) -> None:
    """Fail at the opening brace when a block has too few answers."""
    if len(pieces) < minimum:
        raise _RecordError("too_few_answers", opening, {"min": minimum, "count": len(pieces)})


def _read_choice(rec: _Record, a: int, b: int, opening: int) -> list[Answer]:
    """Read multiple-choice answers: `=` is right, `~` wrong, `~%w%` weighted."""
    pieces = _pieces(rec, a, b, "~", "=")
    _at_least(pieces, 2, opening)
    answers = []
    for x, y in pieces:
        if rec.s[x : x + 1] == "=":  # Moodle gives `=` full marks and reads no weight after it
            fraction, x = 1.0, x + 1
        else:
            fraction, x = _weight(rec, x, y, 0.0)
        answers.append(_answer(rec, x, y, fraction))
    return answers


def _read_short(rec: _Record, a: int, b: int, opening: int) -> list[Answer]:
    """Read short answers: each is right unless it carries a `%w%` weight."""
    pieces = _pieces(rec, a, b, "=")
    _at_least(pieces, 1, opening)
    answers = []
    for x, y in pieces:
        fraction, x = _weight(rec, x, y, 1.0)
        answers.append(_answer(rec, x, y, fraction))
    return answers


def _read_matching(rec: _Record, a: int, b: int, opening: int) -> list[Answer]:
    """Read `=subquestion -> answer` pairs; an empty subquestion is a distractor."""
    pieces = _pieces(rec, a, b, "=")
    _at_least(pieces, 2, opening)
    answers = []
    for x, y in pieces:
        arrow = rec.s.find("->", x, y)
        if arrow < 0:
            raise _RecordError("matching_no_arrow", x)
        text, own = _with_format(rec.s[x:arrow])
        match = _restore(rec.s[arrow + 2 : y]).strip(_WS)
        answers.append(Answer(text, 1.0 if text else 0.0, None, own, match=match))
    return answers


def _read_true_false(block: str) -> list[Answer]:
    """Read `T#fb1#fb2`: fb1 is shown for the wrong answer, fb2 for the right one (Moodle)."""
    bits = [*block.split("#", 2), "", ""]
    is_true = _TRUE_FALSE[_with_format(bits[0])[0]]
    wrong, right = _with_format(bits[1]), _with_format(bits[2])
    on_true, on_false = (right, wrong) if is_true else (wrong, right)
    return [_fixed("true", is_true, *on_true), _fixed("false", not is_true, *on_false)]


def _fixed(text: str, right: bool, feedback: str, own: str | None) -> Answer:
    """Build a true/false answer with the feedback shown when it is chosen."""
    return Answer(text, float(right), feedback or None, feedback_format=own if feedback else None)


def _read_numerical(rec: _Record, a: int, b: int, opening: int) -> list[Answer]:
    """Read `=value:tolerance`, `=min..max` answers and a `~#feedback` for anything else."""
    tilde = rec.s.find("~", a, b)
    pieces = _pieces(rec, a, tilde if tilde >= 0 else b, "=")
    if not pieces:
        raise _RecordError("no_numerical_answer", opening)
    answers = [_numerical_answer(rec, x, y) for x, y in pieces]
    if tilde >= 0:  # stored by Moodle as a wildcard answer `*` worth 0
        hash_at = rec.s.find("#", tilde, b)
        fb, own = _with_format(rec.s[hash_at + 1 : b]) if hash_at >= 0 else ("", None)
        answers.append(_fixed("*", False, fb, own))
    return answers


def _numerical_answer(rec: _Record, a: int, b: int) -> Answer:
    """Read one numerical answer, locating any bad number in the source."""
    fraction, a = _weight(rec, a, b, 1.0)
    answer = _answer(rec, a, b, fraction)
    if answer.text == "*":
        return answer
    hash_at = rec.s.find("#", a, b)
    x, y = rec.trim(a, hash_at if hash_at >= 0 else b)
    if answer.text_format:
        x, y = rec.trim(x + len(answer.text_format) + 2, y)
    try:
        numbers = _spec(_restore(rec.s[x:y]))
    except _RecordError as fail:
        raise _RecordError(fail.code, x + fail.index, fail.params) from None
    for key, number in numbers.items():
        setattr(answer, key, number)
    return answer


def _spec(text: str) -> dict[str, float]:
    """Read '1822', '3:2' or '1..5' (Moodle's split rules); fail at an offset into `text`."""
    dots, colon = text.find(".."), text.find(":")
    if dots > 0:
        parts = [(0, dots), (dots + 2, len(text))]
    elif colon > 0:
        parts = [(0, colon), (colon + 1, len(text))]
    else:
        parts = [(0, len(text))]
    numbers = []
    for x, y in parts:
        part = text[x:y].strip(_WS)
        if not _NUMBER.fullmatch(part):
            raise _RecordError(
                "not_a_number", x + len(text[x:y]) - len(text[x:y].lstrip(_WS)), {"value": part}
            )
        numbers.append(float(part))
    if dots > 0:
        if numbers[0] > numbers[1]:
            raise _RecordError(
                "bad_range", 0, {"min": text[:dots].strip(), "max": text[dots + 2 :]}
            )
        return {"min": numbers[0], "max": numbers[1]}
    return {"value": numbers[0], "tolerance": numbers[1] if colon > 0 else 0.0}


# ---------------------------------------------------------------- public reading API


@overload
def parse(text: str, collect_errors: Literal[False] = False) -> list[Question]: ...
@overload
def parse(text: str, collect_errors: Literal[True]) -> tuple[list[Question], list[GiftError]]: ...
def parse(
    text: str, collect_errors: bool = False
) -> list[Question] | tuple[list[Question], list[GiftError]]:
    """Parse GIFT text; raise the first GiftError, or return (questions, errors) if collecting."""
    questions: list[Question] = []
    errors: list[GiftError] = []
    category = None
    for rec in _records(text):
        try:
            item = _read(rec)
        except _RecordError as fail:
            error = GiftError(fail.code, *rec.at(fail.index), fail.params)
            if not collect_errors:
                raise error from None
            errors.append(error)
            continue
        if isinstance(item, str):
            category = item
        else:
            item.category = category
            questions.append(item)
    return (questions, errors) if collect_errors else questions


def parse_one(text: str) -> Question:
    """Parse text that must hold exactly one question (an in-lesson knowledge check)."""
    questions = parse(text)
    if len(questions) != 1:
        line = questions[1].line if questions else 1
        raise GiftError("not_one_question", line, 1, {"count": len(questions)})
    return questions[0]


# ---------------------------------------------------------------- writing


def snap_fraction(fraction: float) -> float:
    """Return the nearest grade Moodle accepts (its allowed list, positive or negative, or 0)."""
    return min(_SNAP_TO, key=lambda allowed: abs(allowed - fraction))


def write(questions: list[Question]) -> str:
    """Write questions as GIFT that Moodle imports and parse() reads back identically."""
    records, category = [], None
    for question in questions:
        if question.category is not None and question.category != category:
            category = question.category
            records.append(f"$CATEGORY: {category}\n")
        records.append(_write_question(question))
    return "\n".join(records)


def _write_question(q: Question) -> str:
    """Write one record: id/tag comment, title, text and answer block."""
    markers = [f"[id:{_bracketed(q.idnumber)}]"] if q.idnumber else []
    markers += [f"[tag:{_bracketed(tag)}]" for tag in q.tags]
    head = f"// {' '.join(markers)}\n" if markers else ""
    own = q.text_format if q.text_format != "moodle" else None
    if q.title is not None:
        head += f"::{_escape(q.title)}::"
    elif q.text.startswith("//"):
        own = q.text_format  # a prefix keeps the line from being read as a comment
    return head + _text(q.text, own, q.text_format) + _BLOCK_WRITERS[q.type](q) + "\n"


def _bracketed(text: str) -> str:
    """Escape `]` inside an `[id:…]` or `[tag:…]` comment marker."""
    return text.replace("]", "\\]")


def _escape(text: str) -> str:
    """Escape GIFT's special characters and newlines as Moodle's exporter does."""
    return text.translate(_WRITE_ESCAPES)


def _text(text: str, own: str | None, inherited: str) -> str:
    """Write a field with its [format] prefix when it has its own or its text looks like one."""
    if own is None and _prefix(text):
        own = inherited  # otherwise the reader would take the text for a prefix
    return (f"[{own}]" if own else "") + _escape(text)


def _feedback(answer: Answer, q: Question) -> str:
    """Write `#feedback` when an answer has feedback."""
    if not answer.feedback:
        return ""
    return "#" + _text(answer.feedback, answer.feedback_format, q.text_format)


def _general(q: Question, indent: str) -> str:
    """Write `####general feedback`, on its own line when indented."""
    if not q.general_feedback:
        return ""
    text = "####" + _text(q.general_feedback, q.general_feedback_format, q.text_format)
    return f"{indent}{text}\n" if indent else text


def _percent(fraction: float) -> str:
    """Write a snapped fraction as a Moodle weight, with 5 decimals unless a whole percent."""
    percent = snap_fraction(fraction) * 100
    if abs(percent - round(percent)) < 1e-6:
        return f"%{round(percent)}%"
    return f"%{percent:.5f}%"


def _rows(rows: list[str], q: Question, opening: str = "{") -> str:
    """Write an indented answer block ending with the general feedback."""
    return opening + "\n" + "".join(f"\t{row}\n" for row in rows) + _general(q, "\t") + "}"


def _write_choice(q: Question) -> str:
    """Write choices; `=` marks full marks in single choice, which needs one such answer."""
    single = q.type == "multiple_choice"
    all_right = all(snap_fraction(a.fraction) == 1 for a in q.answers)
    rows = []
    for i, a in enumerate(q.answers):
        fraction = snap_fraction(a.fraction)
        if single and fraction == 1 and not (all_right and i):
            sigil = "="
        elif fraction == 0 and not a.text.startswith("%"):
            sigil = "~"
        else:
            sigil = "~" + _percent(fraction)
        rows.append(sigil + _text(a.text, a.text_format, q.text_format) + _feedback(a, q))
    return _rows(rows, q)


def _write_short(q: Question) -> str:
    """Write short answers with a weight unless full marks."""
    rows = []
    for a in q.answers:
        if "->" in a.text + (a.feedback or ""):  # `=` with `->` in a block means matching
            raise ValueError(f"GIFT cannot hold '->' in a short answer or its feedback: {a.text!r}")
        full = snap_fraction(a.fraction) == 1 and not a.text.startswith("%")
        weight = "" if full else _percent(a.fraction)
        rows.append("=" + weight + _text(a.text, a.text_format, q.text_format) + _feedback(a, q))
    return _rows(rows, q)


def _write_matching(q: Question) -> str:
    """Write `=subquestion -> answer` pairs."""
    rows = []
    for a in q.answers:
        if "->" in a.text:
            raise ValueError(f"GIFT cannot hold a matching subquestion with '->': {a.text!r}")
        rows.append(
            "=" + _text(a.text, a.text_format, q.text_format) + " -> " + _escape(a.match or "")
        )
    return _rows(rows, q)


def _write_numerical(q: Question) -> str:
    """Write numerical answers; the first wildcard worth 0 becomes the `~#feedback` line."""
    rows, wrong = [], None
    for a in q.answers:
        if wrong is None and a.text == "*" and a.fraction == 0 and a.value is None:
            wrong = "~#" + _feedback(a, q)[1:]
            continue
        weight = "" if snap_fraction(a.fraction) == 1 else _percent(a.fraction)
        prefix = f"[{a.text_format}]" if a.text_format else ""
        rows.append("=" + weight + prefix + _number_text(a) + _feedback(a, q))
    return _rows(rows + ([wrong] if wrong else []), q, "{#")


def _number_text(a: Answer) -> str:
    """Return the answer's original spelling when it still says the same, else format numbers."""
    if a.text == "*":
        return "*"
    wanted = (
        {"min": a.min, "max": a.max}
        if a.min is not None
        else {"value": a.value, "tolerance": a.tolerance or 0.0}
    )
    try:
        if _spec(a.text) == wanted:
            return a.text
    except _RecordError:
        pass
    if a.min is not None:
        return f"{_number(a.min)}..{_number(a.max or 0.0)}"
    tolerance = f":{_number(a.tolerance)}" if a.tolerance else ""
    return _number(a.value or 0.0) + tolerance


def _number(x: float) -> str:
    """Write a number without a needless `.0`."""
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _write_true_false(q: Question) -> str:
    """Write `{TRUE#wrong#right}` as Moodle does: wrong-answer feedback first."""
    by_text = {a.text: a for a in q.answers}
    true, false = by_text["true"], by_text["false"]
    is_true = true.fraction >= false.fraction
    right, wrong = (true, false) if is_true else (false, true)
    wrong_fb = _feedback(wrong, q)
    right_fb = _feedback(right, q)
    block = ("TRUE" if is_true else "FALSE") + (wrong_fb or ("#" if right_fb else "")) + right_fb
    return "{" + block + _general(q, "") + "}"


def _write_essay(q: Question) -> str:
    """Write an empty block, holding only the general feedback."""
    return "{" + _general(q, "") + "}"


_BLOCK_WRITERS: dict[str, Callable[[Question], str]] = {
    "multiple_choice": _write_choice,
    "multiple_answer": _write_choice,
    "true_false": _write_true_false,
    "short_answer": _write_short,
    "matching": _write_matching,
    "numerical": _write_numerical,
    "essay": _write_essay,
    "description": lambda q: "",  # no block: a text-only record
}
