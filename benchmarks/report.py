"""The Markdown table (SQLite and PostgreSQL side by side) and the machine's description."""

import os
import platform
import subprocess
from pathlib import Path

COLUMNS = (
    ("req/s", "req_per_s"),
    ("× hello", "hello_ratio"),
    ("p50 ms", "server_p50_ms"),
    ("p95 ms", "server_p95_ms"),
    ("p99 ms", "server_p99_ms"),
    ("client p95", "client_p95_ms"),
    ("err", "errors"),
    ("CPU ms/req", "cpu_ms_per_request"),
    ("SQL/req", "sql_per_request"),
    ("RSS MB", "peak_rss_mb"),
    ("idle %", "idle_before_pct"),
)


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,  # noqa: S607
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "python": platform.python_version(),
        "commit": commit,
    }


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    return str(value)


def _hello_ratios(results: dict) -> None:
    """Each scenario's cost in bare-Flask requests: the hello route's req/s over its own, in the
    same backend's run (the figure that compares across machines and hours)."""
    for run in results["backends"].values():
        hello = next((r for r in run["scenarios"] if r["scenario"].startswith("hello")), None)
        for row in run["scenarios"]:
            if hello and hello.get("req_per_s") and row.get("req_per_s"):
                row["hello_ratio"] = hello["req_per_s"] / row["req_per_s"]


def table(results: dict) -> str:
    """One row per scenario; for each figure the SQLite and PostgreSQL values as 'a / b'."""
    _hello_ratios(results)
    backends = list(results["backends"])
    m = results["machine"]
    lines = [
        f"Size {results['size']}{' (skewed)' if results['skewed'] else ''}, "
        f"{results['workers']} gunicorn workers, {m['cores']} cores ({m['cpu']}), "
        f"commit {m['commit']}, {results['started']}. Cells: {' / '.join(backends)}.",
        "",
        "| scenario | " + " | ".join(title for title, _key in COLUMNS) + " |",
        "| --- |" + " ---: |" * len(COLUMNS),
    ]
    by_name: dict[str, dict[str, dict]] = {}
    for backend, run in results["backends"].items():
        for row in run["scenarios"]:
            by_name.setdefault(row["scenario"], {})[backend] = row
    for name, rows in by_name.items():
        cells = [
            " / ".join(_cell(rows.get(b, {}).get(key)) for b in backends) for _t, key in COLUMNS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for backend, run in results["backends"].items():
        gen, weight = run["generated"], run.get("page_weight", {})
        lines.append(
            f"- {backend}: generated in {gen['total_s']} s ({gen['rows']}), database "
            f"{run.get('database_mb')} MB, "
            f"boot to first response {run.get('boot_to_first_response_s')} s, "
            f"lesson page {weight.get('total_kb')} KB (≈{weight.get('slow_3g_s')} s on slow 3G), "
            f"real sign-in {'ok' if run.get('login_ok') else 'FAILED'}, "
            f"aggregates rebuilt in {gen['rows'].get('rebuild_aggregates_s')} s"
        )
        if "roster_import" in run:
            r = run["roster_import"]
            lines.append(
                f"  - roster import of {r['people']:,} people: {r['seconds']} s, peak RSS "
                f"{r['peak_rss_mb']} MB, exit {r['exit_code']}, {r['imported']:,} accounts; "
                f"the same file with one bad row: exit {r['bad_file_exit_code']} in "
                f"{r['bad_file_seconds']} s, nothing changed: {r['bad_file_changed_nothing']}"
            )
    return "\n".join(lines)
