"""The bulk roster import at national scale: a generated CSV of N people (new unions under the
existing upper-level unions) through `lms import-roster`, timed, with the importer's peak
memory; then the same file with one bad row at the end must import nothing."""

import csv
import random
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks import server as srv
from benchmarks.generate import ROOT, env
from benchmarks.people import EXTRA_POSITIONS, _name

HEADERS = ["ma_don_vi", "ten_don_vi", "ma_cap_tren", "khu_vuc", "so_doan_vien", "ho_ten",
           "chuc_vu", "dien_thoai", "email"]  # fmt: skip
POSITIONS = {"chair": "Chủ tịch", "vice_chair": "Phó Chủ tịch",
             "group_leader": "Tổ trưởng công đoàn", "collaborator": "Cộng tác viên",
             "core_member": "Đoàn viên nòng cốt"}  # fmt: skip


def write(path: Path, people: int, uppers: list[str], bad_last_row: bool = False) -> Path:
    """One chair per new union plus about one in six with a vice-chair or group leader."""
    rng = random.Random(42)
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        out = csv.writer(f)
        out.writerow(HEADERS)
        n = unit = 0
        while n < people:
            unit += 1
            code, upper = f"MOI{unit:07d}", uppers[unit % len(uppers)]
            sector = "Ngoài nhà nước" if rng.random() < 0.75 else "Nhà nước"
            members = str(rng.randint(10, 3000))
            roles = ["chair"] + ([rng.choice(EXTRA_POSITIONS)] if rng.random() < 0.16 else [])
            for role in roles[: people - n]:
                n += 1
                out.writerow([code, f"CĐCS Doanh nghiệp mới {unit}", upper, sector, members,
                              _name(rng), POSITIONS[role], f"03{n:08d}", ""])  # fmt: skip
        if bad_last_row:
            out.writerow([f"MOI{unit + 1:07d}", "CĐCS lỗi", uppers[0], "Nhà nước", "10",
                          "Người Sai Số", "Chủ tịch", "0123", ""])  # fmt: skip
    return path


def _people(url: str) -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        count = conn.scalar(sa.text("SELECT count(*) FROM user_account"))
    engine.dispose()
    return int(count or 0)


def _import(url: str, path: Path) -> tuple[int, float, float]:
    """(exit code, seconds, peak RSS in MB of the importing process, read while it runs)."""
    started, peak = time.perf_counter(), 0.0
    command = [str(Path(sys.executable).parent / "lms"), "import-roster", str(path)]
    with subprocess.Popen(command, cwd=ROOT, env=env(url), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as proc:  # fmt: skip
        while proc.poll() is None:
            try:
                peak = max(peak, srv.peak_rss_mb(proc.pid))
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
    return proc.returncode, time.perf_counter() - started, round(peak, 1)


def bench(url: str, work: Path, people: int, uppers: list[str]) -> dict:
    """Import the file, then the same file with one bad row more (a re-import): the second must
    change nothing at all."""
    count = _people(url)
    code, seconds, rss = _import(url, write(work / "roster.csv", people, uppers))
    imported = _people(url) - count
    bad_code, bad_s, _rss = _import(url, write(work / "roster-bad.csv", people, uppers, True))
    return {
        "people": people,
        "exit_code": code,
        "seconds": round(seconds, 1),
        "peak_rss_mb": rss,
        "imported": imported,
        "bad_file_exit_code": bad_code,
        "bad_file_seconds": round(bad_s, 1),
        "bad_file_changed_nothing": _people(url) == count + imported,
    }
