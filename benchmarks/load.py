"""Load generators: wrk (open loop at saturation, Lua replaying prepared requests) and a small
asyncio driver for closed models with think time and for spikes.

Why not locust for the closed model: on a 2-core box the load generator shares the CPU with
the server, and locust's per-request cost (requests + gevent, or FastHttpUser) is several times
that of a bare asyncio socket; 5,000 users at 5-15 s think time is ~500 req/s, which this driver
sends for a few percent of one core, with exact closed-model semantics and every latency kept."""

import asyncio
import json
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    cookie: str = ""
    body: str = ""

    def line(self) -> str:
        return "\t".join((self.method, self.path, self.cookie, self.body))


def write_requests(path: Path, requests: list[Request]) -> Path:
    path.write_text("\n".join(r.line() for r in requests) + "\n")
    return path


def wrk(
    port: int,
    data: Path,
    *,
    connections: int,
    seconds: int,
    once: bool = False,
    threads: int = 2,
    log: Path | None = None,
) -> dict:
    """Run wrk against the server; its JSON summary (latencies in microseconds). With the
    server's access log, `active_s` is the time until its last answer: wrk always runs its
    full duration, but a "once" run may use up its requests sooner."""
    threads = min(threads, connections)
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "requests.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        str(data),
        "once" if once else "cycle",
        str(threads),
    ]
    started = last = time.monotonic()
    size = log.stat().st_size if log else 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:  # noqa: S603
        while proc.poll() is None:
            time.sleep(0.02)
            if log and log.stat().st_size != size:
                size, last = log.stat().st_size, time.monotonic()
        output = proc.stdout.read() if proc.stdout else ""
    summary = json.loads(output.strip().splitlines()[-1])
    summary["errors"] = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    summary["active_s"] = round((last - started) if log else summary["duration_us"] / 1e6, 3)
    return summary


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def fetch(port: int, req: Request, tally: Tally) -> None:
    """One request on a fresh connection (gunicorn's sync workers close after each answer)."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        head = [
            f"{req.method} {req.path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "User-Agent: lms-bench/1",
            "Connection: close",
        ]
        if req.cookie:
            head.append(f"Cookie: {req.cookie}")
        body = req.body.encode()
        if body:
            head += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await asyncio.wait_for(reader.readline(), 30)
        await asyncio.wait_for(reader.read(), 30)
        writer.close()
        status = int(status_line.split()[1])
    except (TimeoutError, OSError, IndexError, ValueError):
        tally.failures += 1
        return
    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
    tally.statuses[status] = tally.statuses.get(status, 0) + 1
    if status >= 400:
        tally.failures += 1


async def _user(port: int, pick, think: tuple[float, float], until: float, tally: Tally,
                rng: random.Random) -> None:  # type: ignore[no-untyped-def] # fmt: skip
    await asyncio.sleep(rng.uniform(0, think[1]))  # arrivals spread over one think time
    while time.monotonic() < until:
        await fetch(port, pick(rng), tally)
        await asyncio.sleep(rng.uniform(*think))


def closed_model(port: int, users: list, seconds: int, seed: int = 1) -> Tally:
    """Each user: a request from its own picker, then think time; for `seconds`.
    `users` is a list of (picker, (think_min, think_max))."""
    tally = Tally()

    async def main() -> None:
        until = time.monotonic() + seconds
        rng = random.Random(seed)
        await asyncio.gather(
            *(
                _user(port, pick, think, until, tally, random.Random(rng.random()))
                for pick, think in users
            )
        )

    asyncio.run(main())
    return tally


def spike(port: int, requests: list[Request], window_s: float = 1.0) -> tuple[Tally, float]:
    """Everyone at once: the requests start within `window_s`; (tally, seconds until the last
    answer)."""
    tally = Tally()

    async def one(req: Request, delay: float) -> None:
        await asyncio.sleep(delay)
        await fetch(port, req, tally)

    async def main() -> None:
        rng = random.Random(3)
        await asyncio.gather(*(one(r, rng.uniform(0, window_s)) for r in requests))

    started = time.perf_counter()
    asyncio.run(main())
    return tally, time.perf_counter() - started


def replay(port: int, requests: list[Request], concurrency: int = 4) -> Tally:
    """Send every request once, `concurrency` at a time (a warm-up, or a one-off pass)."""
    tally = Tally()

    async def main() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(req: Request) -> None:
            async with gate:
                await fetch(port, req, tally)

        await asyncio.gather(*(one(r) for r in requests))

    asyncio.run(main())
    return tally
