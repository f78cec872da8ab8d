"""One quiz question as a form, for trainers who do not write GIFT: fields to GIFT and back."""

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import HiddenInput

from lms.forms import BaseForm, normalise_text
from lms.quizzes import gift

ROWS = 8
# Moodle's grade list: 100% … 5%, 0%, then -5% … -100% (question_bank::fraction_options_full).
GRADES = (*gift.ALLOWED_FRACTIONS, 0.0, *(-f for f in reversed(gift.ALLOWED_FRACTIONS)))
TYPE_LABELS = {
    "multiple_choice": _l("Multiple choice (one right answer)"),
    "multiple_answer": _l("Multiple answers (several right answers)"),
    "true_false": _l("True or false"),
    "short_answer": _l("Short answer"),
    "numerical": _l("Number"),
    "matching": _l("Matching"),
}
_NUMERIC = re.compile(r"[0-9eE+\-.:*\s]+")
# "1.000" is a thousand to a Vietnamese reader and 1 to GIFT: refused rather than guessed.
_GROUPED = re.compile(r"\s*[+-]?\d{1,3}(?:[.,]\d{3})+\s*")


def percent(fraction: float) -> str:
    """A grade as Moodle shows it: 100%, 83,33333%, -50% (decimal mark of the locale)."""
    return format_decimal(fraction * 100, format="#,##0.#####") + "%"


def error_list(errors: list[gift.GiftError]) -> list[dict[str, Any]]:
    """GIFT errors for people: line, column and the message in their language."""
    out = []
    for e in errors:
        message = _(gift.MESSAGES[e.code], **e.params)
        text = _(
            "line %(line)s, column %(column)s: %(message)s",
            line=e.line,
            column=e.column,
            message=message,
        )
        out.append({"line": e.line, "column": e.column, "message": message, "text": text})
    return out


# ---- one question as a form ----------------------------------------------------------------


class QuestionInvalid(ValueError):
    """The form does not make a question learners can answer; the message says why."""


@dataclass
class Row:
    n: int
    text: str
    match: str
    fraction: float
    feedback: str | None


def grade_choices() -> list[SelectChoice]:
    return [SelectChoice(repr(f), percent(f)) for f in GRADES]


def type_choices() -> list[SelectChoice]:
    return [SelectChoice(name, str(label)) for name, label in TYPE_LABELS.items()]


def form_data(q: gift.Question | None, version: int) -> dict[str, Any]:
    """The form's fields for an existing question (or an empty form)."""
    if q is None:
        return {"edit_version": version}
    answers = q.answers
    if q.type == "true_false":  # row 1 is "True", row 2 "False"
        labels = {"true": _("True"), "false": _("False")}
        answers = [gift.Answer(labels[a.text], a.fraction, a.feedback) for a in answers]
    rows = [
        {
            "text": a.text,
            "match": a.match or "",
            "feedback": a.feedback or "",
            "grade": repr(gift.snap_fraction(a.fraction)),
        }
        for a in answers
    ]
    return {
        "type": q.type,
        "title": q.title or "",
        "text": q.text,
        "answers": rows,
        "general_feedback": q.general_feedback or "",
        "edit_version": version,
    }


def build_question(data: dict[str, Any], old: gift.Question | None) -> str:
    """The GIFT of the question the form describes, checked by the rules of its type."""
    rows = [
        Row(
            n,
            (r["text"] or "").strip(),
            (r["match"] or "").strip(),
            float(r["grade"]),
            (r["feedback"] or "").strip() or None,
        )
        for n, r in enumerate(data["answers"], 1)
    ]
    answers = _ANSWERS[data["type"]]([r for r in rows if r.text or r.match], rows)
    q = gift.Question(
        data["type"],
        data["title"].strip() or None,
        data["text"].strip(),
        old.text_format if old else "moodle",
        answers,
        data["general_feedback"].strip() or None,
    )
    if old is not None:
        q.idnumber, q.tags = old.idnumber, old.tags
    try:
        text = gift.write([q])
        same = gift.parse_one(text).type == q.type
    except gift.GiftError as exc:
        raise QuestionInvalid(error_list([exc])[0]["message"]) from exc
    except ValueError as exc:  # the writer refuses "->" where GIFT cannot hold it
        raise QuestionInvalid(_("GIFT cannot hold “->” in this answer; please reword it.")) from exc
    if not same:
        raise QuestionInvalid(_("These answers do not make a question of the chosen type."))
    return text


def _choice(filled: list[Row], rows: list[Row], many: bool = False) -> list[gift.Answer]:
    if len(filled) < 2:
        raise QuestionInvalid(_("Write at least two answers."))
    if many:
        total = sum(r.fraction for r in filled if r.fraction > 0)
        if abs(total - 1) > 1e-4:
            raise QuestionInvalid(
                _(
                    "The grades of the right answers must add up to 100%% (now %(total)s).",
                    total=percent(total),
                )
            )
    elif sum(r.fraction == 1 for r in filled) != 1:
        raise QuestionInvalid(_("Give exactly one answer the grade 100%: the right answer."))
    return [gift.Answer(r.text, r.fraction, r.feedback) for r in filled]


def _true_false(filled: list[Row], rows: list[Row]) -> list[gift.Answer]:
    yes, no = rows[0], rows[1]
    if (yes.fraction == 1) == (no.fraction == 1):
        raise QuestionInvalid(_("Give 100% to row 1 (True) or to row 2 (False), not both."))
    return [
        gift.Answer("true", float(yes.fraction == 1), yes.feedback),
        gift.Answer("false", float(no.fraction == 1), no.feedback),
    ]


def _accepted(filled: list[Row], numeric: bool) -> list[gift.Answer]:
    if not any(r.fraction == 1 for r in filled):
        raise QuestionInvalid(_("Give at least one accepted answer the grade 100%."))
    if any(r.fraction < 0 for r in filled):
        raise QuestionInvalid(_("Accepted answers cannot have a negative grade."))
    return [_number(r) if numeric else gift.Answer(r.text, r.fraction, r.feedback) for r in filled]


def _number(row: Row) -> gift.Answer:
    """A numerical answer: 24, 24:2 (give or take 2), 20..30, or * for any other answer."""
    if "," in row.text or any(_GROUPED.fullmatch(n) for n in re.split(r":|\.\.", row.text)):
        raise QuestionInvalid(
            _(
                "Row %(num)s: write numbers without thousands separators and with a dot for "
                "decimals, for example 19000000 or 3.5.",
                num=row.n,
            )
        )
    try:
        if not _NUMERIC.fullmatch(row.text):
            raise ValueError(row.text)
        answer = gift.parse_one("{#" + row.text + "}").answers[0]
    except ValueError as exc:
        raise QuestionInvalid(
            _(
                "Row %(num)s: “%(value)s” is not a number (write for example "
                "24, 3.5, 24:2 or 20..30).",
                num=row.n,
                value=row.text,
            )
        ) from exc
    answer.fraction, answer.feedback = row.fraction, row.feedback
    return answer


def _matching(filled: list[Row], rows: list[Row]) -> list[gift.Answer]:
    for r in filled:
        if not r.match:
            raise QuestionInvalid(_("Row %(num)s: write what the item matches.", num=r.n))
    if sum(1 for r in filled if r.text) < 2:
        raise QuestionInvalid(_("Write at least two items, each with what it matches."))
    return [gift.Answer(r.text, 1.0 if r.text else 0.0, None, match=r.match) for r in filled]


_ANSWERS = {
    "multiple_choice": _choice,
    "multiple_answer": lambda filled, rows: _choice(filled, rows, many=True),
    "true_false": _true_false,
    "short_answer": lambda filled, rows: _accepted(filled, numeric=False),
    "numerical": lambda filled, rows: _accepted(filled, numeric=True),
    "matching": _matching,
}


def put_question(source: str, index: int | None, written: str) -> str:
    """The GIFT text with question `index` replaced by `written`, or with it appended; every
    other line is kept as the trainer wrote it (comments included)."""
    lines = re.split(r"\r\n|\r|\n", source)
    if index is None:
        head = "\n".join(lines).rstrip()
        return (head + "\n\n" if head else "") + written
    start = gift.parse(source, collect_errors=True)[0][index].line - 1
    blank = (i for i in range(start, len(lines)) if not lines[i].strip(" \t\r\0\x0b"))
    end = next(blank, len(lines))
    kept = [
        s
        for s in lines[start:end]
        if s.lstrip().startswith("//") and "[id:" not in s and "[tag:" not in s
    ]
    return "\n".join(lines[:start] + kept + written.rstrip("\n").split("\n") + lines[end:])


# ---- forms ---------------------------------------------------------------------------------


class QuizForm(BaseForm):
    source = TextAreaField(_l("Questions in GIFT format"), render_kw={"rows": 24})
    edit_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class AnswerRow(Form):
    text = StringField(_l("Answer"), [Length(max=2000)], filters=[normalise_text])
    match = StringField(_l("Matches (matching only)"), [Length(max=500)], filters=[normalise_text])
    grade = SelectField(_l("Grade"), choices=grade_choices, default="0.0")
    feedback = StringField(_l("Feedback"), [Length(max=2000)], filters=[normalise_text])


class QuestionForm(BaseForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            if unbound_field.field_class in (FieldList, FormField):  # no filters: rows have them
                return unbound_field.bind(form=form, **options)
            return super().bind_field(form, unbound_field, options)

    type = SelectField(_l("Kind of question"), choices=type_choices)
    title = StringField(_l("Title (optional)"), validators=[Length(max=300)])
    text = TextAreaField(
        _l("Question"),
        validators=[DataRequired(_l("Please write the question."))],
        render_kw={"rows": 4},
    )
    answers = FieldList(FormField(AnswerRow), min_entries=ROWS, max_entries=ROWS)
    general_feedback = TextAreaField(_l("General feedback (optional)"), render_kw={"rows": 2})
    edit_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
