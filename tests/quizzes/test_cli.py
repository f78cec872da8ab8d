"""`lms gift parse FILE --json`: the DESIGN.md §6 JSON, and located errors with exit status 1."""

import json
from pathlib import Path

from tests.quizzes.helpers import GIFT

KEYS = {"type", "title", "text", "text_format", "answers", "general_feedback"}


def test_parse_prints_the_design_json(runner, tmp_path: Path) -> None:
    source = tmp_path / "quiz.gift"
    source.write_text(GIFT, encoding="utf-8")
    result = runner.invoke(args=["gift", "parse", str(source), "--json"])
    assert result.exit_code == 0, result.output
    questions = json.loads(result.stdout)
    assert [q["type"] for q in questions] == [
        "multiple_choice", "true_false", "short_answer", "numerical", "matching",
        "multiple_answer", "essay", "description",
    ]  # fmt: skip
    for question in questions:
        assert KEYS <= set(question)
        for answer in question["answers"]:
            assert {"text", "fraction", "feedback"} <= set(answer)
    by_type = {q["type"]: q for q in questions}
    assert by_type["multiple_choice"]["title"] == "Đoàn phí"
    assert by_type["multiple_choice"]["general_feedback"] == "Mức mới áp dụng từ 01/7/2025."
    assert by_type["matching"]["answers"][0]["match"] == "24 giờ"
    assert by_type["numerical"]["answers"][0]["value"] == 24.0
    assert by_type["multiple_answer"]["answers"][2]["fraction"] == -1.0
    assert [a["text"] for a in by_type["true_false"]["answers"]] == ["true", "false"]


def test_parse_without_json_counts_the_questions(runner, tmp_path: Path) -> None:
    source = tmp_path / "quiz.gift"
    source.write_text(GIFT, encoding="utf-8")
    result = runner.invoke(args=["gift", "parse", str(source)])
    assert result.exit_code == 0 and "8" in result.stdout


def test_a_broken_file_exits_1_naming_file_line_and_column(runner, tmp_path: Path) -> None:
    source = tmp_path / "hong.gift"
    source.write_text("::Một::Câu một {=A ~B}\n\n::Hai::Câu hai {=A ~B\n", encoding="utf-8")
    result = runner.invoke(args=["gift", "parse", str(source), "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{source}:3:")


def test_a_file_that_is_not_utf8_exits_1(runner, tmp_path: Path) -> None:
    source = tmp_path / "cu.gift"
    source.write_bytes(b"C\xe2u h\xf3i {=\xd0\xfang ~Sai}")  # Windows-1258 bytes
    result = runner.invoke(args=["gift", "parse", str(source), "--json"])
    assert result.exit_code == 1 and str(source) in result.stderr


def test_a_missing_file_is_a_usage_error(runner, tmp_path: Path) -> None:
    result = runner.invoke(args=["gift", "parse", str(tmp_path / "khong-co.gift")])
    assert result.exit_code == 2
