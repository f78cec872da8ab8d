"""The aggregates progress keeps beside the completions: same transaction, Vietnam days,
revocations, modules that start or stop counting, and the rebuild command."""

from datetime import date

import sqlalchemy as sa

from lms.accounts.models import Role
from lms.db import db
from lms.progress import services as progress
from lms.progress import standing
from lms.progress.models import CompletionSource, CourseStanding
from tests.coverage.conftest import utc
from tests.factories import make_course, make_module, make_user


def row(user, course) -> CourseStanding | None:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CourseStanding).where(
            CourseStanding.user_id == user.id, CourseStanding.course_id == course.id
        )
    ).first()


def snapshot() -> list[tuple]:
    db.session.expire_all()
    return sorted(
        (r.user_id, r.course_id, r.awareness_on, r.core_all_on, r.first_on, r.core_done,
         r.core_dates)
        for r in db.session.scalars(sa.select(CourseStanding))
    )  # fmt: skip


def test_each_completion_updates_the_standing_in_vietnam_days(app) -> None:
    course = make_course()
    aware = make_module(course, "nhan-thuc", kind="awareness")
    core = [make_module(course, f"cd-{n}", kind="core", position=n + 1) for n in (1, 2)]
    user = make_user()
    progress.record_completion(
        user, aware, CompletionSource.ONLINE, when=utc("2021-11-02T16:30:00")
    )
    found = row(user, course)
    assert (found.awareness_on, found.first_on) == (date(2021, 11, 2), date(2021, 11, 2))
    progress.record_completion(
        user, core[1], CompletionSource.LIVE, when=utc("2021-11-04T17:00:00")
    )
    found = row(user, course)
    assert (found.core_done, found.core_dates, found.core_all_on) == (1, "2021-11-05", None)
    progress.record_completion(
        user, core[0], CompletionSource.EXTERNAL, when=utc("2021-10-01T00:00:00")
    )
    found = row(user, course)
    assert found.core_dates == "2021-10-01,2021-11-05"
    assert (found.core_all_on, found.first_on) == (date(2021, 11, 5), date(2021, 10, 1))
    assert found.core_done_by(date(2021, 11, 4)) == 1


def test_a_revocation_takes_the_completion_out(app) -> None:
    course = make_course()
    aware = make_module(course, "nhan-thuc", kind="awareness")
    user, admin = make_user(), make_user(role=Role.ADMIN)
    first = progress.record_completion(
        user, aware, CompletionSource.EXTERNAL, when=utc("2021-10-01T00:00:00")
    )
    progress.revoke_completion(first, admin, "Ghi nhầm lớp")
    assert row(user, course).awareness_on is None
    progress.record_completion(
        user, aware, CompletionSource.ONLINE, when=utc("2021-10-09T00:00:00")
    )
    assert row(user, course).awareness_on == date(2021, 10, 9)


def test_a_failed_transaction_leaves_no_standing(app) -> None:
    """COMP-04: the aggregate is written in the completion's transaction, and undone with it."""
    course = make_course()
    aware = make_module(course, "nhan-thuc", kind="awareness")
    user = make_user()
    savepoint = db.session.begin_nested()
    progress.record_completion(user, aware, CompletionSource.ONLINE)
    assert row(user, course) is not None
    savepoint.rollback()
    assert row(user, course) is None


def test_publishing_or_retiring_a_module_recounts_the_course(app) -> None:
    course = make_course()
    core = make_module(course, "cd-1", kind="core")
    user = make_user()
    progress.record_completion(user, core, CompletionSource.ONLINE, when=utc("2021-10-01T00:00:00"))
    assert row(user, course).core_all_on == date(2021, 10, 1)
    later = make_module(course, "cd-2", kind="core", position=2)  # a new published core module
    db.session.flush()
    assert row(user, course).core_all_on is None
    later.status = "retired"
    db.session.flush()
    assert row(user, course).core_all_on == date(2021, 10, 1)
    core.kind = "awareness"
    db.session.flush()
    found = row(user, course)
    assert (found.awareness_on, found.core_all_on, found.core_done) == (date(2021, 10, 1), None, 0)


def test_a_draft_module_rewrites_no_standing_until_it_is_published(app) -> None:
    """Creating, editing or retiring a module nobody could count leaves the rows alone (a row
    spoiled on purpose stays spoiled); publishing it counts it, and moving a published module
    to another course recounts both courses."""
    course, other = make_course(), make_course(slug="khoa-khac")
    core = make_module(course, "cd-1", kind="core")
    user = make_user()
    progress.record_completion(user, core, CompletionSource.ONLINE, when=utc("2021-10-01T00:00:00"))
    db.session.execute(sa.update(CourseStanding).values(core_done=99))
    draft = make_module(course, "cd-2", kind="core", position=2, status="draft")
    draft.kind = "awareness"
    db.session.flush()
    draft.status = "retired"
    db.session.flush()
    assert row(user, course).core_done == 99
    standing.rebuild_course(course.id)
    draft.status = "published"  # an awareness module now counts: nobody has done it
    db.session.flush()
    found = row(user, course)
    assert (found.core_done, found.core_all_on, found.awareness_on) == (1, date(2021, 10, 1), None)
    core.course_id = other.id
    db.session.flush()
    assert row(user, course) is None  # its only completion went with the module
    assert row(user, other).core_all_on == date(2021, 10, 1)


def test_rebuild_reproduces_the_kept_rows(scenario, runner) -> None:
    kept = snapshot()
    assert len(kept) == 6  # five chairs with completions and a vice-chair
    db.session.execute(sa.update(CourseStanding).values(core_done=99, awareness_on=None))
    assert snapshot() != kept
    assert standing.rebuild_all() == 6
    assert snapshot() == kept



def test_the_rebuild_counts_in_vietnam_days_at_the_edge_of_midnight(app) -> None:
    """The rebuild is done by the database: a microsecond before 17:00 UTC is still that day in
    Vietnam, 17:00 is the next, and the core days stay in order."""
    course = make_course()
    aware = make_module(course, "nhan-thuc", kind="awareness")
    core = [make_module(course, f"cd-{n}", kind="core", position=n + 1) for n in (1, 2)]
    user = make_user()
    when = {aware: "2021-11-02T16:59:59.999999", core[0]: "2021-11-03T17:00:00",
            core[1]: "2021-10-20T08:00:00"}  # fmt: skip
    for module, moment in when.items():
        progress.record_completion(user, module, CompletionSource.ONLINE, when=utc(moment))
    kept = snapshot()
    assert kept == [(user.id, course.id, date(2021, 11, 2), date(2021, 11, 4), date(2021, 10, 20),
                     2, "2021-10-20,2021-11-04")]  # fmt: skip
    db.session.execute(sa.delete(CourseStanding))
    assert standing.rebuild_course(course.id) == 1
    assert snapshot() == kept

def test_rebuild_aggregates_command(scenario, runner) -> None:
    kept = snapshot()
    db.session.execute(sa.delete(CourseStanding))
    db.session.commit()
    result = runner.invoke(args=["rebuild-aggregates"])
    assert result.exit_code == 0, result.output
    assert "6" in result.output
    assert snapshot() == kept


def test_the_migration_fills_the_rows_of_existing_completions(tmp_path) -> None:
    """Upgrading a database of the previous release counts the completions it already holds."""
    from pathlib import Path

    from flask_migrate import upgrade

    from lms import create_app
    from tests.conftest import base_config, fresh_database

    migrations = str(Path(__file__).resolve().parents[2] / "migrations")
    statements = [
        "INSERT INTO course (slug, title, year, summary, language, split_members, lower_level, "
        "upper_level, published, content_hash, created_dt, updated_dt) VALUES ('k', 'K', 2021, "
        "'', 'vi', 1000, 'a', 'b', true, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO module (course_id, slug, position, title, kind, summary, pass_mark, "
        "requires_live, status, content_hash) VALUES (1, 'm', 1, 'M', 'awareness', '', 80, "
        "false, 'published', '')",
        "INSERT INTO user_account (username, full_name, role, active, must_change_password, "
        "created_dt) VALUES ('u', 'U', 'learner', true, false, CURRENT_TIMESTAMP)",
        "INSERT INTO completion (user_id, module_id, source, completed_dt) "
        "VALUES (1, 1, 'external', '2021-11-02 16:30:00+00:00')",
    ]
    with fresh_database(tmp_path, "lms_fill") as url:
        app = create_app(base_config(url))
        with app.app_context():
            upgrade(directory=migrations, revision="e7db82d6964d")
            with db.engine.begin() as conn:
                for statement in statements:
                    conn.execute(sa.text(statement))
            upgrade(directory=migrations)
            with db.engine.connect() as conn:
                found = conn.execute(
                    sa.text("SELECT user_id, course_id, awareness_on FROM course_standing")
                ).one()
            db.engine.dispose()
    assert tuple(found[:2]) == (1, 1)
    assert str(found[2]) == "2021-11-02"  # 23:30 in Vietnam
