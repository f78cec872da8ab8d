"""What the officers did: completions over the years, lesson progress and quiz attempts in the
newest course. Rows are produced per learner and streamed, so XXL fits in memory."""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from benchmarks.shape import NEWEST, P_DONE_NEW, P_DONE_OLD


@dataclass(frozen=True)
class ModuleInfo:
    id: int
    year: int
    lessons: tuple[int, ...]
    quiz_id: int | None
    quiz_version: int
    layout: dict


SOURCES = ("online",) * 17 + ("live",) * 2 + ("external",)


def _moment(rng: random.Random, year: int) -> datetime:
    last = date(year, 11, 30) if year == NEWEST else date(year, 12, 31)
    day = date(year, 1, 10) + timedelta(days=rng.randrange((last - date(year, 1, 10)).days))
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(86_400)
    )


def _completion(user_id: int, m: ModuleInfo, source: str, when: datetime, rng) -> dict:  # type: ignore[no-untyped-def]
    revoked = rng.random() < 0.005
    return {
        "user_id": user_id,
        "module_id": m.id,
        "source": source,
        "completed_dt": when,
        "recorded_by_id": None,
        "note": None,
        "revoked_dt": when + timedelta(days=3) if revoked else None,
        "revoked_by_id": None,
        "revoke_reason": "Ghi nhận nhầm người" if revoked else None,
        # A class attended elsewhere is entered some days after it took place.
        "recorded_dt": when + timedelta(days=5 if source == "external" else 0),
        "class_name": "Lớp tập huấn của LĐLĐ tỉnh" if source == "external" else None,
    }


def _progress(user_id: int, m: ModuleInfo, upto: int, done_by: datetime | None, rng) -> list:  # type: ignore[no-untyped-def]
    rows = []
    for n, lesson_id in enumerate(m.lessons[:upto]):
        seen = (done_by or datetime(NEWEST, 11, 1, tzinfo=UTC)) - timedelta(days=len(m.lessons) - n)
        finished = done_by is not None or n < upto - 1
        rows.append(
            {
                "user_id": user_id,
                "lesson_id": lesson_id,
                "module_id": m.id,
                "first_seen_dt": seen,
                "last_seen_dt": seen,
                "completed_dt": seen if finished else None,
            }
        )
    return rows


def _attempt(user_id: int, m: ModuleInfo, no: int, when: datetime, passed: bool, rng) -> dict:  # type: ignore[no-untyped-def]
    return {
        "public_id": f"{rng.getrandbits(128):032x}",
        "user_id": user_id,
        "quiz_id": m.quiz_id,
        "version": m.quiz_version,
        "attempt_no": no,
        "started_dt": when - timedelta(minutes=12),
        "submitted_dt": when,
        "layout": m.layout,
        "revision": 1,
        "score": 90.0 if passed else 50.0,
        "passed": passed,
    }


def learner_rows(user_id: int, modules: list[ModuleInfo], rng: random.Random) -> tuple:
    """One learner's completions, lesson progress and attempts."""
    completions, progress, attempts = [], [], []
    engaged = rng.random()  # some people do everything, some little
    for m in modules:
        chance = (P_DONE_NEW if m.year == NEWEST else P_DONE_OLD) * (0.4 + 1.2 * engaged)
        done = rng.random() < chance
        if m.year != NEWEST:
            if done:
                when = _moment(rng, m.year)
                completions.append(_completion(user_id, m, rng.choice(SOURCES), when, rng))
            continue
        if done:
            when, source = _moment(rng, m.year), rng.choice(SOURCES)
            completions.append(_completion(user_id, m, source, when, rng))
            progress += _progress(user_id, m, len(m.lessons), when, rng)
            if source == "online" and m.quiz_id:
                failed_first = rng.random() < 0.2
                if failed_first:
                    attempts.append(_attempt(user_id, m, 1, when - timedelta(days=1), False, rng))
                attempts.append(_attempt(user_id, m, 1 + failed_first, when, True, rng))
        elif rng.random() < 0.3:
            progress += _progress(user_id, m, 1 + rng.randrange(len(m.lessons)), None, rng)
    return completions, progress, attempts


def stream(learners: list[int], modules: list[ModuleInfo], seed: int) -> Iterator[tuple]:
    """(completions, progress, attempts) in batches of about a thousand learners."""
    rng = random.Random(f"{seed}-activity")
    batch: tuple[list, list, list] = ([], [], [])
    for n, user_id in enumerate(learners, 1):
        for into, rows in zip(batch, learner_rows(user_id, modules, rng), strict=True):
            into += rows
        if n % 1000 == 0:
            yield batch
            batch = ([], [], [])
    yield batch
