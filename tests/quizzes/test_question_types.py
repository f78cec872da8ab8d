"""Grading, reading and presenting each question type, without a database."""

import random
import unicodedata

import pytest

from lms.quizzes import gift
from lms.quizzes.models import Question
from lms.quizzes.question_types import (
    QUESTION_TYPES,
    kind,
    normalise_answer,
    parse_number,
    wildcard_match,
)
from lms.quizzes.rendering import question_fields


def make(text: str, qid: int = 1) -> Question:
    return Question(id=qid, **question_fields(gift.parse_one(text)))


def grade(q: Question, answer: dict) -> float:
    return kind(q).grade(q, answer)


def test_the_registry_has_every_type_of_design_section_6() -> None:
    assert set(QUESTION_TYPES) == set(gift.TYPES)


MC = make(
    "Chọn một {=Đúng#Phản hồi đúng ~Sai#Phản hồi sai ~%50%Nửa đúng#Phản hồi nửa"
    " ~%-50%Âm#Phản hồi âm}"
)


@pytest.mark.parametrize(
    ("choices", "score"),
    [([0], 1.0), ([1], 0.0), ([2], 0.5), ([3], 0.0), ([], 0.0), ([0, 1], 1.0), ([99], 0.0)],
)
def test_multiple_choice_scores_the_chosen_fraction_clamped(choices, score) -> None:
    assert grade(MC, {"choices": choices}) == score


MA = make("Chọn nhiều {~%50%A#Phản hồi A ~%50%B#Phản hồi B ~%-100%C#Phản hồi C ~%-50%D#Phản hồi D}")


@pytest.mark.parametrize(
    ("choices", "score"),
    [([0, 1], 1.0), ([0], 0.5), ([0, 1, 2], 0.0), ([0, 1, 3], 0.5), ([2, 3], 0.0), ([], 0.0)],
)
def test_multiple_answer_sums_the_chosen_fractions_clamped_to_0_1(choices, score) -> None:
    assert grade(MA, {"choices": choices}) == pytest.approx(score)


def test_true_false_by_the_chosen_value_with_that_answers_feedback() -> None:
    q = make("Đúng hay sai? {T#Sai rồi#Chính xác}")
    assert grade(q, {"value": "true"}) == 1.0
    assert grade(q, {"value": "false"}) == 0.0
    assert grade(q, {}) == 0.0
    assert kind(q).feedback(q, {"value": "false"}) == ["Sai rồi"]
    assert kind(q).feedback(q, {"value": "true"}) == ["Chính xác"]


SHORT = make("Thủ đô? {=Hà Nội#Đúng =%50%Ha Noi#Gần đúng =%25%Thăng*#Tên cũ}")


@pytest.mark.parametrize(
    ("response", "score"),
    [
        ("Hà Nội", 1.0),
        (unicodedata.normalize("NFD", "Hà Nội"), 1.0),  # QUIZ-11: typed with combining marks
        ("  hà   NỘI ", 1.0),  # case and extra spaces
        ("Ｈà Ｎội", 1.0),  # full-width letters
        ("ha noi", 0.5),
        ("Thăng Long", 0.25),  # the wildcard
        ("Sài Gòn", 0.0),
        ("", 0.0),
    ],
)
def test_short_answer_normalises_then_best_fraction_wins(response, score) -> None:
    assert grade(SHORT, {"text": response}) == score


def test_short_answer_feedback_is_that_of_the_best_match() -> None:
    assert kind(SHORT).feedback(SHORT, {"text": "ha noi"}) == ["Gần đúng"]
    assert kind(SHORT).feedback(SHORT, {"text": "Huế"}) == []


@pytest.mark.parametrize(
    ("pattern", "response", "matches"),
    [
        ("Hà Nội", "HÀ NỘI", True),
        ("Điều *", "điều 68", True),
        ("*68*", "Điều 68 BLLĐ", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("24", "２４", True),
        ("Hà Nội", "Ha Noi", False),
    ],
)
def test_wildcards_and_normalisation(pattern, response, matches) -> None:
    assert wildcard_match(pattern, response) is matches


def test_normalise_answer_documented_rule() -> None:
    assert normalise_answer(" Hà\u00a0 Nội\n") == "hà nội"
    assert normalise_answer(unicodedata.normalize("NFD", "Ầ")) == "ầ"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("19.000.000", (19_000_000.0,)),
        ("19 000 000", (19_000_000.0,)),
        ("19\u00a0000\u202f000", (19_000_000.0,)),
        ("19,000,000", (19_000_000.0,)),
        ("1.000,5", (1000.5,)),
        ("1,000.5", (1000.5,)),
        ("3,5", (3.5,)),
        ("3.5", (3.5,)),
        ("0,125", (0.125,)),
        ("-2,5", (-2.5,)),
        ("\u22123", (-3.0,)),
        ("１９．０００．０００", (19_000_000.0,)),
        ("２４", (24.0,)),
        ("1.000", (1.0, 1000.0)),  # ambiguous: both readings
        ("24", (24.0,)),
        ("24 giờ", ()),
        ("1.2.3", ()),
        ("", ()),
        ("abc", ()),
    ],
)
def test_parse_number_reads_vietnamese_and_english_writing(text, values) -> None:
    assert parse_number(text) == values


NUM = make("Lương? {#19000000:500000#Đúng =%50%18000000..18400000#Gần ~#Chưa đúng}")


@pytest.mark.parametrize(
    ("response", "score", "feedback"),
    [
        ("19.000.000", 1.0, "Đúng"),
        ("19 400 000", 1.0, "Đúng"),  # within the tolerance
        ("18.200.000", 0.5, "Gần"),  # the range
        ("１９００００００", 1.0, "Đúng"),
        ("5", 0.0, "Chưa đúng"),  # the * answer: anything else
        ("không biết", 0.0, "Chưa đúng"),
        ("", 0.0, None),
    ],
)
def test_numerical_tolerance_range_and_anything_else(response, score, feedback) -> None:
    assert grade(NUM, {"text": response}) == score
    assert kind(NUM).feedback(NUM, {"text": response}) == ([feedback] if feedback else [])


def test_numerical_ambiguous_writing_takes_the_better_reading() -> None:
    q = make("Bao nhiêu? {#1000}")
    assert grade(q, {"text": "1.000"}) == 1.0
    assert grade(q, {"text": "1,000"}) == 1.0
    assert grade(make("Bao nhiêu? {#1.5}"), {"text": "1,5"}) == 1.0


MATCH = make("Ghép {=Chủ tịch -> 24 giờ =Tổ phó -> 12 giờ =Ủy viên -> 12 giờ = -> 48 giờ}")


@pytest.mark.parametrize(
    ("pairs", "score"),
    [
        ({"0": 0, "1": 1, "2": 1}, 1.0),
        ({"0": 0, "1": 2, "2": 1}, 1.0),  # the same right-hand text counts as the same choice
        ({"0": 0, "1": 3}, 1 / 3),
        ({"0": 3, "1": 0, "2": 0}, 0.0),
        ({}, 0.0),
    ],
)
def test_matching_scores_the_share_of_subquestions_matched(pairs, score) -> None:
    assert grade(MATCH, {"pairs": pairs}) == pytest.approx(score)


def test_essay_and_description_are_not_graded() -> None:
    essay, desc = make("Suy nghĩ? {}"), make("Chỉ là lời giới thiệu.")
    assert not kind(essay).graded and kind(essay).input == "textarea"
    assert not kind(desc).graded and kind(desc).input is None


def _layout(q: Question):  # type: ignore[no-untyped-def]
    return kind(q).layout(q, True, random.Random(1)) or {}


def test_read_ignores_ids_that_are_not_options_of_this_question() -> None:
    """QUIZ-07: ids of another question, or made up, leave the saved answer alone (None)."""
    q, other = make(MC_TEXT, 1), make(MC_TEXT, 2)
    mine, theirs = _layout(q), _layout(other)
    token = mine["options"][0][1]
    foreign = theirs["options"][0][1]
    assert kind(q).read(q, mine, "a1", {"a1": [token]}) == {"choices": [mine["options"][0][0]]}
    for bad in ([foreign], ["-1"], ["0"], ["99999999999999"], [token, token + "x"]):
        assert kind(q).read(q, mine, "a1", {"a1": bad}) is None
    assert kind(q).read(q, mine, "a1", {}) == {"choices": []}


def test_read_matching_and_true_false_refuse_foreign_values() -> None:
    entry = _layout(MATCH)
    stem = entry["stems"][0][1]
    assert kind(MATCH).read(MATCH, entry, "a1", {f"a1-{stem}": ["nope"]}) is None
    choice = entry["choices"][0][1]
    assert kind(MATCH).read(MATCH, entry, "a1", {f"a1-{stem}": [choice]})["pairs"]
    tf = make("Đúng? {T}")
    assert kind(tf).read(tf, {}, "a1", {"a1": ["maybe"]}) is None
    assert kind(tf).read(tf, {}, "a1", {"a1": ["false"]}) == {"value": "false"}


MC_TEXT = "Chọn {=Đúng#fb ~Sai#fb ~Sai nữa#fb}"


PRESENTED_KEYS = {"options", "id", "html", "checked", "value", "maxlength", "stems", "choices"}
PRESENTED_KEYS |= {"text", "selected"}


def _keys(value) -> set:  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.mark.usefixtures("app_ctx")
@pytest.mark.parametrize(
    "q",
    [
        MC,
        MA,
        SHORT,
        NUM,
        MATCH,
        make("Đúng? {T#Phản hồi khi sai#Phản hồi khi đúng}"),
        make("Ý kiến {}"),
    ],
)
def test_present_shows_ids_and_texts_only(q) -> None:
    shown = kind(q).present(q, _layout(q), {})
    assert _keys(shown) <= PRESENTED_KEYS
    flat = repr(shown)
    for item in q.data["answers"]:
        assert repr(item["fraction"]) not in flat.replace("'", "") or item["fraction"] == 0
        if item.get("feedback_html"):
            assert item["feedback_html"] not in flat


def test_option_ids_are_random_per_attempt_and_never_the_answer_index() -> None:
    q = make(MC_TEXT)
    first, second = kind(q).layout(q, False, random.Random(1)), kind(q).layout(q, False, None)
    assert [i for i, _ in first["options"]] == [0, 1, 2]  # no shuffle: authored order
    assert {t for _, t in first["options"]}.isdisjoint({t for _, t in second["options"]})
    assert all(len(t) == 8 for _, t in first["options"])
