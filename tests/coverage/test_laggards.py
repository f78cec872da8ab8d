"""Who to chase: chairs whose requirement is not met, with the reason and their phone."""

from datetime import timedelta

from lms.coverage import dashboard, services
from lms.coverage.services import Params
from lms.db import db, utcnow
from lms.progress.models import LessonProgress
from tests.factories import make_lesson, make_org, make_quiz, make_user


def laggards(scenario) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    ctx = services.resolve(scenario["staff_a"], Params())
    found, total = dashboard.laggards(ctx, dashboard.counted_modules(ctx))
    assert total >= len(found)
    return {person.unit_code: (person.reason, person.phone) for person in found}


def fail_quiz_twice(user, module) -> None:  # type: ignore[no-untyped-def]
    from lms.quizzes import services as quizzes

    make_quiz(module, "Hai cộng hai? {=bốn ~ba}")
    ctx = quizzes.available_quiz(module.id)
    for _ in range(2):
        attempt, _created = quizzes.start_attempt(user, ctx)
        db.session.flush()
        quizzes.submit_attempt(quizzes.load_attempt(user, attempt.public_id), user, {}, 0)


def test_each_reason_and_the_contact(scenario) -> None:
    a = scenario["units"]["A-1"].parent_id
    parent = db.session.get(type(scenario["units"]["A-1"]), a)
    fresh = make_org("A-9", kind="grassroots", parent=parent, sector="state", members=9)
    make_user(phone="0912000009", org=fresh, position="chair")  # activated, never started
    busy = make_org("A-10", kind="grassroots", parent=parent, sector="state", members=9)
    learner = make_user(phone="0912000010", org=busy, position="chair")
    lesson = make_lesson(scenario["modules"]["nhan-thuc"], "bai-1")
    db.session.add(LessonProgress(user_id=learner.id, lesson_id=lesson.id,
                                  module_id=lesson.module_id, last_seen_dt=utcnow()))  # fmt: skip
    fail_quiz_twice(scenario["chairs"]["A-7"], scenario["modules"]["tien-luong"])
    found = laggards(scenario)
    assert found == {
        "A-4": ("not_activated", "0912000004"),
        "A-7": ("failed_quiz", "0912000007"),
        "A-9": ("not_started", "0912000009"),
    }  # A-10 studied today; are done; have no chair


def test_stalled_after_fourteen_days(scenario) -> None:
    found = laggards(scenario)
    assert found["A-7"] == ("stalled", "0912000007")  # aware in 2021, no core module since
    chair = scenario["chairs"]["A-7"]
    lesson = make_lesson(scenario["modules"]["tien-luong"], "bai-1")
    seen = LessonProgress(user_id=chair.id, lesson_id=lesson.id, module_id=lesson.module_id,
                          last_seen_dt=utcnow() - timedelta(days=13))  # fmt: skip
    db.session.add(seen)
    db.session.flush()
    assert "A-7" not in laggards(scenario)
    seen.last_seen_dt = utcnow() - timedelta(days=15)
    db.session.flush()
    assert laggards(scenario)["A-7"][0] == "stalled"


def test_the_total_counts_every_laggard_beyond_those_shown(scenario, monkeypatch) -> None:
    ctx = services.resolve(scenario["staff_a"], Params())
    everyone, total = dashboard.laggards(ctx, dashboard.counted_modules(ctx))
    assert total == len(everyone) == 2  # A-4 not activated, A-7 stalled
    monkeypatch.setattr(dashboard, "LAGGARDS_SHOWN", 1)
    shown, total = dashboard.laggards(ctx, dashboard.counted_modules(ctx))
    assert (len(shown), total) == (1, 2)
    assert shown[0].unit_code == "A-4"  # sorted by unit name
