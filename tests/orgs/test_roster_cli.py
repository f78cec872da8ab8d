"""`lms import-roster FILE [--dry-run]`: exit codes, row-numbered errors on stderr, all or none."""

from pathlib import Path

import pytest

from lms.db import db
from tests.orgs.roster_helpers import (
    counts,
    csv_file,
    example_as_xlsx,
    example_bytes,
    make_federation,
    positions,
    with_line,
)


@pytest.fixture
def tree(app):
    found = make_federation()
    db.session.flush()
    return found


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_import_then_import_again(runner, tree, tmp_path: Path) -> None:
    path = _write(tmp_path, "danh-sach.csv", example_bytes())
    result = runner.invoke(args=["import-roster", path])
    assert result.exit_code == 0, result.output
    assert "Đã nhập danh sách" in result.stdout and "6 mới" in result.stdout
    assert "10 người mới chưa có mật khẩu" in result.stdout
    assert positions("GD-BVGD") == [("Mai Thị Hoa", "chair")]
    before = counts()
    again = runner.invoke(args=["import-roster", path])
    assert again.exit_code == 0 and "10 giữ nguyên" in again.stdout
    assert counts() == before


def test_dry_run_lists_and_writes_nothing(runner, tree, tmp_path: Path) -> None:
    before = counts()
    result = runner.invoke(
        args=["import-roster", _write(tmp_path, "a.xlsx", example_as_xlsx()), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "Chạy thử" in result.stdout and "Người: 10 mới" in result.stdout
    assert counts() == before


def test_one_bad_row_imports_nothing(runner, tree, tmp_path: Path) -> None:
    before = counts()
    bad = with_line(7, "5;DMC-MAYHP;;;;;Đặng Thị Kim;Thư ký;;;")
    result = runner.invoke(args=["import-roster", _write(tmp_path, "sai.csv", bad)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("sai.csv:7: chuc_vu: Chức vụ “Thư ký”")
    assert "Không nhập gì: có 1 lỗi" in result.stderr and result.stdout == ""
    assert counts() == before


def test_every_error_is_reported(runner, tree, tmp_path: Path) -> None:
    lines = example_bytes().decode("utf-8-sig").split("\r\n")
    lines[3] = lines[3].replace("0912.345.679", "12.345")
    lines[7] = lines[7].replace(";45;", ";bốn lăm;")
    lines[9] = lines[9].replace(";FDI;", ";Tư bản;")
    data = "\r\n".join(lines).encode()
    result = runner.invoke(args=["import-roster", _write(tmp_path, "sai.csv", data)])
    assert result.exit_code == 1
    assert [line.split(":")[1] for line in result.stderr.splitlines()[:3]] == ["4", "8", "10"]


def test_usage_errors_exit_2(runner, tree, tmp_path: Path) -> None:
    assert runner.invoke(args=["import-roster"]).exit_code == 2
    assert runner.invoke(args=["import-roster", str(tmp_path / "khong-co.csv")]).exit_code == 2
    assert runner.invoke(args=["import-roster", str(tmp_path)]).exit_code == 2


def test_a_file_that_is_not_a_roster_exits_1(runner, tree, tmp_path: Path) -> None:
    result = runner.invoke(
        args=["import-roster", _write(tmp_path, "anh.png", b"\x89PNG\r\n\x1a\n\x00\x00")]
    )
    assert result.exit_code == 1 and result.stderr.startswith("anh.png: ")


def test_moves_and_closings_are_listed(runner, tree, tmp_path: Path) -> None:
    runner.invoke(args=["import-roster", _write(tmp_path, "a.csv", example_bytes())])
    moved = csv_file("DMC-DTTA;;GD;;;Trần Văn Ước;Chủ tịch;0912345679;")
    result = runner.invoke(args=["import-roster", _write(tmp_path, "b.csv", moved), "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Đơn vị DMC-DTTA: đơn vị cấp trên (chuyển)" in lines
    assert "Chủ tịch DMC-DTTA: Trần Văn Ước thay Nguyễn Thị Hồng Nhung" in lines
    assert "Kết thúc: Lê Thị Mỹ, Tổ trưởng công đoàn của DMC-DTTA" in lines
