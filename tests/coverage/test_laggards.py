"""Who to chase: chairs whose requirement is not met, with the reason and their phone, read from
each chair's kept activity (last visit day, quizzes failed twice)."""

from datetime import timedelta

import sqlalchemy as sa

from lms.coverage import dashboard, services
from lms.coverage.services import Params
from lms.db import db, utcnow, vn_today
from lms.progress import activity, standing
from lms.progress import services as progress
from lms.progress.models import CompletionSource, LearnerActivity, LessonProgress, UnitStanding
from tests.factories import make_lesson, make_org, make_quiz, make_user


def laggards(scenario, **kwargs) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    ctx = services.resolve(scenario["staff_a"], Params())
    found = dashboard.laggards(ctx, **kwargs)
    assert found.total >= len(found.people)
    return {person.unit_code: (person.reason, person.phone) for person in found.people}


def visit(user, lesson) -> None:  # type: ignore[no-untyped-def]
    """Open a lesson as the lesson page does: the visit it would record, recorded."""
    states = progress.module_lessons(user, [lesson.module_id])[lesson.module_id]
    state = next(s for s in states if s.lesson.id == lesson.id)
    found = progress.pending_visit(user, lesson, state, states)
    if found is not None:
        progress.record_visit(found)
    db.session.flush()


def fail_quiz_twice(user, module) -> None:  # type: ignore[no-untyped-def]
    from lms.quizzes import services as quizzes

    make_quiz(module, "Hai cộng hai? {=bốn ~ba}")
    ctx = quizzes.available_quiz(module.id)
    for _ in range(2):
        attempt, _created = quizzes.start_attempt(user, ctx)
        db.session.flush()
        quizzes.submit_attempt(quizzes.load_attempt(user, attempt.public_id), user, {}, 0)


def kept(user, course) -> LearnerActivity | None:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(LearnerActivity, (user.id, course.id))


def set_last_seen(user, course, day) -> None:  # type: ignore[no-untyped-def]
    """Move a chair's last visit into the past (the clock of this process cannot travel), with
    its copy on the union they chair."""
    db.session.execute(
        sa.update(LearnerActivity)
        .where(LearnerActivity.user_id == user.id, LearnerActivity.course_id == course.id)
        .values(last_seen_on=day)
    )
    db.session.execute(
        sa.update(UnitStanding)
        .where(UnitStanding.chair_id == user.id, UnitStanding.course_id == course.id)
        .values(chair_seen_on=day)
    )


def test_each_reason_and_the_contact(scenario) -> None:
    a = scenario["units"]["A-1"].parent_id
    parent = db.session.get(type(scenario["units"]["A-1"]), a)
    fresh = make_org("A-9", kind="grassroots", parent=parent, sector="state", members=9)
    make_user(phone="0912000009", org=fresh, position="chair")  # activated, never started
    busy = make_org("A-10", kind="grassroots", parent=parent, sector="state", members=9)
    learner = make_user(phone="0912000010", org=busy, position="chair")
    visit(learner, make_lesson(scenario["modules"]["nhan-thuc"], "bai-1"))
    fail_quiz_twice(scenario["chairs"]["A-7"], scenario["modules"]["tien-luong"])
    found = laggards(scenario)
    assert found == {
        "A-4": ("not_activated", "0912000004"),
        "A-7": ("failed_quiz", "0912000007"),
        "A-9": ("not_started", "0912000009"),
    }  # A-10 studied today; are done; have no chair


def test_a_visit_keeps_the_day_and_only_the_first_of_the_day_writes(scenario) -> None:
    chair, course = scenario["chairs"]["A-7"], scenario["course"]
    first, second = (make_lesson(scenario["modules"]["tien-luong"], f"bai-{n}", position=n)
                     for n in (1, 2))  # fmt: skip
    assert kept(chair, course) is None
    visit(chair, first)
    assert kept(chair, course).last_seen_on == vn_today()

    def next_visit():  # type: ignore[no-untyped-def]
        states = progress.module_lessons(chair, [second.module_id])[second.module_id]
        return progress.pending_visit(chair, second, states[1], states)

    assert not next_visit().new_day  # a lesson of the module was seen today: no write
    db.session.execute(  # that lesson last seen yesterday instead
        sa.update(LessonProgress)
        .where(LessonProgress.user_id == chair.id)
        .values(last_seen_dt=utcnow() - timedelta(days=1))
    )
    set_last_seen(chair, course, vn_today() - timedelta(days=1))
    assert next_visit().new_day
    visit(chair, second)
    assert kept(chair, course).last_seen_on == vn_today()


def test_stalled_after_fourteen_days(scenario) -> None:
    found = laggards(scenario)
    assert found["A-7"] == ("stalled", "0912000007")  # aware in 2021, no core module since
    chair, course = scenario["chairs"]["A-7"], scenario["course"]
    visit(chair, make_lesson(scenario["modules"]["tien-luong"], "bai-1"))
    assert "A-7" not in laggards(scenario)
    set_last_seen(chair, course, vn_today() - timedelta(days=14))
    assert "A-7" not in laggards(scenario)
    set_last_seen(chair, course, vn_today() - timedelta(days=15))
    assert laggards(scenario)["A-7"][0] == "stalled"


def test_a_recent_completion_anywhere_is_progress(scenario) -> None:
    chair, module = scenario["chairs"]["A-7"], scenario["modules"]["thuong-luong"]
    progress.record_completion(chair, module, CompletionSource.EXTERNAL)
    assert "A-7" not in laggards(scenario)  # a province class today, no visit online


def test_a_quiz_passed_after_failing_twice_no_longer_counts(scenario) -> None:
    from lms.quizzes import services as quizzes
    from tests.quizzes.helpers import answer_form

    chair, module = scenario["chairs"]["A-7"], scenario["modules"]["tien-luong"]
    fail_quiz_twice(chair, module)
    assert kept(chair, scenario["course"]).failed_quizzes == 1
    attempt, _created = quizzes.start_attempt(chair, quizzes.available_quiz(module.id))
    db.session.flush()
    form = {k: v if isinstance(v, list) else [str(v)] for k, v in answer_form(attempt).items()}
    done = quizzes.submit_attempt(quizzes.load_attempt(chair, attempt.public_id), chair, form, 0)
    assert done.passed and done.attempt_no == 3
    assert kept(chair, scenario["course"]).failed_quizzes == 0
    assert "A-7" not in laggards(scenario)  # the pass completed the module today


def test_the_rebuild_gives_the_kept_rows(scenario) -> None:
    chair, other = scenario["chairs"]["A-7"], scenario["chairs"]["A-3"]
    visit(other, make_lesson(scenario["modules"]["nhan-thuc"], "bai-1"))
    fail_quiz_twice(chair, scenario["modules"]["tien-luong"])
    rows = sa.select(LearnerActivity.__table__).order_by("user_id", "course_id")
    units = sa.select(UnitStanding.__table__).order_by("course_id", "org_id")
    before, units_before = db.session.execute(rows).all(), db.session.execute(units).all()
    assert len(before) == 2
    activity.rebuild()
    assert db.session.execute(rows).all() == before
    standing.rebuild_all()  # the unions' rows, with their copies of the chairs' activity
    assert db.session.execute(units).all() == units_before


def test_the_total_counts_every_laggard_beyond_those_shown(scenario) -> None:
    everyone = laggards(scenario)
    assert sorted(everyone) == ["A-4", "A-7"]  # not activated, stalled
    ctx = services.resolve(scenario["staff_a"], Params())
    shown = dashboard.laggards(ctx, per_page=1)
    assert (len(shown.people), shown.total, shown.pages) == (1, 2, 2)
    assert shown.people[0].unit_code == "A-4"  # sorted by unit name
    second = dashboard.laggards(ctx, page=2, per_page=1)
    assert [p.unit_code for p in second.people] == ["A-7"]
    past = dashboard.laggards(ctx, page=9, per_page=1)
    assert (past.page, [p.unit_code for p in past.people]) == (2, ["A-7"])


def test_a_chair_who_sets_a_password_is_no_longer_called_to_activate(scenario) -> None:
    from lms.accounts import services as accounts

    assert laggards(scenario)["A-4"][0] == "not_activated"
    accounts.set_password(scenario["chairs"]["A-4"], "Mat-khau-moi-2026!")
    assert laggards(scenario)["A-4"] == ("not_started", "0912000004")  # nothing done yet


def test_the_chair_called_is_todays_chair(scenario) -> None:
    from lms.orgs import services as orgs
    from lms.orgs.models import Officer

    newcomer = make_user(phone="0912000005", org=scenario["units"]["A-5"], position="chair")
    chair = db.session.scalars(
        sa.select(Officer).where(Officer.user_id == scenario["chairs"]["A-7"].id)
    ).one()
    orgs.end_position(chair)
    found = laggards(scenario)
    assert found["A-5"] == ("not_started", "0912000005")  # a vacancy until now
    assert "A-7" not in found  # a vacancy now
    visit(newcomer, make_lesson(scenario["modules"]["nhan-thuc"], "bai-1"))
    assert "A-5" not in laggards(scenario)


def test_a_recount_of_the_union_keeps_what_the_chairs_own_writes_kept(scenario) -> None:
    """On PostgreSQL a recount may read the chair's activity before the chair's visit commits;
    it must not put the older day back over the one the visit wrote. A recount writes those
    facts for a new chair only."""
    chair, course = scenario["chairs"]["A-7"], scenario["course"]
    visit(chair, make_lesson(scenario["modules"]["tien-luong"], "bai-1"))
    stale = vn_today() - timedelta(days=30)  # what such a recount would have read
    db.session.execute(
        sa.update(LearnerActivity)
        .where(LearnerActivity.user_id == chair.id, LearnerActivity.course_id == course.id)
        .values(last_seen_on=stale)
    )
    scenario["units"]["A-7"].member_count = 51  # the union is counted again
    assert "A-7" not in laggards(scenario)
    kept = sa.select(UnitStanding.chair_seen_on).where(
        UnitStanding.chair_id == chair.id, UnitStanding.course_id == course.id
    )
    assert db.session.scalar(kept) == vn_today()


def test_rebuild_aggregates_rebuilds_the_activity_before_the_unions_copy_it(
    scenario, runner
) -> None:
    chair, course = scenario["chairs"]["A-7"], scenario["course"]
    visit(chair, make_lesson(scenario["modules"]["tien-luong"], "bai-1"))
    db.session.execute(sa.delete(LearnerActivity))  # lost, as the rebuild must not mind
    db.session.execute(sa.update(UnitStanding).values(chair_seen_on=None))
    db.session.commit()
    result = runner.invoke(args=["rebuild-aggregates"])
    assert result.exit_code == 0, result.output
    kept = sa.select(UnitStanding.chair_seen_on).where(
        UnitStanding.chair_id == chair.id, UnitStanding.course_id == course.id
    )
    assert db.session.scalar(kept) == vn_today()
    assert "A-7" not in laggards(scenario)
