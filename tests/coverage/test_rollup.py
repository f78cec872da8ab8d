"""The roll-ups (lms.progress.rollup) against a count made directly from the unions, after any
mix of what can change a union's contribution: completions and revocations, lessons opened,
chairs ended and appointed, unions moved, resized, re-sectored or created, the course's split
changed. Kept in step as they go, they must also equal the same roll-ups rebuilt from nothing:
the four targets and the dashboard's funnel."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.accounts.models import Role
from lms.coverage import queries, services
from lms.db import db, vn_today
from lms.orgs import services as orgs
from lms.orgs.models import Officer, Position
from lms.progress import rollup, standing
from lms.progress import services as progress
from lms.progress.models import (
    Completion,
    CompletionSource,
    CourseStanding,
    CoverageRollup,
    LessonProgress,
    ModuleRollup,
    UnitStanding,
)
from tests.factories import make_course, make_lesson, make_module, make_org, make_user

START = datetime(2021, 10, 1, 9, tzinfo=UTC)
KINDS = ("awareness", "core", "core")

operation = st.one_of(
    st.tuples(st.just("complete"), st.integers(0, 30), st.integers(0, 3), st.integers(0, 9)),
    st.tuples(st.just("revoke"), st.integers(0, 30)),
    st.tuples(st.just("open"), st.integers(0, 30), st.integers(0, 3), st.integers(0, 9)),
    st.tuples(st.just("end_chair"), st.integers(0, 30)),
    st.tuples(st.just("appoint"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 2)),
    st.tuples(st.just("members"), st.integers(0, 30), st.sampled_from([None, 10, 999, 1000])),
    st.tuples(st.just("sector"), st.integers(0, 30), st.sampled_from(["state", "non_state"])),
    st.tuples(st.just("new_unit"), st.integers(0, 2), st.sampled_from(["state", "non_state"])),
    st.tuples(st.just("split"), st.sampled_from([500, 1000, 2000])),
    st.tuples(st.just("publish"), st.sampled_from(["awareness", "core"])),
    st.tuples(st.just("flush")),
    st.tuples(st.just("settle")),
)


class World:
    """Two provinces, three districts, unions with chairs, and a course of three modules."""

    def __init__(self) -> None:
        px, py = make_org("RPX", kind="province"), make_org("RPY", kind="province")
        self.provinces = [px, py]
        self.districts = [make_org(f"RD{n}", kind="district", parent=p)
                          for n, p in enumerate((px, px, py))]  # fmt: skip
        self.course = make_course("cuon-chieu", year=2032)
        self.modules = [make_module(self.course, f"r{n}", kind=k, position=n)
                        for n, k in enumerate(KINDS)]  # fmt: skip
        self.lessons = [make_lesson(m, f"bai-{n}") for n, m in enumerate(self.modules)]
        self.admin = make_user(role=Role.ADMIN, password=None)
        self.units, self.people, self.done = [], [], []
        for n in range(4):
            self.new_unit(n % 3, "non_state" if n % 2 else "state", chair=True)

    def new_unit(self, district: int, sector: str, *, chair: bool = False) -> None:
        unit = make_org(f"RU{len(self.units)}", kind="grassroots", sector=sector,
                        parent=self.districts[district], members=1000)  # fmt: skip
        self.units.append(unit)
        if chair:
            self.people.append(make_user(org=unit, position="chair", password=None))

    def pick(self, items: list, n: int):  # type: ignore[no-untyped-def]
        return items[n % len(items)] if items else None

    def apply(self, op: tuple) -> None:
        getattr(self, f"do_{op[0]}")(*op[1:])

    def do_complete(self, who: int, module: int, day: int) -> None:
        person = self.pick(self.people, who)
        if person is not None:
            when = START + timedelta(days=day)
            done = progress.record_completion(person, self.pick(self.modules, module),
                                              CompletionSource.EXTERNAL, when=when)  # fmt: skip
            self.done.append(done)

    def do_open(self, who: int, module: int, day: int) -> None:
        """A person opens the module's lesson (once: a lesson is first seen once)."""
        person, lesson = self.pick(self.people, who), self.pick(self.lessons, module)
        if person is None or db.session.scalar(sa.select(LessonProgress.id).where(
                LessonProgress.user_id == person.id, LessonProgress.lesson_id == lesson.id)):
            return  # fmt: skip
        when = START + timedelta(days=day, hours=8)  # 01:00 the next day in Vietnam
        db.session.add(LessonProgress(user_id=person.id, lesson_id=lesson.id,
                                      module_id=lesson.module_id, first_seen_dt=when,
                                      last_seen_dt=when))  # fmt: skip

    def do_revoke(self, n: int) -> None:
        done = self.pick(self.done, n)
        if done is not None and done.revoked_dt is None:
            progress.revoke_completion(done, self.admin, "Ghi nhầm")

    def do_end_chair(self, n: int) -> None:
        unit = self.pick(self.units, n)
        chair = db.session.scalars(sa.select(Officer).where(
            Officer.org_id == unit.id, Officer.position == Position.CHAIR,
            Officer.ended_on.is_(None))).first()  # fmt: skip
        if chair is not None:
            orgs.end_position(chair)
            db.session.flush()

    def do_appoint(self, n: int, who: int) -> None:
        unit, person = self.pick(self.units, n), self.pick(self.people, who)
        try:
            orgs.appoint(person, unit, "chair")
        except orgs.OrgError:
            pass  # the union has a chair already

    def do_move(self, n: int, district: int) -> None:
        unit, parent = self.pick(self.units, n), self.districts[district]
        unit.parent_id, unit.path = parent.id, f"{parent.path}{unit.id}/"

    def do_members(self, n: int, members: int | None) -> None:
        self.pick(self.units, n).member_count = members

    def do_sector(self, n: int, sector: str) -> None:
        self.pick(self.units, n).sector = sector

    def do_new_unit(self, district: int, sector: str) -> None:
        self.new_unit(district, sector, chair=len(self.units) % 2 == 0)

    def do_split(self, members: int) -> None:
        self.course.split_members = members

    def do_publish(self, kind: str) -> None:
        """A new module goes live, begun by nobody yet (counted without a rebuild)."""
        n = len(self.modules)
        module = make_module(self.course, f"r{n}", kind=kind, position=n, status="draft")
        self.lessons.append(make_lesson(module, f"bai-{n}"))
        self.modules.append(module)
        module.status = "published"

    def do_flush(self) -> None:
        db.session.flush()

    def do_settle(self) -> None:
        """What a commit does: the roll-ups brought in step before the next operation."""
        rollup.settle()


def live(world: World, root, as_of: date) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    db.session.flush()
    return tuple(queries.figures(queries.Terms(world.course, as_of), root))


def live_funnel(world: World, root, as_of: date) -> dict:  # type: ignore[no-untyped-def]
    """The funnel counted from the chairs, in the roll-ups' shape, without empty modules."""
    from lms.coverage.dashboard import end_of_day

    db.session.flush()
    ids = [m.id for m in world.modules]
    counts = queries.funnel(queries.Terms(world.course, as_of), root, ids, end_of_day(as_of))
    out = {}
    for module_id in ids:
        state = counts.get((module_id, "state"), (0, 0))
        non_state = counts.get((module_id, "non_state"), (0, 0))
        out[module_id] = (state[0] + non_state[0], state[1] + non_state[1], *non_state)
    return {m: c for m, c in out.items() if any(c)}


def stored_funnel(course_id: int, scope: int) -> dict:
    return {m: c for m, c in rollup.funnel(course_id, scope).items() if any(c)}


def stored(course_id: int) -> tuple[list, list, list]:
    """The tables, without the rows that add nothing (a difference can leave zeros behind)."""
    units = db.session.execute(
        sa.select(UnitStanding).where(UnitStanding.course_id == course_id)
        .order_by(UnitStanding.org_id)).scalars().all()  # fmt: skip
    sums = db.session.execute(
        sa.select(CoverageRollup).where(CoverageRollup.course_id == course_id)
        .order_by(CoverageRollup.scope_id, CoverageRollup.day)).scalars().all()  # fmt: skip
    unit_rows = [(u.org_id, u.path, u.non_state, u.large, u.aware_on, u.trained_on,
                  u.modules_started, u.modules_done) for u in units]  # fmt: skip
    counts = [(r.scope_id, r.day, *(getattr(r, c) for c in rollup.COUNTS)) for r in sums]
    modules = db.session.execute(
        sa.select(ModuleRollup).where(ModuleRollup.course_id == course_id)
        .order_by(ModuleRollup.scope_id, ModuleRollup.module_id)
    ).scalars().all()  # fmt: skip
    module_counts = [(r.scope_id, r.module_id, *(getattr(r, c) for c in rollup.MODULE_COUNTS))
                     for r in modules]  # fmt: skip
    return (unit_rows, [row for row in counts if any(row[2:])],
            [row for row in module_counts if any(row[2:])])  # fmt: skip


def standings(course_id: int) -> list[tuple]:
    """The people's rows of the course, without those that say nothing (a revocation can
    leave one behind, where a rebuild writes none)."""
    db.session.flush()
    db.session.expire_all()
    stmt = sa.select(CourseStanding).where(CourseStanding.course_id == course_id)
    rows = [(r.user_id, r.awareness_on, r.core_all_on, r.first_on, r.core_done, r.core_dates)
            for r in db.session.scalars(stmt)]  # fmt: skip
    return sorted(row for row in rows if row[3] is not None)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=30), day=st.integers(-1, 10))
def test_rollups_equal_a_direct_count_after_any_change(app, ops, day) -> None:
    savepoint = db.session.begin_nested()
    try:
        world = World()
        for op in ops:
            world.apply(op)
        as_of = (START + timedelta(days=day)).date()
        for root in [None, *world.provinces, *world.districts]:
            scope = root.id if root is not None else rollup.FEDERATION
            assert rollup.figures(world.course.id, scope, as_of) == live(world, root, as_of)
            # The funnel's roll-ups hold today, after every day the operations wrote.
            assert stored_funnel(world.course.id, scope) == live_funnel(world, root, vn_today())
        kept = stored(world.course.id)
        rollup.rebuild_course(world.course.id)
        assert stored(world.course.id) == kept
        people = standings(world.course.id)
        standing.rebuild_course(world.course.id)
        assert standings(world.course.id) == people
    finally:
        savepoint.rollback()


def test_rebuilding_several_courses_at_once_keeps_each_course_to_its_own_modules(app) -> None:
    """The rebuild takes every course's chairs' modules from one pass: a chair's lessons and
    completions of one course must not reach another's lists, figures or funnel."""
    world = World()
    other = make_course("cuon-khac", year=2033)
    other_modules = [make_module(other, f"k{n}", kind=k, position=n)
                     for n, k in enumerate(("awareness", "core"))]  # fmt: skip
    other_lessons = [make_lesson(m, "bai") for m in other_modules]
    for who, module in ((0, 0), (1, 1), (1, 2), (2, 1)):
        world.do_open(who, module, 0)
    for who, module in ((1, 1), (3, 0)):
        world.do_complete(who, module, 2)
    chair = world.people[1]
    db.session.add(LessonProgress(user_id=chair.id, lesson_id=other_lessons[1].id,
                                  module_id=other_modules[1].id, first_seen_dt=START,
                                  last_seen_dt=START))  # fmt: skip
    progress.record_completion(world.people[2], other_modules[0], CompletionSource.EXTERNAL,
                               when=START)  # fmt: skip
    rollup.settle()
    kept = stored(world.course.id), stored(other.id)  # from the recounts as they happened
    assert kept[1][2], "the other course has funnel rows"
    rollup.rebuild_courses([world.course.id, other.id])
    assert (stored(world.course.id), stored(other.id)) == kept
    rollup.rebuild_course(other.id)
    assert stored(other.id) == kept[1]


@pytest.mark.postgres_only
def test_the_rebuild_writes_the_rollup_rows_by_copy_on_postgresql(app, count_statements) -> None:
    """COPY instead of executemany (13 s of client CPU less at XL), and the same rows."""
    world = World()
    for who, module in ((0, 0), (1, 1), (2, 2)):
        world.do_open(who, module, 0)
        world.do_complete(who, module, 1)
    rollup.settle()
    kept = stored(world.course.id)
    with count_statements() as counter:
        rollup.rebuild_course(world.course.id)
    assert not any(s.startswith(("INSERT INTO coverage_rollup", "INSERT INTO module_rollup"))
                   for s in counter.statements), counter.statements  # fmt: skip
    assert stored(world.course.id) == kept
    assert kept[1] and kept[2]


def test_a_course_with_a_small_share_of_the_completions_rebuilds_to_the_same_rows(app) -> None:
    """A rebuild reads a course's completions by a scan of the table or by the module index,
    whichever costs less for the course's share (rollup.completions_of): both give the rows
    kept as things happened."""
    world = World()
    for who, module in ((0, 0), (1, 1), (2, 2), (3, 1)):
        world.do_open(who, module, 0)
        world.do_complete(who, module, 1)
    big = make_course("cuon-lon", year=2034)
    big_modules = [make_module(big, f"l{n}", position=n) for n in range(3)]
    for n in range(40):  # 120 completions of another course: 4 of 124 are this course's
        learner = make_user(f"hv.lon.{n}", password=None)
        for module in big_modules:
            progress.record_completion(learner, module, CompletionSource.EXTERNAL, when=START)
    rollup.settle()
    share = {course.id: rollup.completions_of(course.id) for course in (world.course, big)}
    if db.engine.dialect.name == "sqlite":  # a fresh table: ids count the rows
        assert share[world.course.id] is Completion.module_id  # through the index
        assert share[big.id] is not Completion.module_id
    kept = stored(world.course.id), stored(big.id)
    standing.rebuild_all()
    db.session.expire_all()
    assert (stored(world.course.id), stored(big.id)) == kept
    assert kept[0][1] and kept[1][1]


def test_a_module_nobody_began_starts_counting_without_a_rebuild(app, count_statements) -> None:
    """Publishing a new module clears, in place, the days of those who had done every module
    of its kind (a course's rebuild at XL held the write lock for 9 s); one that someone
    began (taken back to draft and published again) rebuilds the course. Either way the rows
    are those a rebuild writes."""
    world = World()
    for who in range(4):
        for module in range(3):
            world.do_complete(who, module, who)
    rollup.settle()
    trained = rollup.figures(world.course.id, rollup.FEDERATION, vn_today())
    assert trained[1] == 4 and trained[3] == 2  # all aware, both non-state chairs trained
    added = make_module(world.course, "r-moi", kind="core", position=9, status="draft")
    lesson = make_lesson(added, "bai-moi")
    db.session.flush()
    rewrites = ("DELETE FROM course_standing", "INSERT INTO course_standing",
                "INSERT INTO unit_standing", "DELETE FROM unit_standing")  # fmt: skip
    with count_statements() as counter:
        added.status = "published"
        rollup.settle()
    assert not any(s.startswith(rewrites) for s in counter.statements), counter.statements
    figures = rollup.figures(world.course.id, rollup.FEDERATION, vn_today())
    assert (figures[1], figures[3]) == (4, 0)  # still aware; nobody trained in the new one yet
    kept, people = stored(world.course.id), standings(world.course.id)
    standing.rebuild_course(world.course.id)
    rollup.settle()
    assert (stored(world.course.id), standings(world.course.id)) == (kept, people)

    added.status = "draft"
    db.session.flush()
    world.lessons.append(lesson)
    world.do_open(1, len(world.lessons) - 1, 5)  # opened while a draft (a trainer's preview)
    with count_statements() as counter:
        added.status = "published"
        rollup.settle()
    assert any(s.startswith("INSERT INTO course_standing") for s in counter.statements)
    kept, people = stored(world.course.id), standings(world.course.id)
    assert any(row[6] for row in kept[0])  # the opened module is in a union's started list
    standing.rebuild_course(world.course.id)
    rollup.settle()
    assert (stored(world.course.id), standings(world.course.id)) == (kept, people)


def test_the_coverage_figures_above_the_unions_come_from_the_rollups(app) -> None:
    """Proof that the report reads the roll-ups: a row changed by hand shows in the figures."""
    world = World()
    ctx = services.resolve(world.admin, services.Params(org="RPX", course="cuon-chieu"))
    before = services.targets(ctx)["awareness"].eligible
    db.session.execute(
        sa.update(CoverageRollup)
        .where(CoverageRollup.scope_id == world.provinces[0].id,
               CoverageRollup.day == rollup.EVER)  # fmt: skip
        .values(units=CoverageRollup.units + 100)
    )
    assert services.targets(ctx)["awareness"].eligible == before + 100
    # A single union is still counted directly.
    unit = services.resolve(world.admin, services.Params(org="RU0", course="cuon-chieu"))
    assert services.targets(unit)["awareness"].eligible == 1


def test_the_dashboard_funnel_above_the_unions_comes_from_the_module_rollups(app) -> None:
    """Proof that the funnel reads the roll-ups: a row changed by hand shows in it."""
    from lms.coverage import dashboard

    world = World()
    world.do_open(1, 1, 0)
    ctx = services.resolve(world.admin, services.Params(org="RPX", course="cuon-chieu"))
    modules = dashboard.counted_modules(ctx)

    def started() -> list[int]:
        return [row.started for row in dashboard.funnel(ctx, services.targets(ctx), modules)]

    assert started() == [0, 1, 0]
    db.session.execute(
        sa.update(ModuleRollup)
        .where(ModuleRollup.scope_id == world.provinces[0].id,
               ModuleRollup.module_id == world.modules[1].id)  # fmt: skip
        .values(started_non_state=ModuleRollup.started_non_state + 100)
    )
    assert started() == [0, 101, 0]
    # A single union is still counted directly.
    unit = services.resolve(world.admin, services.Params(org="RU1", course="cuon-chieu"))
    assert [row.started for row in dashboard.funnel(unit, services.targets(unit), modules)] == [
        0, 1, 0,
    ]  # fmt: skip


def test_a_commit_settles_what_the_transaction_changed(app) -> None:
    world = World()
    db.session.commit()
    progress.record_completion(world.people[1], world.modules[0], CompletionSource.EXTERNAL,
                               when=START)  # fmt: skip
    assert db.session.info["rollup"]["chairs"]  # marked, not yet counted
    db.session.commit()
    assert not db.session.info.get("rollup", {}).get("chairs")
    aware = db.session.scalar(
        sa.select(CoverageRollup.aware).where(
            CoverageRollup.scope_id == rollup.FEDERATION, CoverageRollup.day == START.date()
        )
    )
    assert aware == 1


def test_a_national_batch_rebuilds_instead_of_recounting_each_union(app, monkeypatch) -> None:
    world = World()
    db.session.commit()
    monkeypatch.setattr(rollup, "REBUILD_ABOVE", 2)
    rebuilt: list[int] = []
    real = rollup.rebuild_courses
    monkeypatch.setattr(rollup, "rebuild_courses", lambda c, s: rebuilt.extend(c) or real(c, s))
    for n in range(3):
        world.new_unit(n % 3, "non_state", chair=True)
    as_of = START.date()
    assert rollup.figures(world.course.id, 0, as_of) == live(world, None, as_of)
    assert world.course.id in rebuilt


def test_a_roster_import_keeps_the_rollups_without_counting_everything_again(app, monkeypatch):  # type: ignore[no-untyped-def]
    """The importer writes past the ORM (bulk inserts, updates by id, positions closed by a WHERE
    clause): the unions it touches are found from those statements, and only they are counted."""
    from lms.orgs.roster import parse_roster
    from lms.orgs.roster_import import apply_roster, plan_roster
    from tests.orgs.roster_helpers import csv_file, example_bytes, make_federation

    make_federation()
    course = make_course("khoa-danh-sach", year=2033)
    aware = make_module(course, "nhan-thuc", kind="awareness")

    def load(data: bytes) -> None:
        plan = plan_roster(parse_roster(data), None)
        assert plan.errors == []
        apply_roster(plan, None)

    load(example_bytes())
    db.session.commit()
    chairs = db.session.scalars(sa.select(Officer).where(Officer.position == Position.CHAIR)).all()
    for chair in chairs[:3]:
        progress.record_completion(chair.user, aware, CompletionSource.EXTERNAL, when=START)
    db.session.commit()
    monkeypatch.setattr(rollup, "mark_everything", lambda session: pytest.fail("everything"))
    load(csv_file(
        "DMC-DTTA;;;;;Trần Văn Ước;Chủ tịch;0912345679;",  # a new chair: the old one closed
        "DMC-THCS;CĐCS Trường THCS Suối Đá 2;GD;;50;;;;",  # moved, resized, now vacant
    ))  # fmt: skip
    for as_of in (START.date(), START.date() + timedelta(days=1)):
        assert rollup.figures(course.id, 0, as_of) == live_of(course, None, as_of)
    db.session.commit()
    kept = stored(course.id)
    rollup.rebuild_course(course.id)
    assert stored(course.id) == kept


def live_of(course, root, as_of: date) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    db.session.flush()
    return tuple(queries.figures(queries.Terms(course, as_of), root))
