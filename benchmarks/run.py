"""Run the benchmark suite: generate a database, serve it with gunicorn, drive each scenario,
print one Markdown table and write the figures as JSON. Bounded, and it cleans up after itself.

    python -m benchmarks.run --size S                      # both backends, a few minutes
    python -m benchmarks.run --size XL --seconds 30 --repeat 3
"""

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

from benchmarks import databases, load, measure, people, report, roster, scenarios, sessions
from benchmarks import server as srv
from benchmarks.generate import ROOT, SECRET, env, generate
from benchmarks.shape import SIZES

WORKERS = 2 * (os.cpu_count() or 1)


def _app(url: str):  # type: ignore[no-untyped-def]
    from lms import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "SECURE_COOKIES": False})


def _wrk(port: int, name: str, requests: list, work: Path, **kw):  # type: ignore[no-untyped-def]
    data = load.write_requests(work / f"{name}.tsv", requests)
    return lambda: measure.from_wrk(load.wrk(port, data, log=work / "app.log", **kw))


def _closed(port: int, users: list, seconds: int):  # type: ignore[no-untyped-def]
    def drive() -> dict:
        tally = load.closed_model(port, users, seconds)
        return {**measure.from_tally(tally, seconds), "simulated_users": len(users)}

    return drive


def _replay(port: int, requests: list):  # type: ignore[no-untyped-def]
    def drive() -> dict:
        started = time.perf_counter()
        tally = load.replay(port, requests)
        return measure.from_tally(tally, time.perf_counter() - started)

    return drive


def _spike(port: int, requests: list):  # type: ignore[no-untyped-def]
    def drive() -> dict:
        tally, took = load.spike(port, requests)
        return {**measure.from_tally(tally, took), "all_answered_s": round(took, 2)}

    return drive


def plan(args: argparse.Namespace, app, port: int, work: Path, worst: str) -> tuple[list, dict]:  # type: ignore[no-untyped-def]
    """The scenarios, in order, as (name, driver), and what the page-weight check needs."""
    cat = scenarios.catalog(app)
    visitors = sessions.mint(app, databases.learner_usernames(app, 200))
    readers = visitors[:40]  # their lesson views are made once (a write each), then measured
    staff = sessions.mint(app, people.staff_usernames())
    spikers = sessions.mint(app, databases.learner_usernames(app, args.spike, offset=200))
    needed = max(1, args.seconds * 700 // len(cat.quiz_modules))  # more than 700 submits/s
    offset = 200 + args.spike
    submitters = sessions.mint(app, databases.learner_usernames(app, needed, offset=offset))
    attempts = sessions.open_attempts(app, submitters, cat.quiz_modules)
    half = len(attempts) // 2
    mixed = scenarios.mixed_users(cat, visitors, scenarios.staff_pages(staff, worst), args.users)
    contention = scenarios.first_visits(cat, visitors) + scenarios.submits(attempts[half:])
    loads = [
        ("lesson page", scenarios.lesson_views(cat, readers), {}),
        ("learner home", scenarios.learner_home(visitors), {}),
        ("module page", scenarios.module_pages(cat, visitors), {}),
        ("quiz submit", scenarios.submits(attempts[:half]), {"once": True}),
        *[(f"staff: {n}", [r], {}) for n, r in scenarios.staff_named(staff, worst)],
        ("write contention (64 conn.)", contention, {"once": True, "connections": 64}),
    ]
    driven = [("warm-up: first visits", _replay(port, scenarios.lesson_views(cat, readers)))]
    for n, (name, requests, options) in enumerate(loads):
        options = {"connections": args.connections, "seconds": args.seconds, **options}
        driven.append((name, _wrk(port, f"load{n}", requests, work, **options)))
    driven.append(("exam-start spike", _spike(port, scenarios.exam_starts(cat, spikers))))
    driven.append(("mixed model", _closed(port, mixed, args.mixed_seconds)))
    return driven, {"cookie": visitors[0].cookie, "path": cat.lessons[0]}


def run_backend(args: argparse.Namespace, backend: str, work: Path) -> dict:
    port = args.port + (10 if backend == "postgresql" else 0)
    with databases.fresh(backend, args.size) as (url, pgname):
        generated = generate(url, args.size, args.skewed, args.seed)
        app = _app(url)
        results = {"backend": backend, "generated": generated, "scenarios": []}
        hello = srv.Server("benchmarks.hello:app", port + 1, WORKERS, env(url), work / "hello.log")
        hello.start("/hello")
        data = load.write_requests(work / "hello.tsv", [load.Request("GET", "/hello")])
        probe = measure.Probe(hello, None)
        results["scenarios"].append(
            measure.run(
                "hello (bare Flask)",
                probe,
                lambda: measure.from_wrk(
                    load.wrk(
                        port + 1,
                        data,
                        connections=args.connections,
                        seconds=args.seconds,
                        log=work / "hello.log",
                    )
                ),
            )
        )
        hello.stop()
        app_server = srv.Server(
            "wsgi:app", port, WORKERS, env(url, LMS_COUNT_SQL="1"), work / "app.log"
        )
        try:
            app_server.start()
            results["boot_to_first_response_s"] = round(app_server.boot_s, 2)
            results["login_ok"] = databases.http_login(port)
            probe = measure.Probe(app_server, pgname)
            worst = generated["rows"]["worst_district"]
            scenario_list, weight = plan(args, app, port, work, worst)
            for name, drive in scenario_list:
                results["scenarios"].append(_repeat(name, probe, drive, args.repeat))
            results["page_weight"] = databases.page_weight(port, weight["cookie"], weight["path"])
        finally:
            app_server.stop()
        results["database_mb"] = databases.size_mb(url)
        if args.roster:
            uppers = databases.upper_codes(app)
            results["roster_import"] = roster.bench(url, work, args.roster, uppers)
        return results


def _repeat(name: str, probe: measure.Probe, drive, times: int) -> dict:  # type: ignore[no-untyped-def]
    """The median of `times` runs for every figure (write scenarios consume their data: once)."""
    once = name.startswith(("warm", "quiz", "write", "exam"))
    runs = [measure.run(name, probe, drive) for _ in range(1 if once else times)]
    if len(runs) == 1:
        return runs[0]
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            merged[key] = statistics.median(r[key] for r in runs if r.get(key) is not None)
    merged["runs"] = len(runs)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument("--skewed", action="store_true")
    parser.add_argument("--backend", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--mixed-seconds", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--users", type=int, default=5000, help="simulated users, mixed model")
    parser.add_argument("--spike", type=int, default=500, help="learners starting an exam at once")
    parser.add_argument("--roster", type=int, default=150_000, help="people in the roster file")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--out", type=Path, default=ROOT / "instance" / "bench")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (20_000, 20_000))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = args.out / stamp
    work.mkdir()
    results = {
        "size": args.size,
        "skewed": args.skewed,
        "workers": WORKERS,
        "started": stamp,
        "machine": report.machine(),
        "backends": {},
    }
    for backend in args.backend.split(","):
        results["backends"][backend] = run_backend(args, backend, work)
    path = args.out / f"{stamp}-{args.size}{'-skewed' if args.skewed else ''}.json"
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    print(report.table(results))
    print(f"\nJSON: {path}")


if __name__ == "__main__":
    main()
