"""GIFT reader and writer: Moodle's semantics, checked against the gift-pegjs and Moodle anchors."""

from __future__ import annotations

import json
import os
import random
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from lms.quizzes.gift import (
    ALLOWED_FRACTIONS,
    FORMATS,
    MESSAGES,
    Answer,
    GiftError,
    Question,
    parse,
    parse_one,
    snap_fraction,
    write,
)

# The anchors live outside the product repo (shared/anchors/gift, see its PROVENANCE.md).
ANCHORS = Path(
    os.environ.get("GIFT_ANCHORS_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "anchors" / "gift"
)

# fmt: off
PEGJS_FIXTURES = [
    "TFTwoFeedback", "category1", "categorySpecialCharacter", "description1",
    "descriptionTitleEscapedColon", "descriptionWithID", "escapeAll", "escapeColon",
    "escapeEquals", "essay1", "formatExamples", "giftFormatPhpExamples", "markdown", "matching1",
    "mc1", "mc2", "mc4", "mc5", "mcHTMLComment", "multiLineFeedback1", "multipleAnswersFloat",
    "newlineAndLaTeX", "numerical1", "options1", "shortAnswer1", "shortAnswer2",
    "shortAnswerNotMatching", "shortFirstEmbedded", "shortFirstEmbeddedUnderline",
    "shortFirstEmbeddedUnderlineHTML", "symbolsAll", "tag_id", "tag_id_and_two_tags",
    "tag_two_tags", "tf1", "tf1_html", "tf1_markdown", "tf2", "totara_moodle_backslash",
    "totara_moodle_essay", "totara_moodle_match", "totara_moodle_multichoice",
    "totara_moodle_multichoice_multi", "totara_moodle_numerical", "totara_moodle_pre_content",
    "totara_moodle_shortanswer", "totara_moodle_shortanswer_general_feedback",
    "totara_moodle_truefalse", "totara_moodle_truefalse_true_answer1",
    "totara_moodle_truefalse_true_answer2", "type_inferred_multiline_markdown",
]
# fmt: on
MOODLE_FIXTURES = ["questions.gift.txt", "questions_in_category.gift.txt", "examples.txt"]

# Fixtures the adapter cannot compare. None today: every known difference between gift-pegjs and
# Moodle is either mapped by the adapter below or neutralised by its whitespace rule, and each one
# is pinned to Moodle's behaviour by a `test_divergence_*` test. A fixture added here must name
# its reason and get a test asserting Moodle's answer for it.
PEGJS_NOT_COMPARABLE: dict[str, str] = {}


def anchor(relative: str) -> str:
    """Return an anchor file's text, skipping the test when the shared anchors are absent."""
    if not ANCHORS.is_dir():
        pytest.skip(f"GIFT anchors not found at {ANCHORS} (set GIFT_ANCHORS_DIR)")
    return (ANCHORS / relative).read_text(encoding="utf-8")


def pegjs(name: str) -> tuple[str, list[dict[str, Any]]]:
    """Return a gift-pegjs input and its expected output."""
    return anchor(f"gift-pegjs/{name}.gift"), json.loads(anchor(f"gift-pegjs/{name}.json"))


def no_line(questions: list[Question]) -> list[dict[str, Any]]:
    """Return the questions' JSON without source lines, for comparing re-read questions."""
    return [{k: v for k, v in q.to_json().items() if k != "line"} for q in questions]


# ---------------------------------------------------------------- the gift-pegjs adapter
#
# Their model -> ours:
# * type: MC is multiple_choice when a choice uses `=` (isCorrect), else multiple_answer (Moodle's
#   `single`); Short, TF, Numerical, Essay, Description, Matching map by name; a Category entry is
#   not a question but sets `category` on the questions after it.
# * weight is a percentage (or null): fraction = weight / 100, else 1 for `=` and 0 for `~`.
#   isCorrect is the sigil, never the grade (divergence 4).
# * TF feedback is positional in gift-pegjs (trueFeedback = first `#`, falseFeedback = second);
#   Moodle shows the first for the WRONG answer and the second for the RIGHT one (divergence 1).
#   Our answers carry the feedback shown when each is chosen, so the adapter re-pairs them.
# * Numerical: simple -> value, tolerance 0; range -> value, tolerance; high-low -> min, max
#   (divergence 3). The "*" entry from `~#feedback` is a 0-worth wildcard answer.
# * Formats: gift-pegjs spells out every field's format; ours is the field's own prefix, else the
#   question's, so both are compared as effective formats.
# * Text is compared with whitespace runs collapsed and no space around `_____`: gift-pegjs pads
#   the blank (divergence 2) and joins lines with spaces, where Moodle trims each line and keeps
#   the newlines (divergence 6). The named tests pin the exact Moodle text.


def ws(text: str | None) -> str | None:
    """Collapse whitespace, and the padding gift-pegjs puts around a missing-word blank."""
    if text is None:
        return None
    return re.sub(r"\s*_____\s*", "_____", re.sub(r"\s+", " ", text).strip())


def from_pegjs(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Map a gift-pegjs expected output to our comparable view."""
    out, category = [], None
    for item in items:
        if item["type"] == "Category":
            category = item["title"]
            continue
        gf = item.get("globalFeedback")
        out.append(
            {
                "type": _pegjs_type(item),
                "title": item["title"],
                "text": ws(item["stem"]["text"]),
                "text_format": item["stem"]["format"],
                "general_feedback": ws(gf and gf["text"]),
                "general_feedback_format": gf and gf["format"],
                "category": category,
                "id": item["id"],
                "tags": item["tags"] or [],
                "answers": _pegjs_answers(item),
            }
        )
    return out


def _pegjs_type(item: dict[str, Any]) -> str:
    if item["type"] == "MC":
        return (
            "multiple_choice" if any(c["isCorrect"] for c in item["choices"]) else "multiple_answer"
        )
    return {
        "Short": "short_answer",
        "TF": "true_false",
        "Numerical": "numerical",
        "Essay": "essay",
        "Description": "description",
        "Matching": "matching",
    }[item["type"]]


def _view(text: str | None, fmt: str | None, fraction: float, fb: Any = None) -> dict[str, Any]:
    return {
        "text": ws(text),
        "format": fmt,
        "fraction": round(fraction, 7),
        "feedback": ws(fb and fb["text"]),
        "feedback_format": fb and fb["format"],
    }


def _pegjs_fraction(choice: dict[str, Any]) -> float:
    if choice["weight"] is not None:
        return float(choice["weight"]) / 100
    return 1.0 if choice["isCorrect"] else 0.0


def _pegjs_number(spec: dict[str, Any]) -> dict[str, float]:
    if spec["type"] == "high-low":
        return {"min": spec["numberLow"], "max": spec["numberHigh"]}
    return {"value": spec["number"], "tolerance": spec.get("range", 0)}


def _pegjs_answers(item: dict[str, Any]) -> list[dict[str, Any]]:
    kind = item["type"]
    if kind in ("MC", "Short"):
        return [
            _view(c["text"]["text"], c["text"]["format"], _pegjs_fraction(c), c["feedback"])
            for c in item["choices"]
        ]
    if kind == "TF":
        first, second = item["trueFeedback"], item["falseFeedback"]
        on_true, on_false = (second, first) if item["isTrue"] else (first, second)
        return [
            _view("true", None, item["isTrue"], on_true),
            _view("false", None, not item["isTrue"], on_false),
        ]
    if kind == "Matching":
        return [
            {
                **_view(
                    p["subquestion"]["text"],
                    p["subquestion"]["format"],
                    1.0 if p["subquestion"]["text"] else 0.0,
                ),
                "match": p["subanswer"],
            }
            for p in item["matchPairs"]
        ]
    if kind == "Numerical":
        choices = item["choices"]
        if isinstance(choices, dict):
            return [{**_view(None, None, 1.0), **_pegjs_number(choices)}]
        return [
            _view("*", None, _pegjs_fraction(c), c["feedback"])
            if "format" in c["text"]
            else {
                **_view(None, None, _pegjs_fraction(c), c["feedback"]),
                **_pegjs_number(c["text"]),
            }
            for c in choices
        ]
    return []


def ours(q: Question) -> dict[str, Any]:
    """Our question in the adapter's comparable view."""
    gf_format = (q.general_feedback_format or q.text_format) if q.general_feedback else None
    return {
        "type": q.type,
        "title": q.title,
        "text": ws(q.text),
        "text_format": q.text_format,
        "general_feedback": ws(q.general_feedback),
        "general_feedback_format": gf_format,
        "category": q.category,
        "id": q.idnumber,
        "tags": q.tags,
        "answers": [_our_answer(q, a) for a in q.answers],
    }


def _our_answer(q: Question, a: Answer) -> dict[str, Any]:
    number = q.type == "numerical" and a.text != "*"
    fmt = None if q.type in ("numerical", "true_false") else a.text_format or q.text_format
    fb = a.feedback and {"text": a.feedback, "format": a.feedback_format or q.text_format}
    view = _view(None if number else a.text, fmt, a.fraction, fb)
    if q.type == "matching":
        view["match"] = a.match
    if number:
        view.update(
            {
                k: getattr(a, k)
                for k in ("value", "tolerance", "min", "max")
                if getattr(a, k) is not None
            }
        )
    return view


# A category-only file gives no question, so a probe question shows the category it set.
PROBE = "::probe::Probe?{}"
PROBE_PEGJS = {
    "type": "Essay",
    "title": "probe",
    "id": None,
    "tags": None,
    "stem": {"format": "moodle", "text": "Probe?"},
    "globalFeedback": None,
}


def test_pegjs_fixture_list_is_complete() -> None:
    anchor("gift-pegjs/LICENSE.txt")
    assert sorted(p.stem for p in (ANCHORS / "gift-pegjs").glob("*.gift")) == sorted(PEGJS_FIXTURES)
    assert set(PEGJS_NOT_COMPARABLE) <= set(PEGJS_FIXTURES)


@pytest.mark.parametrize("name", [n for n in PEGJS_FIXTURES if n not in PEGJS_NOT_COMPARABLE])
def test_pegjs_fixture(name: str) -> None:
    text, expected = pegjs(name)
    if expected and expected[-1]["type"] == "Category":
        text, expected = f"{text}\n\n{PROBE}\n", [*expected, PROBE_PEGJS]
    questions = parse(text)
    assert [ours(q) for q in questions] == from_pegjs(expected)
    items = [item for item in expected if item["type"] != "Category"]
    for q, item in zip(questions, items, strict=True):
        if item.get("hasEmbeddedAnswers"):
            assert "_____" in q.text


# ---------------------------------------------------------------- deliberate differences


def tf(q: Question) -> dict[str, tuple[float, str | None]]:
    """Return {answer: (fraction, feedback shown when chosen)} of a true/false question."""
    return {a.text: (a.fraction, a.feedback) for a in q.answers}


def test_divergence_1_true_false_first_feedback_is_for_the_wrong_answer() -> None:
    # TFTwoFeedback.gift: gift-pegjs calls this trueFeedback; Moodle stores it as feedbackfalse.
    q = parse("Grant is buried in Grant's tomb.{TRUE#feedback for true}")[0]
    assert tf(q) == {"true": (1.0, None), "false": (0.0, "feedback for true")}
    q = parse("Grant is buried in Grant's tomb.{TRUE# #feedback for false}")[0]
    assert tf(q) == {"true": (1.0, "feedback for false"), "false": (0.0, None)}
    q = parse("Grant is buried in Grant's tomb.{FALSE#feedback for true #feedback for false}")[0]
    assert tf(q) == {"true": (0.0, "feedback for true"), "false": (1.0, "feedback for false")}


def test_divergence_2_missing_word_blank_is_not_padded() -> None:
    # numerical1.gift: gift-pegjs gives "...places)? _____ ."
    q = parse("What is the value of pi (to 3 decimal places)? {#3.1415:0.0005}.")[0]
    assert q.text == "What is the value of pi (to 3 decimal places)? _____."


def test_divergence_3_range_keeps_its_bounds_and_weights_are_fractions() -> None:
    # numerical1.gift high-low and multipleAnswersFloat.gift's 33.33333 percent.
    q = parse("What is the value of pi (to 3 decimal places)? {#3.141..3.142}.")[0]
    assert q.answers[0].to_json("numerical") == {
        "text": "3.141..3.142",
        "fraction": 1.0,
        "feedback": None,
        "min": 3.141,
        "max": 3.142,
    }
    fractions = [
        a.fraction for a in parse(anchor("gift-pegjs/multipleAnswersFloat.gift"))[0].answers
    ]
    assert fractions == [0.3333333, 0.3333333, -1.0, 0.3333333, -1.0]


def test_divergence_4_fraction_comes_from_the_weight_not_the_sigil() -> None:
    # gift-pegjs: `=%0%*` isCorrect true, `~%50%` isCorrect false.
    q = parse("Best animal?{=Frog =%50%Cat =%0%*#Completely wrong}")[0]
    assert [a.fraction for a in q.answers] == [1.0, 0.5, 0.0]
    q = parse("Difficult question.{~wrong answer ~%50%half credit answer =full credit answer}")[0]
    assert [a.fraction for a in q.answers] == [0.0, 0.5, 1.0]


def test_divergence_5_numerical_wrong_feedback_without_equals() -> None:
    # totara_moodle_numerical.gift rewrote Moodle's own test input; Moodle reads both forms.
    original = parse("::Q5:: What is a number from 1 to 5? {#3:2~#Completely wrong}")
    rewritten = parse("::Q5:: What is a number from 1 to 5? {#\n=3:2\n~#Completely wrong}")
    assert no_line(original) == no_line(rewritten)


def test_divergence_6_lines_are_trimmed_and_newlines_kept() -> None:
    # multiLineFeedback1.gift: gift-pegjs joins the lines with a space.
    q = parse(anchor("gift-pegjs/multiLineFeedback1.gift"))[0]
    assert q.answers[1].feedback == "feedback comment on this wrong answer\non multiple lines"
    assert q.general_feedback == "Global feedback split\non multiple lines"
    # markdown.gift: Moodle trims every line, losing indentation and two-space line breaks;
    # `\n` escapes keep them.
    lines, escaped = parse(anchor("gift-pegjs/markdown.gift"))[2:]
    assert lines.text == "nested lists\n- item 1\n- nested item 1\n- item 2"
    assert escaped.text == "nested lists  \n- item 1\n    - nested item 1\n- item 2"


def test_moodle_multichoice_equals_ignores_a_weight() -> None:
    # format.php gives `=` full marks without reading a `%w%` after it.
    q = parse("Q?{=%50%half ~other}")[0]
    assert [(a.text, a.fraction) for a in q.answers] == [("%50%half", 1.0), ("other", 0.0)]


def test_moodle_true_false_is_upper_case_only() -> None:
    assert parse("Q?{true}")[0].type == "short_answer"


# ---------------------------------------------------------------- Moodle's own fixtures


def test_moodle_questions_fixture_imports_nine_questions() -> None:
    questions = parse(anchor("moodle/questions.gift.txt"))
    assert [q.type for q in questions] == [
        "essay",
        "matching",
        "multiple_choice",
        "multiple_answer",
        "numerical",
        "short_answer",
        "true_false",
        "true_false",
        "true_false",
    ]
    # The stray `";` after a block sends Moodle down the missing-word path.
    assert questions[4].text == 'What is a number from 1 to 5? _____";'


def test_moodle_questions_in_category() -> None:
    questions = parse(anchor("moodle/questions_in_category.gift.txt"))
    assert [q.type for q in questions] == [
        "matching",
        "multiple_choice",
        "short_answer",
        "true_false",
    ]
    assert {q.category for q in questions} == {"$course$/Default for New Features"}
    assert questions[1].text.startswith(
        '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">Listen to this greeting:</a>'
    )
    assert [(a.text, a.fraction, a.feedback) for a in questions[2].answers] == [
        ("Moodler", 1.0, None)
    ]
    assert questions[3].title == "Moodle acronym"
    assert tf(questions[3])["true"][0] == 1.0


def test_moodle_examples_parse_with_sensible_types() -> None:
    questions = parse(anchor("moodle/examples.txt"))
    by_title = {q.title: q for q in questions if q.title}
    assert len(questions) == 43
    assert by_title["Kanji Origins"].type == "short_answer"
    assert by_title["Thanksgiving Date"].text.endswith("on the _____ Thursday of November.")
    assert by_title["GIFT Control Characters"].answers[5].text == "\\"
    numerical = by_title["Numerical example"]
    assert [(a.value, a.tolerance, a.fraction) for a in numerical.answers] == [
        (1822.0, 0.0, 1.0),
        (1822.0, 2.0, 0.5),
    ]
    assert by_title["Jesus' hometown (Short answer ex.)"].type == "short_answer"


# ---------------------------------------------------------------- giftformat_test.php cases

MOODLE_MC = """
// multiple choice with specified feedback for right and wrong answers
::Q2:: What's between orange and green in the spectrum?
{
    =yellow # right; good!
    ~red # [html]wrong, it's yellow
    ~[plain]blue # wrong, it's yellow
}"""


def test_moodle_import_multichoice() -> None:
    q = parse_one(MOODLE_MC)
    assert (q.type, q.title, q.text, q.text_format) == (
        "multiple_choice",
        "Q2",
        "What's between orange and green in the spectrum?",
        "moodle",
    )
    assert [(a.text, a.text_format, a.fraction) for a in q.answers] == [
        ("yellow", None, 1.0),
        ("red", None, 0.0),
        ("blue", "plain", 0.0),
    ]
    assert [(a.feedback, a.feedback_format) for a in q.answers] == [
        ("right; good!", None),
        ("wrong, it's yellow", "html"),
        ("wrong, it's yellow", None),
    ]


def test_moodle_import_multichoice_multi_and_tricky() -> None:
    multi = parse_one(
        "::colours:: Colour?\n{\n~%50%yellow # right; good!\n~%-100%red # [html]wrong"
        "\n~%50%off-beige # right; good!\n~%-100%[plain]blue # wrong\n}"
    )
    assert multi.type == "multiple_answer"
    assert [a.fraction for a in multi.answers] == [0.5, -1.0, 0.5, -1.0]
    assert multi.answers[3].text_format == "plain"
    assert multi.answers[1].feedback_format == "html"
    tricky = parse_one(
        "::colours:: Colour?\n{\n~%100%yellow # right; good!\n~%-50%red # wrong\n"
        "~%-50%blue # wrong\n}"
    )
    assert [a.fraction for a in tricky.answers] == [1.0, -0.5, -0.5]


def test_moodle_import_numerical() -> None:
    q = parse_one(
        "// math range question\n::Q5:: What is a number from 1 to 5? {#3:2~#Completely wrong}"
    )
    assert q.text == "What is a number from 1 to 5?"
    assert [(a.text, a.fraction, a.value, a.tolerance, a.feedback) for a in q.answers] == [
        ("3:2", 1.0, 3.0, 2.0, None),
        ("*", 0.0, None, None, "Completely wrong"),
    ]


def test_moodle_import_shortanswer_with_general_feedback() -> None:
    q = parse_one(
        "::Shortanswer::Which is the best animal?{\n=Frog#Good!\n"
        "=%50%Cat#What is it with Moodlers and cats?\n=%0%*#Completely wrong\n"
        "####[html]Here is some general feedback!\n}"
    )
    assert [(a.text, a.fraction) for a in q.answers] == [("Frog", 1.0), ("Cat", 0.5), ("*", 0.0)]
    assert (q.general_feedback, q.general_feedback_format) == (
        "Here is some general feedback!",
        "html",
    )


def test_moodle_import_truefalse() -> None:
    q = parse_one(
        "// true/false\n::Q1:: 42 is the Absolute Answer to everything.{\n"
        "FALSE#42 is the Ultimate Answer.#You gave the right answer.}"
    )
    assert tf(q) == {
        "true": (0.0, "42 is the Ultimate Answer."),
        "false": (1.0, "You gave the right answer."),
    }
    for short, long in (("{T}", "{TRUE}"), ("{F}", "{FALSE}")):
        assert tf(parse_one(f"::2-08 TSL::TSL is blablabla.{short}")) == tf(
            parse_one(f"::2-08 TSL::TSL is blablabla.{long}")
        )
    assert parse_one("::2-08 TSL::TSL is blablabla.{T}").title == "2-08 TSL"


def test_moodle_backslash_round_trip() -> None:
    q = parse_one("// essay\n::double backslash:: A \\\\ B \\\\\\\\ C{}")
    assert q.text == "A \\ B \\\\ C"
    q.title = "backslash"
    assert write([q]) == "::backslash::A \\\\ B \\\\\\\\ C{}\n"


def test_moodle_import_pre_content() -> None:
    q = parse_one(
        "::Q001::[html]<p>What would running the test method print?</p>\n<pre>\n"
        "    public void test() \\{\n        method1();\n    \\}\n</pre>\n{}"
    )
    assert (q.type, q.text_format) == ("essay", "html")
    # giftformat_test calls readquestion() directly and so keeps the indentation (as does
    # totara_moodle_pre_content.json); a real import goes through readquestions(), which trims
    # every line first, so Moodle loses the indentation inside <pre> too.
    assert q.text == (
        "<p>What would running the test method print?</p>\n<pre>\n"
        "public void test() {\nmethod1();\n}\n</pre>"
    )


def test_moodle_tags_and_idnumber() -> None:
    q = parse_one(
        "// This question is to test importing tags: [tag:tag] [tag:other-tag].\n"
        "// And an idnumber: [id:myid].\n::Question name:: How are you? {}"
    )
    assert (q.idnumber, q.tags) == ("myid", ["tag", "other-tag"])


@pytest.mark.parametrize(
    ("comment", "idnumber", "tags"),
    [
        ("// A basic comment.", None, []),
        ("// A comment with [id:frog] <-- an idnumber.", "frog", []),
        ("// Look tags: [tag:frog] [tag:toad].", None, ["frog", "toad"]),
        ("// [tag:add] [tag:basic] [id:four]", "four", ["add", "basic"]),
        (
            "// [tag:  basic] Here is  \n// a [id:   four   ] que[tag:add   ]stion.",
            "four",
            ["basic", "add"],
        ),
        ("// Ceci n'est pas une [tag:\n// \\ frog].", None, []),
        ("// [id:i\\]d].", "i]d", []),
        ("// [tag:t\\]ag].", None, ["t]ag"]),
    ],
)
def test_moodle_extract_idnumber_and_tags(
    comment: str, idnumber: str | None, tags: list[str]
) -> None:
    q = parse_one(f"{comment}\nEssay?{{}}")
    assert (q.idnumber, q.tags) == (idnumber, tags)


# Moodle's export tests, without the `// question: 666  name: …` header it adds.
def test_moodle_export_exact_text() -> None:
    mc = parse_one(MOODLE_MC)
    mc.title = "Q8"
    assert write([mc]) == (
        "::Q8::What's between orange and green in the spectrum?{\n\t=yellow#right;"
        " good!\n\t~red#[html]wrong, it's yellow\n\t~[plain]blue#wrong, it's yellow\n}\n"
    )
    tricky = Question(
        "multiple_answer",
        "Q8",
        "Spectrum?",
        "moodle",
        [
            Answer("yellow", 1, "right; good!"),
            Answer("red", -0.5, "wrong"),
            Answer("blue", -0.5, "wrong"),
        ],
        None,
    )
    assert write([tricky]) == (
        "::Q8::Spectrum?{\n\t~%100%yellow#right; good!\n\t~%-50%red#wrong\n\t~%-50%blue#wrong\n}\n"
    )
    match = Question(
        "matching",
        "Moodle activities",
        "Match the <b>activity</b> to the description.",
        "html",
        [
            Answer('<div class="frog">An activity.</div>', 1, match="Forum"),
            Answer("A teacher asks.", 1, text_format="moodle", match="Choice"),
            Answer("", 0, match="Chat"),
        ],
        None,
    )
    assert write([match]) == (
        "::Moodle activities::[html]Match the <b>activity</b> to the description.{\n"
        '\t=<div class\\="frog">An activity.</div> -> Forum\n\t=[moodle]A teacher asks. -> Choice\n'
        "\t= -> Chat\n}\n"
    )


def test_moodle_export_truefalse_with_tags_and_idnumber() -> None:
    q = Question(
        "true_false",
        "True/false question",
        "The answer is true.",
        "html",
        [
            Answer("true", 1, "This is the right answer."),
            Answer("false", 0, "This is the wrong answer."),
        ],
        "You should have selected true.",
        idnumber="myid",
        tags=["tag1", "tag2"],
    )
    assert write([q]) == (
        "// [id:myid] [tag:tag1] [tag:tag2]\n::True/false question::[html]The answer is true.{TRUE"
        "#This is the wrong answer.#This is the right answer.####You should have selected true.}\n"
    )
    only_right = Question(
        "true_false", "Q1", "42?", "moodle", [Answer("true", 0), Answer("false", 1, "Right.")], None
    )
    assert write([only_right]) == "::Q1::42?{FALSE##Right.}\n"
    assert no_line(parse(write([only_right]))) == no_line([only_right])


def test_moodle_export_numerical_and_shortanswer_read_back_as_moodle_writes_them() -> None:
    # Our writer omits Moodle's `%100%` and empty `#`; both spellings read the same.
    moodle = "::Q5::What is a number from 1 to 5?{#\n\t=%100%3:2#\n\t~#Completely wrong\n}\n"
    assert no_line(parse(write(parse(moodle)))) == no_line(parse(moodle))
    assert (
        write(parse(moodle))
        == "::Q5::What is a number from 1 to 5?{#\n\t=3:2\n\t~#Completely wrong\n}\n"
    )
    moodle = (
        "::Shortanswer::Which is the best animal?{\n\t=%100%Frog#Good!\n\t=%50%Cat#Cats?\n"
        "\t=%0%*#Completely wrong\n\t####[html]Here is some general feedback!\n}\n"
    )
    assert no_line(parse(write(parse(moodle)))) == no_line(parse(moodle))


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    "relative",
    [f"gift-pegjs/{n}.gift" for n in PEGJS_FIXTURES] + [f"moodle/{n}" for n in MOODLE_FIXTURES],
)
def test_round_trip(relative: str) -> None:
    questions = parse(anchor(relative))
    written = write(questions)
    assert no_line(parse(written)) == no_line(questions)
    assert write(parse(written)) == written


def test_round_trip_generated_questions() -> None:
    rng = random.Random(2021)
    questions = [_generated(rng, i) for i in range(60)]
    written = write(questions)
    assert no_line(parse(written)) == no_line(questions)
    assert "\r" not in written
    assert "\n\n\n" not in written


TRICKY = [
    "Tiền lương",
    "a = b",
    "x ~ y",
    "#1 # 2",
    "{braces}",
    "C:\\path\\n",
    "50% -> 60%",
    "dòng 1\ndòng 2",
    "[html]not a prefix",
    "// not a comment",
    "Đoàn viên: 1000",
    "%20%",
    "\\",
    "_____ trống",
    "####",
]


KINDS = ["multiple_choice", "multiple_answer", "short_answer", "matching", "numerical",
         "true_false", "essay", "description"]  # fmt: skip


def _generated(rng: random.Random, i: int) -> Question:
    """Build a valid question of each type from awkward texts."""
    kind = KINDS[i % 8]
    # In a block with `=`, a `->` anywhere makes Moodle read a matching question.
    pool = [t for t in TRICKY if kind != "short_answer" or "->" not in t]

    def text() -> str:
        return f"{rng.choice(pool)} {i}"

    def fb() -> str | None:
        return rng.choice([None, text()])

    q = Question(
        kind, rng.choice([None, text()]), rng.choice(TRICKY), rng.choice(FORMATS), [], fb()
    )
    q.category = ["Chủ đề 1", "Chủ đề 2: lương"][i // 30]
    q.idnumber = rng.choice([None, f"q]{i}"])
    q.tags = rng.sample(["lương", "an toàn", "x]y"], rng.randint(0, 2))
    if kind in ("multiple_choice", "multiple_answer", "short_answer"):
        fractions = (
            [1.0, 0.0, 0.3333333, -0.5] if kind == "multiple_choice" else [0.5, 0.1666667, 0]
        )
        own = [None, "plain" if q.text_format != "plain" else "html"]  # None: the question's
        q.answers = [Answer(text(), f, fb(), rng.choice(own)) for f in fractions]
    elif kind == "matching":
        q.answers = [Answer(f"Câu {n}: {i}", 1.0, match=text()) for n in range(3)]
        q.answers.append(Answer("", 0.0, match="thừa"))
    elif kind == "numerical":
        q.answers = [
            Answer("1822:2", 1.0, fb(), value=1822.0, tolerance=2.0),
            Answer("1..5", 0.5, None, min=1.0, max=5.0),
            Answer("*", 0.0, fb()),
        ]
    elif kind == "true_false":
        right = rng.random() < 0.5
        q.answers = [Answer("true", float(right), fb()), Answer("false", float(not right), fb())]
    elif kind == "description":
        q.general_feedback = None  # GIFT has nowhere to put it
    return q


def test_write_refuses_what_gift_cannot_hold() -> None:
    for answer in (Answer("a -> b", 1.0), Answer("a", 1.0, "a -> b")):
        with pytest.raises(ValueError, match="->"):
            write([Question("short_answer", None, "Q?", "moodle", [answer], None)])
    with pytest.raises(ValueError, match="->"):
        write(
            [Question("matching", None, "Q?", "moodle", [Answer("a -> b", 1.0, match="c")], None)]
        )


def test_write_formats_numbers_when_the_text_no_longer_says_them() -> None:
    answers = [Answer("", 1.0, value=3.5, tolerance=0.25), Answer("1..5", 0.5, min=1.0, max=2.0),
               Answer("7", 0.1, value=7.0, tolerance=0.0), Answer("*", 0.5)]  # fmt: skip
    q = Question("numerical", None, "Q?", "moodle", answers, None)
    assert write([q]) == "Q?{#\n\t=3.5:0.25\n\t=%50%1..2\n\t=%10%7\n\t=%50%*\n}\n"
    assert parse_one("Q?{#=[html]3:1#[html]<b>ok</b>}").answers[0].to_json("numerical") == {
        "text": "3:1", "fraction": 1.0, "feedback": "<b>ok</b>", "text_format": "html",
        "feedback_format": "html", "value": 3.0, "tolerance": 1.0}  # fmt: skip


def test_write_emits_category_records_only_when_the_category_changes() -> None:
    qs = [
        Question("essay", None, f"Q{n}?", "moodle", [], None, category=c)
        for n, c in enumerate(["A", "A", "B"])
    ]
    written = write(qs)
    assert written.count("$CATEGORY:") == 2
    assert written == "$CATEGORY: A\n\nQ0?{}\n\nQ1?{}\n\n$CATEGORY: B\n\nQ2?{}\n"


# ---------------------------------------------------------------- weights


def test_snap_fraction() -> None:
    assert snap_fraction(0.3333) == 0.3333333
    assert snap_fraction(0.34) == 0.3333333
    assert snap_fraction(-0.49) == -0.5
    assert snap_fraction(0.02) == 0.0
    assert snap_fraction(1.7) == 1.0


@pytest.mark.parametrize("fraction", [*ALLOWED_FRACTIONS, *(-f for f in ALLOWED_FRACTIONS)])
def test_written_weights_pass_moodles_grade_check(fraction: float) -> None:
    q = Question(
        "multiple_answer", None, "Q?", "moodle", [Answer("a", fraction), Answer("b", 0)], None
    )
    written = write([q])
    weight = re.search(r"~%(-?[\d.]+)%a", written)
    assert weight, written
    assert re.fullmatch(r"-?\d+|-?\d+\.\d{5,}", weight[1]), written
    assert abs(parse(written)[0].answers[0].fraction - fraction) < 0.00001


def test_writer_snaps_weights_to_moodles_list() -> None:
    q = Question(
        "multiple_answer", None, "Q?", "moodle", [Answer("a", 0.3333), Answer("b", 0.125)], None
    )
    assert write([q]) == "Q?{\n\t~%33.33333%a\n\t~%12.50000%b\n}\n"


# ---------------------------------------------------------------- errors

BROKEN = """::Q1::Một cộng một bằng mấy? {=2 =hai}

// Câu hỏi hai
::Q2::Thủ đô của Việt Nam?{
~Huế =Hà Nội ~Đà Nẵng}

::Q3::Năm nay là năm {#2024

::Q4::Câu cuối.{T}
"""


def where(text: str) -> tuple[str, int, int, dict[str, Any]]:
    """Return (code, line, column, params) of the error in text."""
    with pytest.raises(GiftError) as caught:
        parse(text)
    return caught.value.code, caught.value.line, caught.value.column, caught.value.params


def test_error_unclosed_brace_on_line_7() -> None:
    assert where(BROKEN)[:3] == ("unclosed_brace", 7, len("::Q3::Năm nay là năm {"))
    with pytest.raises(GiftError) as caught:
        parse(BROKEN)
    assert str(caught.value) == "line 7, column 22: Missing closing brace '}'"
    questions, errors = parse(BROKEN, collect_errors=True)
    assert [e.code for e in errors] == ["unclosed_brace"]
    assert [q.title for q in questions] == ["Q1", "Q2", "Q4"]
    assert [q.line for q in questions] == [1, 3, 9]


def test_error_unclosed_brace_before_the_next_question() -> None:
    assert where("Câu 1 {=a\nCâu 2 {=b}")[:3] == ("unclosed_brace", 1, 7)


def test_error_column_counts_the_original_characters_of_nfd_text() -> None:
    line = unicodedata.normalize("NFD", "Tiếng Việt có dấu {=a")
    assert where(f"Q1{{T}}\n\n{line}")[:3] == ("unclosed_brace", 3, line.index("{") + 1)


def test_error_braces() -> None:
    assert where("Sai } ở đây")[:3] == ("unopened_brace", 1, 5)
    assert where("Q {=a} và {=b}")[:3] == ("extra_block", 1, 11)
    assert where("Q {=a} và }")[:3] == ("unopened_brace", 1, 11)


def test_error_bad_numerical_value() -> None:
    assert where("Số người?\n{#12a:1}") == ("not_a_number", 2, 3, {"value": "12a"})
    assert where("Số người? {#\n=12:x\n}") == ("not_a_number", 2, 5, {"value": "x"})
    assert where("Số? {#5..1}")[0] == "bad_range"
    assert where("Số? {#~#sai}")[0] == "no_numerical_answer"


def test_error_matching_item_without_arrow() -> None:
    text = "Ghép:{\n=Hà Nội -> Thủ đô\n=Huế\n=Đà Nẵng -> Miền Trung}"
    assert where(text)[:3] == ("matching_no_arrow", 3, 2)


def test_error_multiple_choice_with_one_answer() -> None:
    assert where("Chọn:\n  {~Duy nhất}") == ("too_few_answers", 2, 3, {"min": 2, "count": 1})


def test_error_weights() -> None:
    assert where("Q{~%150%a =b}") == ("weight_out_of_range", 1, 4, {"weight": "150"})
    assert where("Q{~%50 %a =b}")[:3] == ("bad_weight", 1, 4)
    assert where("Q{~%--50%a =b}")[:3] == ("bad_weight", 1, 4)
    assert where("Q{~a ~ #only feedback =b}")[:3] == ("empty_answer", 1, 8)


def test_collect_errors_returns_every_problem() -> None:
    text = "Tốt{T}\n\nQ{~a}\n\nQ{#x}\n\nQ{=a -> b =c}\n\nQ{\n\nTốt nữa{=a}"
    questions, errors = parse(text, collect_errors=True)
    assert [q.text for q in questions] == ["Tốt", "Tốt nữa"]
    assert [(e.code, e.line) for e in errors] == [
        ("too_few_answers", 3),
        ("not_a_number", 5),
        ("matching_no_arrow", 7),
        ("unclosed_brace", 9),
    ]


def test_parse_one() -> None:
    assert parse_one("// kiểm tra nhanh\nĐúng hay sai?{T}").type == "true_false"
    with pytest.raises(GiftError) as caught:
        parse_one("A{T}\n\nB{F}")
    assert (caught.value.code, caught.value.line, caught.value.params) == (
        "not_one_question",
        3,
        {"count": 2},
    )
    with pytest.raises(GiftError):
        parse_one("// chỉ có chú thích")


def test_every_message_formats() -> None:
    for code, message in MESSAGES.items():
        assert "%(" not in message % defaultdict(lambda: "1"), code


# ---------------------------------------------------------------- Vietnamese and the JSON shape


def test_nfd_input_is_returned_nfc() -> None:
    nfc = (
        "::Lương::Lương tối thiểu vùng là gì?{\n=Mức lương thấp nhất#Đúng rồi!\n~Mức trung bình\n}"
    )
    q = parse_one(unicodedata.normalize("NFD", "\ufeff" + nfc.replace("\n", "\r\n")))
    assert q.to_json() == parse_one(nfc).to_json()
    assert q.title == "Lương"
    assert q.answers[0].feedback == "Đúng rồi!"
    assert all(unicodedata.is_normalized("NFC", a.text) for a in q.answers)


def test_vietnamese_answers_with_escaped_equals() -> None:
    q = parse_one("Biểu thức nào đúng?{~Lương \\= thưởng ~Công đoàn \\= 0 =Đoàn phí \\= 1% lương}")
    assert [a.text for a in q.answers] == ["Lương = thưởng", "Công đoàn = 0", "Đoàn phí = 1% lương"]
    assert no_line(parse(write([q]))) == no_line([q])


def test_json_shape() -> None:
    q = parse_one("$CATEGORY: Chủ đề\n\n::T::Q?{#\n=1822:2#ok\n=%50%1..5\n~#sai}")
    assert q.to_json() == {
        "type": "numerical",
        "title": "T",
        "text": "Q?",
        "text_format": "moodle",
        "answers": [
            {
                "text": "1822:2",
                "fraction": 1.0,
                "feedback": "ok",
                "value": 1822.0,
                "tolerance": 2.0,
            },
            {"text": "1..5", "fraction": 0.5, "feedback": None, "min": 1.0, "max": 5.0},
            {"text": "*", "fraction": 0.0, "feedback": "sai"},
        ],
        "general_feedback": None,
        "category": "Chủ đề",
        "line": 3,
    }
    match = parse_one("Ghép{=a -> b =c -> d = -> e}")
    assert [a.to_json("matching") for a in match.answers][2] == {
        "text": "",
        "fraction": 0.0,
        "feedback": None,
        "match": "e",
    }
