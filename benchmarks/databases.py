"""Throwaway benchmark databases (a SQLite file, or a PostgreSQL database of their own) and
what the runner asks of them: whom to sign in, a real sign-in, page weight, size on disk."""

import os
import re
import tempfile
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from benchmarks.generate import PASSWORD
from benchmarks.sessions import USER_AGENT

ADMIN_URL = os.environ.get("LMS_BENCH_POSTGRES_URL", "postgresql://lms:lms@127.0.0.1:5432/postgres")


def _engine(url: str) -> sa.Engine:
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def fresh(backend: str, label: str) -> Iterator[tuple[str, str | None]]:
    """(url, PostgreSQL database name or None); dropped or deleted afterwards, always."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="lms-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}", None
        return
    name = f"lms_bench_{label.lower()}_{uuid.uuid4().hex[:6]}"
    admin = _engine(ADMIN_URL)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(ADMIN_URL).set(database=name).render_as_string(False), name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_name(url: str) -> str | None:
    """The PostgreSQL database a URL names (its backends are billed with the app), or None."""
    parsed = sa.make_url(url)
    return parsed.database if parsed.get_backend_name() == "postgresql" else None


def org_code_of(app: Flask, username: str) -> str:
    """The code of the unit a user belongs to (a staff member's scope)."""
    from lms.accounts.models import User
    from lms.db import db
    from lms.orgs.models import Organization

    with app.app_context():
        return db.session.scalar(
            sa.select(Organization.code)
            .join(User, User.org_id == Organization.id)
            .where(User.username == username)
        )


def learner_usernames(app: Flask, count: int, offset: int = 0) -> list[str]:
    """Learners spread over the whole tree (every k-th by id), deterministic."""
    from lms.accounts.models import Role, User
    from lms.db import db

    with app.app_context():
        names = db.session.scalars(
            sa.select(User.username).where(User.role == Role.LEARNER).order_by(User.id)
        ).all()
    if not names:
        return []
    step = max(1, len(names) // max(1, count + offset))
    picked = names[::step]
    return [picked[(offset + n) % len(picked)] for n in range(min(count, len(picked)))]


def http_login(port: int) -> bool:
    """A real sign-in over HTTP (argon2 against the shared hash): the generated accounts work."""
    from benchmarks.generate import SECRET  # noqa: F401 - same app settings as the server

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    body = urllib.parse.urlencode(
        {
            "csrf_token": token.group(1) if token else "",
            "username": "bench.district",
            "password": PASSWORD,
        }
    )
    answer = opener.open(f"http://127.0.0.1:{port}/login", body.encode())
    return "/login" not in answer.geturl()


def page_weight(port: int, cookie: str, path: str) -> dict:
    """Bytes a phone downloads for a lesson: the HTML and the CSS and scripts it links."""

    def get(url: str) -> bytes:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}{url}", headers={"Cookie": cookie, "User-Agent": USER_AGENT}
        )
        with urllib.request.urlopen(req) as answer:  # noqa: S310 - loopback
            return answer.read()

    html = get(path)
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))', html)
    sizes = {a.decode(): len(get(a.decode())) for a in dict.fromkeys(assets)}
    total = len(html) + sum(sizes.values())
    # 3G as in Chrome's "Slow 3G"-like profile: 400 ms round trip, 400 kbit/s down.
    return {
        "html_bytes": len(html),
        "assets": sizes,
        "total_kb": round(total / 1024, 1),
        "slow_3g_s": round(0.4 * (2 + len(sizes)) + total * 8 / 400_000, 1),
    }


def size_mb(url: str) -> float:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return round(sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20, 1)
    engine = _engine(url)
    with engine.connect() as conn:
        size = conn.scalar(sa.text("SELECT pg_database_size(current_database())"))
    engine.dispose()
    return round(size / 2**20, 1)


def upper_codes(app: Flask) -> list[str]:
    """Codes of the upper-level unions (the parents of grassroots unions)."""
    from lms.db import db
    from lms.orgs.models import Organization

    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Organization.code)
                .where(Organization.kind.in_(("district", "zone_union")))
                .order_by(Organization.id)
            )
        )
