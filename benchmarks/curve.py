"""The coverage report's cost curve from XS to XXL: the same requests against databases of
each size, in one process (no network, no queueing), so only the report's own cost shows.

    python -m benchmarks.curve --sizes XS,S,M --backend sqlite
    python -m benchmarks.curve --url sqlite:////tmp/xl.db --label XL   # an existing database
"""

import argparse
import json
import statistics
import time

from benchmarks import databases, sessions
from benchmarks.generate import generate
from benchmarks.measure import percentile
from benchmarks.people import staff_usernames
from benchmarks.run import _app

REPORT = "/reports/coverage?format=json"
REQUESTS = (
    ("district figures", 2, REPORT + "&summary=1"),
    ("district figures + first 500 units", 2, REPORT),
    ("province roll-up", 1, REPORT + "&summary=1"),
    ("national roll-up", 0, REPORT + "&summary=1"),
)


def measure(url: str, label: str, runs: int = 30) -> dict:
    """Median and p95 wall time, CPU and SQL statements of each report request."""
    app = _app(url)
    app.config["COUNT_SQL"] = False
    staff = sessions.mint(app, staff_usernames())
    out: dict = {"size": label}
    for name, who, path in REQUESTS:
        client = app.test_client()  # its cookie jar, not a Cookie header, carries the session
        client.set_cookie(*staff[who].cookie.split("=", 1))
        headers = {"User-Agent": sessions.USER_AGENT}
        walls, cpus = [], []
        for n in range(runs + 3):
            wall, cpu = time.perf_counter(), time.process_time()
            answer = client.get(path, headers=headers)
            if n >= 3:  # the first requests warm caches
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
        out[name] = {"p50_ms": percentile(walls, 50), "p95_ms": percentile(walls, 95),
                     "cpu_ms": round(statistics.median(cpus), 2)}  # fmt: skip
    return out


def table(rows: list[dict]) -> str:
    names = [name for name, _who, _path in REQUESTS]
    lines = ["| size | " + " | ".join(f"{n} p50 / p95 ms" for n in names) + " |",
             "| --- |" + " ---: |" * len(names)]  # fmt: skip
    for row in rows:
        cells = [f"{row[n]['p50_ms']} / {row[n]['p95_ms']}" for n in names]
        lines.append(f"| {row['size']} | " + " | ".join(cells) + " |")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = [round(last[n]["p50_ms"] / first[n]["p50_ms"], 1) for n in names]
        lines.append(f"| growth {first['size']} → {last['size']} | "
                     + " | ".join(f"{g}×" for g in growth) + " |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="XS,S,M")
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--url", help="measure this existing database instead")
    parser.add_argument("--label", default="?")
    args = parser.parse_args()
    rows = []
    if args.url:
        rows.append(measure(args.url, args.label))
    else:
        for size in args.sizes.split(","):
            with databases.fresh(args.backend, size) as (url, _name):
                generate(url, size)
                rows.append(measure(url, size))
    print(table(rows))
    print(json.dumps(rows, ensure_ascii=False))


if __name__ == "__main__":
    main()
