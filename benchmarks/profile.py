"""Where a scenario's CPU goes under load: serve a benchmark database with gunicorn (the same
set-up as `benchmarks.run`), drive one scenario with wrk, and meanwhile sample the server's
processes with py-spy. Prints the share of samples by layer (gunicorn, Flask, SQLAlchemy, the
database driver, templates, our code) and the app's heaviest functions, and keeps the raw
stacks for a flame graph. A profile taken in one process misses what load adds (the socket,
other workers, the database's round trips); this one is taken where the figures are.

    python -m benchmarks.generate --size XL --database-url sqlite:////tmp/xl.db     # once
    python -m benchmarks.profile --database-url sqlite:////tmp/xl.db --scenario lesson

It changes the database like the benchmark does: lesson visits are recorded, `quiz` submits
attempts, so profile a copy you can regenerate. Needs wrk and py-spy (`make bench-profile`
installs both extras), and the right to trace the server's processes (root, or
`kernel.yama.ptrace_scope` 0).
"""

import argparse
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks import databases, load, measure, people, scenarios, sessions
from benchmarks import server as srv
from benchmarks.generate import ROOT, env
from benchmarks.run import WORKERS, _app, _replay

SCENARIOS = ("lesson", "home", "module", "quiz", "dashboard", "report-json")
# Layers a sample is charged to, by the file of the frame the processor was in; first match wins.
# A C call (SQLite's step, psycopg's wait) is charged to the Python frame that made it, so the
# driver layer is the statements' run and fetch as the app sees them.
LAYERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("database driver (run and fetch)", re.compile(
        r"^(DefaultDialect\.do_execute(many)?|CursorFetchStrategy\.fetch\w*) "
        r"|\((psycopg|psycopg_binary|psycopg_pool)/")),
    ("SQLAlchemy", re.compile(r"\(sqlalchemy/")),
    ("templates (Jinja, MarkupSafe)", re.compile(r"\((jinja2|markupsafe)/|\.html:\d+\)$")),
    ("gunicorn and the socket", re.compile(r"\((gunicorn|socket\.py|selectors\.py|ssl\.py)")),
    ("Flask, Werkzeug and extensions", re.compile(
        r"\((flask|werkzeug|flask_\w+|wtforms|itsdangerous|babel|blinker)/")),
    ("our code (lms/)", re.compile(r"\(lms/")),
)  # fmt: skip
OTHER = "standard library and the rest"
_APP_FRAME = re.compile(r"\(lms/[^)]*\)$")


@dataclass(frozen=True)
class Summary:
    samples: int
    layers: dict[str, float]  # layer → share of samples (0-100) spent in it
    app: list[tuple[str, float]]  # our functions, by the share of samples they were on the stack


def layer_of(frame: str) -> str:
    for name, pattern in LAYERS:
        if pattern.search(frame):
            return name
    return OTHER


def summarise(raw: str, top: int = 15) -> Summary:
    """Read py-spy's raw output (one `frame;frame;…;leaf count` line per distinct stack)."""
    own: Counter[str] = Counter()
    on_stack: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        samples += n
        own[layer_of(frames[-1])] += n
        # A recursive function counts once per sample.
        for function in {_function(f) for f in frames if _APP_FRAME.search(f)}:
            on_stack[function] += n
    if not samples:
        return Summary(0, {}, [])
    shares = {name: 100 * own[name] / samples for name, _ in LAYERS}
    shares[OTHER] = 100 * own[OTHER] / samples
    ranked = [(name, 100 * n / samples) for name, n in on_stack.most_common(top)]
    return Summary(samples, shares, ranked)


def _function(frame: str) -> str:
    """`lesson (lms/progress/views.py:71)` → `lms/progress/views.py: lesson`: one entry per
    function whatever line of it was running."""
    name, _, where = frame.rpartition(" (")
    return f"{where.rsplit(':', 1)[0]}: {name}"


def markdown(title: str, figures: dict, summary: Summary) -> str:
    lines = [f"### {title}", ""]
    lines.append(", ".join(f"{key} {value}" for key, value in figures.items() if value is not None))
    lines += ["", f"{summary.samples} samples of the server's processes.", ""]
    lines += ["| layer | share of samples |", "| --- | ---: |"]
    lines += [f"| {name} | {share:.1f}% |" for name, share in
              sorted(summary.layers.items(), key=lambda item: -item[1])]  # fmt: skip
    lines += ["", "| our function | on the stack |", "| --- | ---: |"]
    lines += [f"| `{name}` | {share:.1f}% |" for name, share in summary.app]
    return "\n".join(lines)


def _requests(app, scenario: str, seconds: int) -> list:  # type: ignore[no-untyped-def]
    """The scenario's prepared requests, as `benchmarks.run` makes them."""
    cat = scenarios.catalog(app)
    if scenario in ("dashboard", "report-json"):
        staff = sessions.mint(app, people.staff_usernames())
        worst = databases.org_code_of(app, people.staff_usernames()[-1])
        names = {"dashboard": "district coverage dashboard",
                 "report-json": "district report JSON (figures + units)"}  # fmt: skip
        return [req for name, req in scenarios.staff_named(staff, worst) if name == names[scenario]]
    if scenario == "quiz":
        # Attempts beyond the ones `benchmarks.run` uses, so a profile after a run finds some.
        needed = max(1, seconds * 700 // len(cat.quiz_modules))
        takers = sessions.mint(app, databases.learner_usernames(app, needed, offset=20_000))
        return scenarios.submits(sessions.open_attempts(app, takers, cat.quiz_modules))
    readers = sessions.mint(app, databases.learner_usernames(app, 40))
    make = {"lesson": scenarios.lesson_views, "module": scenarios.module_pages}
    return make[scenario](cat, readers) if scenario in make else scenarios.learner_home(readers)


def _spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is missing: make bench-profile (or pip install py-spy)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scenario", choices=SCENARIOS, default="lesson")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--rate", type=int, default=250, help="samples per second per process")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--out", type=Path, default=ROOT / "instance" / "bench")
    args = parser.parse_args()
    spy = _spy()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    resource.setrlimit(resource.RLIMIT_NOFILE, (20_000, 20_000))
    work = args.out / f"profile-{time.strftime('%Y%m%d-%H%M%S')}-{args.scenario}"
    work.mkdir(parents=True)
    url = args.database_url
    app = _app(url)
    requests = _requests(app, args.scenario, args.seconds)
    data = load.write_requests(work / "requests.tsv", requests)
    server = srv.Server("wsgi:app", args.port, WORKERS, env(url), work / "app.log").start()
    database = databases.postgres_name(url)
    raw = work / "stacks.txt"
    try:
        probe = measure.Probe(server, database)
        if args.scenario != "quiz":  # first visits write; the profile is of the pages after
            measure.run("warm-up", probe, _replay(args.port, requests))
        assert server.proc is not None
        sampler = subprocess.Popen(  # noqa: S603 - our own fixed command line
            [spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--nonblocking",
             "--rate", str(args.rate), "--format", "raw", "--output", str(raw),
             "--duration", str(args.seconds)],
            stdout=subprocess.DEVNULL, stderr=open(work / "py-spy.err", "w"),
        )  # fmt: skip
        before = srv.cpu_ms(srv.postgres_backends(database)) if database else 0.0
        figures = measure.run(
            args.scenario,
            probe,
            lambda: measure.from_wrk(
                load.wrk(
                    args.port,
                    data,
                    connections=args.connections,
                    seconds=args.seconds,
                    log=work / "app.log",
                    once=args.scenario == "quiz",
                )  # fmt: skip
            ),
        )
        # A backend started meanwhile counts whole; one that ended would be missed (none do).
        database_ms = srv.cpu_ms(srv.postgres_backends(database)) - before if database else 0.0
        sampler.wait(timeout=args.seconds + 60)
    finally:
        server.stop()
    summary = summarise(raw.read_text() if raw.exists() else "")
    shown = {key: figures.get(key) for key in ("req_per_s", "server_p95_ms", "cpu_ms_per_request")}
    if database and figures.get("requests"):
        shown["database_cpu_ms_per_request"] = round(database_ms / figures["requests"], 2)
    backend = "PostgreSQL" if database else "SQLite"
    text = markdown(f"{args.scenario} on {backend}", shown, summary)
    (work / "profile.md").write_text(text + "\n")
    print(text)
    print(f"\nRaw stacks (flamegraph.pl, speedscope): {raw}")


if __name__ == "__main__":
    main()
