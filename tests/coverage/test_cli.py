"""`lms coverage`: the whole tree by default, --org narrows, files with -o, DESIGN §7 exit codes."""

import csv
import io
import json

from openpyxl import load_workbook

from tests.coverage.conftest import AS_OF, EXPECTED


def run(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["coverage", *args])


def test_json_of_the_whole_tree_and_of_one_district(runner, scenario) -> None:
    result = run(runner, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    everything = json.loads(result.stdout)
    assert everything["scope"]["code"] is None
    assert everything["targets"]["awareness"] == {"eligible": 8, "done": 4, "percent": 50.0}
    assert len(everything["units"]) == 8
    district = json.loads(run(runner, "--org", "A", "--as-of", AS_OF).stdout)
    assert district["targets"] == EXPECTED and district["course"] == "chu-de-2021"


def test_csv_and_xlsx_files(runner, scenario, tmp_path) -> None:
    target = tmp_path / "bao-cao.csv"
    result = run(runner, "--org", "A", "--as-of", AS_OF, "--format", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 8 and rows[0][0] == "Mã đơn vị"
    book_path = tmp_path / "bao-cao.xlsx"
    run(runner, "--org", "A", "--as-of", AS_OF, "--format", "xlsx", "-o", str(book_path))
    book = load_workbook(book_path, read_only=True)
    rows = [r for r in book["Chỉ tiêu"].iter_rows(values_only=True) if r]
    assert rows[-4][1:4] == (7, 3, 42.9)
    book.close()


def test_exit_codes(runner, scenario) -> None:
    unknown = run(runner, "--org", "KHONG-CO")
    assert unknown.exit_code == 1 and "KHONG-CO" in unknown.stderr
    assert run(runner, "--course", "khong-co").exit_code == 1
    assert run(runner, "--as-of", "hôm qua").exit_code == 2
    assert run(runner, "--format", "pdf").exit_code == 2


def test_the_command_line_export_is_logged(runner, scenario, caplog) -> None:
    with caplog.at_level("INFO", logger="lms.audit"):
        assert run(runner, "--org", "A", "--format", "csv").exit_code == 0
    assert any(
        getattr(r, "event", "") == "coverage.exported" and "by=cli" in r.getMessage()
        for r in caplog.records
    )
