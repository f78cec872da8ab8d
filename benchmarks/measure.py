"""One measured scenario: idle share before, CPU of the app and database processes around the
load, the server's own view from its access log, the client's from the load generator."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import server as srv


@dataclass
class Probe:
    """Where a scenario's costs are read: the app server and, on PostgreSQL, its backends."""

    app: srv.Server
    database: str | None  # PostgreSQL database name, None for SQLite (in-process)

    def pids(self) -> list[int]:
        assert self.app.proc is not None
        pids = [self.app.proc.pid, *self.app.workers_pids]
        return pids + (srv.postgres_backends(self.database) if self.database else [])


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 2)


def run(name: str, probe: Probe, drive: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Measure `drive()` (which returns the client's figures) on the probe's processes, once
    the previous scenario's queued requests have been served."""
    drained = srv.wait_until_drained(probe.pids())
    idle = srv.idle_percent()
    offset = probe.app.log_offset()
    cpu_before = srv.cpu_ms(probe.pids())
    started = time.perf_counter()
    client = drive()
    elapsed = time.perf_counter() - started
    # Requests still queued when the generator stopped are served, logged and billed here.
    srv.wait_until_drained(probe.pids())
    cpu_after = srv.cpu_ms(probe.pids())
    log = srv.read_log(probe.app.log, offset)
    server_ms = [row[3] for row in log]
    statements = [row[4] for row in log if row[4] >= 0]
    failed = sum(1 for row in log if row[0] >= 500)
    return {
        "scenario": name,
        "idle_before_pct": idle,
        "drained_before_s": drained,
        "requests": len(log),
        "seconds": round(elapsed, 2),
        "server_p50_ms": percentile(server_ms, 50),
        "server_p95_ms": percentile(server_ms, 95),
        "server_p99_ms": percentile(server_ms, 99),
        "server_5xx": failed,
        "statuses": _statuses(log),
        "sql_per_request": round(statistics.mean(statements), 1) if statements else None,
        "sql_max": max(statements) if statements else None,
        "cpu_ms_per_request": round((cpu_after - cpu_before) / len(log), 2) if log else None,
        "bytes_per_response": round(statistics.mean(r[5] for r in log)) if log else None,
        "peak_rss_mb": max((srv.peak_rss_mb(p) for p in probe.app.workers_pids), default=0),
        **client,
    }


def _statuses(log: list) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in log:
        counts[str(row[0])] = counts.get(str(row[0]), 0) + 1
    return counts


def from_wrk(summary: dict[str, Any]) -> dict[str, Any]:
    seconds = summary["active_s"]
    return {
        "client_p50_ms": round(summary["p50"] / 1000, 2),
        "client_p95_ms": round(summary["p95"] / 1000, 2),
        "client_p99_ms": round(summary["p99"] / 1000, 2),
        "req_per_s": round(summary["requests"] / seconds, 1) if seconds else None,
        "errors": summary["errors"],
        "error_rate": round(summary["errors"] / max(1, summary["requests"]), 4),
    }


def from_tally(tally: Any, seconds: float) -> dict[str, Any]:
    done = len(tally.latencies_ms)
    return {
        "client_p50_ms": percentile(tally.latencies_ms, 50),
        "client_p95_ms": percentile(tally.latencies_ms, 95),
        "client_p99_ms": percentile(tally.latencies_ms, 99),
        "req_per_s": round(done / seconds, 1) if seconds else None,
        "errors": tally.failures,
        "error_rate": round(tally.failures / max(1, done + tally.failures), 4),
    }
