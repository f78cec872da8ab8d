"""Question types: how each kind is shown, read back from a form, graded and explained.

The browser only ever sees option ids and rendered texts. Option ids are random tokens drawn
once per attempt and kept in its layout, so neither an id nor the order of the options tells
which one is right (QUIZ-01); the key stays in `Question.data` on the server.

A stored answer names options by their index in `data["answers"]`, so grading needs the key
only. Every `read` returns the answer to store, `{}` for "left blank", or None when the form
carried ids that are not options of this question (forged or from another question): the
saved answer is then left as it was (QUIZ-07).
"""

import random
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from flask_babel import gettext as _
from markupsafe import Markup, escape

from lms.quizzes.models import Question

Posted = Mapping[str, Sequence[str]]
Entry = dict[str, Any]
SHORT_MAX = 200
ESSAY_MAX = 20_000
_SPACES = re.compile(r"(?<=\d)\s+(?=\d)")
_NUMBER = re.compile(r"([+-]?)(\d[\d.,]*|[.,]\d+)")


def stored_html(value: str | None) -> Markup:
    """HTML of a question row: rendered and sanitised once at import (rendering.py)."""
    return Markup(value or "")  # sanitised at import  # noqa: S704  # nosec B704


def answers_of(question: Question) -> list[dict[str, Any]]:
    return list(question.data.get("answers", []))


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _tokens(indices: Sequence[int], shuffle: bool, rng: random.Random) -> list[list[Any]]:
    """Pair each option index with a fresh random id, in display order."""
    order = list(indices)
    if shuffle:
        rng.shuffle(order)
    tokens: list[str] = []
    while len(tokens) < len(order):
        token = secrets.token_hex(4)
        if token not in tokens:  # redraw on the (unlikely) collision
            tokens.append(token)
    return [[index, token] for index, token in zip(order, tokens, strict=True)]


def _by_id(pairs: Sequence[Sequence[Any]]) -> dict[str, int]:
    return {token: index for index, token in pairs}


def _text(posted: Posted, name: str, limit: int) -> dict[str, Any] | None:
    values = posted.get(name)
    if values is None:
        return None
    text = unicodedata.normalize("NFC", values[0] if values else "").replace("\x00", "").strip()
    return {"text": text[:limit]} if text else {}


def normalise_answer(text: str) -> str:
    """Free text as people mean it: NFKC (full-width letters and digits become ASCII, accents
    typed as separate marks are composed), casefolded, whitespace collapsed and trimmed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(unicodedata.normalize("NFC", folded).split())


def wildcard_match(pattern: str, response: str) -> bool:
    """Moodle's short-answer match: `*` stands for any text, `\\*` for a literal star."""
    parts = re.split(r"(?<!\\)\*", normalise_answer(pattern))
    regex = ".*".join(re.escape(part.replace("\\*", "*")) for part in parts)
    return re.fullmatch(regex, normalise_answer(response), re.DOTALL) is not None


def parse_number(text: str) -> tuple[float, ...]:
    """Read a number as Vietnamese or English speakers write it; return each plausible value.

    - NFKC first, so full-width digits and signs (`１９．０００`) read as ASCII; `−` is a minus.
    - Spaces between digits group thousands: `19 000 000` is 19000000.
    - Both `.` and `,` present: the last one is the decimal mark and the other groups thousands
      (`1.000,5` and `1,000.5` are both 1000.5).
    - One mark used twice or more groups thousands (`19.000.000`, `19,000,000`).
    - One mark used once is a decimal mark (`3,5` and `3.5` are 3.5), except that one to three
      digits (not starting with 0), the mark and exactly three digits is ambiguous: `1.000` is a
      thousand to a Vietnamese reader and one to an English one, so both values are returned
      and the answer gets the better grade of the two.
    - Anything else (letters, units, a lone mark) is not a number: an empty tuple.
    """
    s = _SPACES.sub("", unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip())
    found = _NUMBER.fullmatch(s)
    if not found:
        return ()
    sign, body = found.groups()
    values = _number_readings(body)
    return tuple(float(sign + v) for v in values)


def _grouped(digits: str, mark: str) -> bool:
    return re.fullmatch(r"\d{1,3}(?:" + re.escape(mark) + r"\d{3})+", digits) is not None


def _number_readings(body: str) -> list[str]:
    if "." in body and "," in body:
        decimal = "." if body.rfind(".") > body.rfind(",") else ","
        group = "," if decimal == "." else "."
        whole, fraction = body.rsplit(decimal, 1)
        if not fraction.isdigit() or not _grouped(whole, group):
            return []
        return [f"{whole.replace(group, '')}.{fraction}"]
    mark = "." if "." in body else ","
    parts = body.split(mark)
    if len(parts) == 1:
        return [body]
    if len(parts) > 2:
        return [body.replace(mark, "")] if _grouped(body, mark) else []
    whole, fraction = parts
    if not fraction.isdigit():
        return []
    readings = [f"{whole or '0'}.{fraction}"]
    if len(fraction) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0"):
        readings.append(whole + fraction)
    return readings


class QuestionType:
    """The default: nothing to answer, nothing to grade (a description)."""

    name: ClassVar[str]
    input: ClassVar[str | None] = None  # which form control the template draws
    graded: ClassVar[bool] = False

    @classmethod
    def layout(cls, question: Question, shuffle: bool, rng: random.Random) -> Entry | None:
        return None

    @classmethod
    def present(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> dict[str, Any]:
        return {}

    @classmethod
    def read(cls, question: Question, entry: Entry, name: str, posted: Posted) -> dict | None:
        return None

    @classmethod
    def grade(cls, question: Question, answer: dict[str, Any]) -> float:
        return 0.0

    @classmethod
    def describe(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> list[dict]:
        """The learner's answer for the review: items of {"html", "right" (or None)}."""
        return []

    @classmethod
    def feedback(cls, question: Question, answer: dict[str, Any]) -> list[str]:
        """The feedback of the answers the learner chose."""
        return []


class MultipleChoice(QuestionType):
    name = "multiple_choice"
    input = "radio"
    graded = True
    many = False

    @classmethod
    def layout(cls, question: Question, shuffle: bool, rng: random.Random) -> Entry | None:
        return {"options": _tokens(range(len(answers_of(question))), shuffle, rng)}

    @classmethod
    def present(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> dict[str, Any]:
        chosen, items = set(answer.get("choices", [])), answers_of(question)
        options = [
            {
                "id": token,
                "html": stored_html(items[index]["text_html"]),
                "checked": index in chosen,
            }
            for index, token in entry.get("options", [])
        ]
        return {"options": options}

    @classmethod
    def read(cls, question: Question, entry: Entry, name: str, posted: Posted) -> dict | None:
        values, ids = list(posted.get(name, [])), _by_id(entry.get("options", []))
        if any(value not in ids for value in values) or (len(values) > 1 and not cls.many):
            return None
        return {"choices": sorted({ids[value] for value in values})}

    @classmethod
    def _chosen(cls, question: Question, answer: dict[str, Any]) -> list[dict[str, Any]]:
        items = answers_of(question)
        return [
            items[i] for i in answer.get("choices", []) if isinstance(i, int) and i < len(items)
        ]

    @classmethod
    def grade(cls, question: Question, answer: dict[str, Any]) -> float:
        chosen = cls._chosen(question, answer)
        return _clamp(sum(float(a["fraction"]) for a in chosen[: None if cls.many else 1]))

    @classmethod
    def describe(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> list[dict]:
        return [
            {"html": stored_html(a["text_html"]), "right": a["fraction"] > 0}
            for a in cls._chosen(question, answer)
        ]

    @classmethod
    def feedback(cls, question: Question, answer: dict[str, Any]) -> list[str]:
        return [a["feedback_html"] for a in cls._chosen(question, answer) if a.get("feedback_html")]


class MultipleAnswer(MultipleChoice):
    name = "multiple_answer"
    input = "checkbox"
    many = True


class TrueFalse(QuestionType):
    name = "true_false"
    input = "radio"
    graded = True
    VALUES = ("true", "false")

    @classmethod
    def _label(cls, value: str) -> Markup:
        return escape(_("True") if value == "true" else _("False"))

    @classmethod
    def _chosen(cls, question: Question, answer: dict[str, Any]) -> dict[str, Any] | None:
        return next((a for a in answers_of(question) if a["text"] == answer.get("value")), None)

    @classmethod
    def present(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> dict[str, Any]:
        value = answer.get("value")
        options = [{"id": v, "html": cls._label(v), "checked": v == value} for v in cls.VALUES]
        return {"options": options}

    @classmethod
    def read(cls, question: Question, entry: Entry, name: str, posted: Posted) -> dict | None:
        values = list(posted.get(name, []))
        if len(values) > 1 or any(v not in cls.VALUES for v in values):
            return None
        return {"value": values[0]} if values else {}

    @classmethod
    def grade(cls, question: Question, answer: dict[str, Any]) -> float:
        chosen = cls._chosen(question, answer)
        return _clamp(float(chosen["fraction"])) if chosen else 0.0

    @classmethod
    def describe(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> list[dict]:
        chosen = cls._chosen(question, answer)
        return (
            [{"html": cls._label(chosen["text"]), "right": chosen["fraction"] > 0}]
            if chosen
            else []
        )

    @classmethod
    def feedback(cls, question: Question, answer: dict[str, Any]) -> list[str]:
        chosen = cls._chosen(question, answer)
        return [chosen["feedback_html"]] if chosen and chosen.get("feedback_html") else []


class ShortAnswer(QuestionType):
    name = "short_answer"
    input = "text"
    graded = True

    @classmethod
    def present(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> dict[str, Any]:
        return {"value": answer.get("text", ""), "maxlength": SHORT_MAX}

    @classmethod
    def read(cls, question: Question, entry: Entry, name: str, posted: Posted) -> dict | None:
        return _text(posted, name, SHORT_MAX)

    @classmethod
    def matches(cls, key: dict[str, Any], response: str) -> bool:
        return wildcard_match(key["text"], response)

    @classmethod
    def best(cls, question: Question, answer: dict[str, Any]) -> dict[str, Any] | None:
        """The matching key answer with the highest fraction (Moodle: best fraction wins)."""
        response = answer.get("text", "")
        if not response:
            return None
        found = [a for a in answers_of(question) if cls.matches(a, response)]
        return max(found, key=lambda a: a["fraction"], default=None)

    @classmethod
    def grade(cls, question: Question, answer: dict[str, Any]) -> float:
        best = cls.best(question, answer)
        return _clamp(float(best["fraction"])) if best else 0.0

    @classmethod
    def describe(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> list[dict]:
        text = answer.get("text")
        return [{"html": escape(text), "right": cls.grade(question, answer) > 0}] if text else []

    @classmethod
    def feedback(cls, question: Question, answer: dict[str, Any]) -> list[str]:
        best = cls.best(question, answer)
        return [best["feedback_html"]] if best and best.get("feedback_html") else []


class Numerical(ShortAnswer):
    name = "numerical"
    input = "number"

    @classmethod
    def matches(cls, key: dict[str, Any], response: str) -> bool:
        """value ± tolerance or min..max, for any reading of the response (see parse_number)."""
        for x in parse_number(response):
            if "min" in key and key["min"] - 1e-9 <= x <= key["max"] + 1e-9:
                return True
            if "value" in key:
                slack = float(key.get("tolerance") or 0) + 1e-9 * max(1.0, abs(key["value"]))
                if abs(x - key["value"]) <= slack:
                    return True
        return False

    @classmethod
    def best(cls, question: Question, answer: dict[str, Any]) -> dict[str, Any] | None:
        """The best matching answer; the `*` answer catches any other non-empty response."""
        response = answer.get("text", "")
        if not response:
            return None
        keys = answers_of(question)
        found = [a for a in keys if ("value" in a or "min" in a) and cls.matches(a, response)]
        if not found:
            found = [a for a in keys if a["text"] == "*" and "value" not in a and "min" not in a]
        return max(found, key=lambda a: a["fraction"], default=None)


class Matching(QuestionType):
    name = "matching"
    input = "matching"
    graded = True

    @classmethod
    def layout(cls, question: Question, shuffle: bool, rng: random.Random) -> Entry | None:
        items = answers_of(question)
        stems = [i for i, a in enumerate(items) if a["text"]]
        first: dict[str, int] = {}
        for i, a in enumerate(items):
            first.setdefault(a.get("match", ""), i)
        # The choices are always shuffled: in authored order they would line up with the stems.
        return {
            "stems": _tokens(stems, shuffle, rng),
            "choices": _tokens(list(first.values()), True, rng),
        }

    @classmethod
    def present(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> dict[str, Any]:
        items, pairs = answers_of(question), answer.get("pairs", {})
        tokens = {index: token for index, token in entry.get("choices", [])}
        stems = [
            {"id": token, "html": stored_html(items[index]["text_html"]),
             "selected": tokens.get(pairs.get(str(index)), "")}
            for index, token in entry.get("stems", [])
        ]  # fmt: skip
        choices = [
            {"id": token, "text": items[i]["match"]} for i, token in entry.get("choices", [])
        ]
        return {"stems": stems, "choices": choices}

    @classmethod
    def read(cls, question: Question, entry: Entry, name: str, posted: Posted) -> dict | None:
        ids, pairs = _by_id(entry.get("choices", [])), {}
        for index, token in entry.get("stems", []):
            values = list(posted.get(f"{name}-{token}", []))
            if len(values) > 1 or any(v and v not in ids for v in values):
                return None
            if values and values[0]:
                pairs[str(index)] = ids[values[0]]
        return {"pairs": pairs}

    @classmethod
    def _marks(cls, question: Question, answer: dict[str, Any]) -> list[tuple[int, int | None]]:
        items, pairs = answers_of(question), answer.get("pairs", {})
        return [(i, pairs.get(str(i))) for i, a in enumerate(items) if a["text"]]

    @classmethod
    def _right(cls, items: list[dict[str, Any]], stem: int, choice: int | None) -> bool:
        return (
            choice is not None
            and choice < len(items)
            and items[choice]["match"] == items[stem]["match"]
        )

    @classmethod
    def grade(cls, question: Question, answer: dict[str, Any]) -> float:
        marks, items = cls._marks(question, answer), answers_of(question)
        if not marks:
            return 0.0
        return sum(cls._right(items, stem, choice) for stem, choice in marks) / len(marks)

    @classmethod
    def describe(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> list[dict]:
        items, out = answers_of(question), []
        for stem, choice in cls._marks(question, answer):
            picked = items[choice]["match"] if choice is not None and choice < len(items) else "—"
            html = Markup("{} → {}").format(stored_html(items[stem]["text_html"]), picked)
            out.append({"html": html, "right": cls._right(items, stem, choice)})
        return out


class Essay(QuestionType):
    """Stored for the trainer to read; not auto-graded and left out of the score."""

    name = "essay"
    input = "textarea"

    @classmethod
    def present(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> dict[str, Any]:
        return {"value": answer.get("text", ""), "maxlength": ESSAY_MAX}

    @classmethod
    def read(cls, question: Question, entry: Entry, name: str, posted: Posted) -> dict | None:
        return _text(posted, name, ESSAY_MAX)

    @classmethod
    def describe(cls, question: Question, entry: Entry, answer: dict[str, Any]) -> list[dict]:
        text = answer.get("text")
        return [{"html": escape(text), "right": None}] if text else []


class Description(QuestionType):
    name = "description"


QUESTION_TYPES: dict[str, type[QuestionType]] = {
    cls.name: cls
    for cls in (
        MultipleChoice, MultipleAnswer, TrueFalse, ShortAnswer, Matching, Numerical, Essay,
        Description,
    )
}  # fmt: skip


def kind(question: Question) -> type[QuestionType]:
    """The class for a question's stored type name."""
    return QUESTION_TYPES[question.type]
