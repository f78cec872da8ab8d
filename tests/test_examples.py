"""The example files shipped in docs/examples work with the shipped course and demo federation:
a roster, then a province class's completion list, then the coverage report that moves."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"


def _coverage(runner, as_of: str) -> dict:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["coverage", "--org", "DMC", "--as-of", as_of])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_roster_then_completions_then_coverage(runner) -> None:
    assert runner.invoke(args=["import-courses", str(ROOT / "courses")]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    roster = runner.invoke(args=["import-roster", str(EXAMPLES / "roster-example.csv")])
    assert roster.exit_code == 0, roster.output
    before = _coverage(runner, "2021-11-30")
    dry = runner.invoke(
        args=["import-completions", str(EXAMPLES / "completions-example.csv"), "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert _coverage(runner, "2021-11-30") == before  # a dry run records nothing

    result = runner.invoke(args=["import-completions", str(EXAMPLES / "completions-example.csv")])
    assert result.exit_code == 0, result.output
    after = _coverage(runner, "2021-11-30")
    units = {u["code"]: u for u in after["units"]}
    assert units["DMC-DTTA"]["awareness_done"] and units["DMC-DTTA"]["core_modules_done"] == 1
    assert units["DMC-MAYHP"]["awareness_done"] and units["DMC-THCS"]["awareness_done"]
    assert units["DMC-UBXA"]["chair"] is None  # the vacancy stays a gap
    awareness = after["targets"]["awareness"]
    assert awareness["done"] == before["targets"]["awareness"]["done"] + 3
    assert awareness["eligible"] == before["targets"]["awareness"]["eligible"]
    # The classes were on 03 and 04/11/2021: on the 3rd only the first class counts.
    on_the_third = _coverage(runner, "2021-11-03")["targets"]["awareness"]["done"]
    assert on_the_third == before["targets"]["awareness"]["done"] + 1
