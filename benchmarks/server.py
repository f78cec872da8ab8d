"""A real gunicorn on 127.0.0.1 with an access log that carries the server-side time and the
SQL statement count, and what /proc says about its processes and the database's."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# status, method, path, microseconds, SQL statements, body bytes
LOG_FORMAT = "%(s)s %(m)s %(U)s %(D)s %({x-sql-statements}o)s %(B)s"
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    app: str
    port: int
    workers: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None
    boot_s: float = 0.0
    extra: list[str] = field(default_factory=list)

    def start(self, probe: str = "/healthz") -> "Server":
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.log.write_text("")
        started = time.perf_counter()
        self.proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
            [
                gunicorn,
                "--workers",
                str(self.workers),
                # The deployment command: the app is built once, and the workers forked from it.
                "--preload",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                str(self.log),
                "--access-logformat",
                LOG_FORMAT,
                "--backlog",
                "4096",
                "--worker-tmp-dir",
                "/dev/shm",
                "--timeout",
                "60",
                *self.extra,
                self.app,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(f"{self.log}.err", "w"),
            start_new_session=True,
        )
        self._wait(probe)
        self.boot_s = time.perf_counter() - started
        return self

    def _wait(self, probe: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log}.err")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{probe}", timeout=2):  # noqa: S310 - loopback
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gunicorn did not answer within 60 s")

    @property
    def workers_pids(self) -> list[int]:
        assert self.proc is not None
        return children(self.proc.pid)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_offset(self) -> int:
        return self.log.stat().st_size


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


def cpu_ms(pids: list[int]) -> float:
    """User plus system CPU time of these processes so far, in milliseconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total * TICK_MS


def peak_rss_mb(pid: int) -> float:
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving this database (their title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pids.append(int(entry.name))
    return pids


def wait_until_drained(pids: list[int], limit: float = 120.0) -> float:
    """Wait until these processes stop working (under 5% of a core over half a second): the
    requests a load generator left queued when it stopped are still being served, and would
    otherwise be logged and billed to the next scenario. Returns the seconds waited."""
    started = time.perf_counter()
    before = cpu_ms(pids)
    while time.perf_counter() - started < limit:
        time.sleep(0.5)
        after = cpu_ms(pids)
        if after - before < 25:
            break
        before = after
    return round(time.perf_counter() - started, 1)


def idle_percent(seconds: float = 1.0) -> float:
    """The machine's idle share over a short sample (other work on a shared box shows here)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return values[3] + values[4], sum(values)

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return round(100 * (idle1 - idle0) / max(1, total1 - total0), 1)


def read_log(path: Path, offset: int) -> list[tuple[int, str, str, float, int, int]]:
    """(status, method, path, milliseconds, statements, bytes) for each request after offset."""
    rows = []
    with path.open("rb") as f:
        f.seek(offset)
        for line in f.read().decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) != 6:
                continue
            statements = int(parts[4]) if parts[4].isdigit() else -1
            size = int(parts[5]) if parts[5].isdigit() else 0
            rows.append((int(parts[0]), parts[1], parts[2], int(parts[3]) / 1000, statements, size))
    return rows
