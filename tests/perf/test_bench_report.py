"""The benchmark's Markdown table gives each scenario's cost in bare-Flask requests."""

from benchmarks.report import table


def _run(hello: float, lesson: float) -> dict:
    return {
        "generated": {"total_s": 1, "rows": {}},
        "scenarios": [
            {"scenario": "hello (bare Flask)", "req_per_s": hello},
            {"scenario": "lesson page", "req_per_s": lesson},
            {"scenario": "mixed model", "req_per_s": 0},
        ],
    }


def test_each_scenario_is_costed_in_hello_requests_of_its_own_backend() -> None:
    results = {
        "size": "XS",
        "skewed": False,
        "workers": 4,
        "started": "2026-12-06T23:40:00Z",
        "machine": {"cores": 2, "cpu": "test", "commit": "abc1234"},
        "backends": {"sqlite": _run(6000.0, 700.0), "postgresql": _run(5000.0, 250.0)},
    }
    lines = table(results).splitlines()
    assert lines[2].startswith("| scenario | req/s | × hello |")
    lesson = next(line for line in lines if line.startswith("| lesson page |"))
    assert lesson.split(" | ")[1:3] == ["700.0 / 250.0", "8.57 / 20.0"]
    hello = next(line for line in lines if line.startswith("| hello"))
    assert hello.split(" | ")[2] == "1.00 / 1.00"
    mixed = next(line for line in lines if line.startswith("| mixed model |"))
    assert mixed.split(" | ")[2] == "– / –"  # nothing served: no ratio
