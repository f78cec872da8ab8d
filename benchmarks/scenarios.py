"""What each scenario sends, built from the generated database and the minted sessions."""

import random
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from benchmarks.load import Request
from benchmarks.sessions import Visitor
from benchmarks.shape import NEWEST


@dataclass(frozen=True)
class Catalog:
    """Slugs of the newest course's modules and lessons, and the older courses' lessons."""

    course: str
    modules: list[tuple[int, str]]  # (id, slug)
    lessons: list[str]  # paths under /learn/ of the newest course
    older_lessons: list[str]
    quiz_modules: list[int]


def catalog(app: Flask) -> Catalog:
    from lms.catalog.models import Course, Lesson, Module
    from lms.db import db
    from lms.quizzes.models import Quiz

    with app.app_context():
        rows = db.session.execute(
            sa.select(Course.slug, Course.year, Module.id, Module.slug, Lesson.slug)
            .join(Module, Module.course_id == Course.id)
            .join(Lesson, Lesson.module_id == Module.id)
            .order_by(Course.year, Module.position, Lesson.position)
        ).all()
        quizzes = set(db.session.scalars(sa.select(Quiz.module_id)))
    newest = [r for r in rows if r.year == NEWEST]
    course = newest[0][0]
    modules = list(dict.fromkeys((r[2], r[3]) for r in newest))
    return Catalog(
        course=course,
        modules=modules,
        lessons=[f"/learn/{r[0]}/{r[3]}/{r[4]}" for r in newest],
        older_lessons=[f"/learn/{r[0]}/{r[3]}/{r[4]}" for r in rows if r.year != NEWEST],
        quiz_modules=[m for m, _slug in modules if m in quizzes],
    )


def lesson_views(cat: Catalog, visitors: list[Visitor]) -> list[Request]:
    """Every lesson of the newest course for each visitor, in a shuffled order."""
    pairs = [Request("GET", path, v.cookie) for v in visitors for path in cat.lessons]
    random.Random(11).shuffle(pairs)
    return pairs


def learner_home(visitors: list[Visitor]) -> list[Request]:
    return [Request("GET", "/", v.cookie) for v in visitors]


def module_pages(cat: Catalog, visitors: list[Visitor]) -> list[Request]:
    paths = [f"/learn/{cat.course}/{slug}" for _id, slug in cat.modules]
    return [Request("GET", paths[n % len(paths)], v.cookie) for n, v in enumerate(visitors)]


def submits(attempts: list[dict]) -> list[Request]:
    return [
        Request("POST", f"/attempts/{a['public_id']}/submit", a["visitor"].cookie, a["body"])
        for a in attempts
    ]


def first_visits(cat: Catalog, visitors: list[Visitor]) -> list[Request]:
    """Lessons of older courses nobody has opened: each request records a visit (a write)."""
    pairs = [(v, path) for path in cat.older_lessons for v in visitors]
    random.Random(5).shuffle(pairs)
    return [Request("GET", path, v.cookie) for v, path in pairs]


def exam_starts(cat: Catalog, visitors: list[Visitor]) -> list[Request]:
    module_id = cat.quiz_modules[-1]
    return [
        Request("POST", f"/modules/{module_id}/quiz/start", v.cookie, f"csrf_token={v.csrf}")
        for v in visitors
    ]


def mixed_users(cat: Catalog, learners: list[Visitor], staff: list[Request], users: int) -> list:
    """98% learners (lessons, module pages, home; 5-15 s think time), 2% staff (their reports,
    20-40 s reading each)."""
    lessons, homes = lesson_views(cat, learners), learner_home(learners)
    modules = module_pages(cat, learners)

    def learner(rng: random.Random) -> Request:
        roll = rng.random()
        pool = lessons if roll < 0.6 else modules if roll < 0.8 else homes
        return rng.choice(pool)

    def officer(rng: random.Random) -> Request:
        return rng.choice(staff)

    return [
        (officer, (20.0, 40.0)) if n % 50 == 0 else (learner, (5.0, 15.0)) for n in range(users)
    ]


REPORT = "/reports/coverage"


def staff_named(staff: list[Visitor], worst: str) -> list[tuple[str, Request]]:
    """Staff pages: (name, request) for national (admin), province and worst-case district."""
    admin, province, district = staff
    return [
        ("district coverage dashboard", Request("GET", REPORT, district.cookie)),
        (
            "district report JSON (figures + units)",
            Request("GET", f"{REPORT}?format=json", district.cookie),
        ),
        (
            "district chairs to contact (first 100)",
            Request("GET", f"{REPORT}/contacts", district.cookie),
        ),
        ("district XLSX export", Request("GET", f"{REPORT}?format=xlsx", district.cookie)),
        (
            "province roll-up (?summary=1)",
            Request("GET", f"{REPORT}?format=json&summary=1", province.cookie),
        ),
        (
            "national roll-up (?summary=1)",
            Request("GET", f"{REPORT}?format=json&summary=1", admin.cookie),
        ),
        ("district staff home", Request("GET", "/", district.cookie)),
        ("district unit page", Request("GET", f"/orgs/{worst}", district.cookie)),
    ]


def staff_pages(staff: list[Visitor], worst: str) -> list[Request]:
    """What staff open in the mixed model: every page above but the spreadsheet."""
    return [req for name, req in staff_named(staff, worst) if "XLSX" not in name]
