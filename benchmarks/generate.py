"""Build a benchmark database: schema by migrations, courses by `lms import-courses`, the
federation and its history by bulk inserts (SQLAlchemy Core, executemany in chunks).

    python -m benchmarks.generate --size S [--skewed] [--seed 7] --database-url URL
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks import activity, people
from benchmarks.shape import NEWEST, SIZES, YEARS, Shape, shape

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-2026-matkhau"  # noqa: S105 - the generated accounts' shared password
SECRET = "bench-secret-key-not-for-production"  # noqa: S105


def env(url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "LMS_DATABASE_URL": url,
        "LMS_SECRET_KEY": SECRET,
        "LMS_SECURE_COOKIES": "false",
        **extra,
    }


def lms(url: str, *args: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "lms"), *args],
        cwd=ROOT,
        env=env(url),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def course_folder(into: Path) -> Path:
    """The shipped course and copies of it for later years (older ones carry history)."""
    source = next(p for p in (ROOT / "courses").iterdir() if (p / "course.toml").exists())
    for year in YEARS:
        target = into / f"chu-de-{year}"
        shutil.copytree(source, target)
        toml = target / "course.toml"
        text = toml.read_text(encoding="utf-8").replace("year = 2021", f"year = {year}")
        deadline = "2026-12-31" if year == NEWEST else f"{year}-11-03"
        text = text.replace('deadline = "2021-11-03"', f'deadline = "{deadline}"')
        toml.write_text(text.replace("năm 2021", f"năm {year}"), encoding="utf-8")
    return into


def catalog(conn: sa.Connection, seed: int) -> list[activity.ModuleInfo]:
    """The imported modules with their lessons, quiz and one attempt layout per quiz."""
    from lms.catalog.models import Course, Lesson, Module
    from lms.quizzes import services as quizzes
    from lms.quizzes.models import Quiz

    session = sa.orm.Session(conn)
    rows = session.execute(
        sa.select(Module, Course.year, Quiz)
        .join(Course)
        .outerjoin(Quiz, Quiz.module_id == Module.id)
        .order_by(Course.year, Module.position)
    ).all()
    modules = []
    for module, year, quiz in rows:
        lessons = session.scalars(
            sa.select(Lesson.id).where(Lesson.module_id == module.id).order_by(Lesson.position)
        ).all()
        layout = {}
        if quiz is not None:
            questions = quizzes.current_questions(quiz)
            layout = quizzes.build_layout(questions, quiz.shuffle, random.Random(seed))
        modules.append(
            activity.ModuleInfo(
                module.id,
                year,
                tuple(lessons),
                quiz.id if quiz else None,
                quiz.version if quiz else 1,
                layout,
            )
        )
    session.close()
    return modules


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> int:
    for chunk in people.chunks(rows):
        conn.execute(table.insert(), chunk)
    return len(rows)


def load(url: str, s: Shape, seed: int) -> dict:
    """Fill an initialised database; return row counts."""
    from lms import create_app
    from lms.accounts import passwords
    from lms.db import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    with app.app_context():
        password_hash = passwords.hash_password(PASSWORD)  # once, with production parameters
        fed = people.federation(s, seed, password_hash)
        tables = db.metadata.tables
        counts: dict[str, int] = {}
        with db.engine.begin() as conn:
            counts["organization"] = _insert(conn, tables["organization"], fed.orgs)
            counts["user_account"] = _insert(conn, tables["user_account"], fed.users)
            counts["officer"] = _insert(conn, tables["officer"], fed.officers)
            modules = catalog(conn, seed)
            for name in ("completion", "lesson_progress", "attempt"):
                counts[name] = 0
            for batch in activity.stream(fed.learner_ids, modules, seed):
                for name, rows in zip(
                    ("completion", "lesson_progress", "attempt"), batch, strict=True
                ):
                    counts[name] += _insert(conn, tables[name], rows)
            _after_bulk(conn)
        db.engine.dispose()
    counts["worst_district"], counts["province"] = fed.worst_code, fed.province_code  # type: ignore[assignment]
    return counts


def _after_bulk(conn: sa.Connection) -> None:
    """Explicit ids bypassed PostgreSQL's sequences: move them on. Then gather statistics, as
    autovacuum would on a server that has been running."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("organization", "user_account"):
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        conn.execute(sa.text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))  # noqa: S608
    conn.execute(sa.text("ANALYZE"))


def generate(url: str, size: str, skewed: bool = False, seed: int = 7) -> dict:
    """Schema, courses and data; returns counts and the seconds each step took."""
    s = shape(size, skewed)
    started = time.perf_counter()
    lms(url, "init-db")
    with tempfile.TemporaryDirectory(prefix="lms-bench-courses-") as tmp:
        lms(url, "import-courses", str(course_folder(Path(tmp))))
    courses_s = time.perf_counter() - started
    counts = load(url, s, seed)
    rebuilt = time.perf_counter()
    lms(url, "rebuild-aggregates")  # coverage reads per-person standings, kept by progress
    counts["rebuild_aggregates_s"] = round(time.perf_counter() - rebuilt, 1)  # type: ignore[assignment]
    return {
        "shape": s.label,
        "seed": seed,
        "rows": counts,
        "schema_and_courses_s": round(courses_s, 1),
        "total_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument("--skewed", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    print(generate(args.database_url, args.size, args.skewed, args.seed))


if __name__ == "__main__":
    main()
