"""What each learner last did in a course, for the dashboard's chairs to contact: the Vietnam day
of their latest lesson visit and how many of the course's quizzes they failed twice without ever
passing. One LearnerActivity row per person and course, written by the visit or the submit that
changes it and rebuilt by `lms rebuild-aggregates`. The same two facts about each union's chair
are copied onto the union's row (UnitStanding.chair_seen_on, chair_failed), which the list
reads: written here with them, and by the roll-ups whenever they count a union again.

Without it the list searched every unmet chair's visits and attempts on each request: at XL, for
the worst district's 2.615 unions, most of the dashboard's time.
"""

import sqlalchemy as sa
from sqlalchemy import orm

from lms.catalog.models import Module
from lms.db import db, upsert, vn_today
from lms.progress.models import LearnerActivity, LessonProgress, UnitStanding
from lms.progress.standing import vn_day_of
from lms.quizzes.models import Attempt, Quiz

KEY = ["user_id", "course_id"]


def seen_today(user_id: int, module_id: int) -> None:
    """A lesson of the module was opened today: its course's day, in one statement that
    changes nothing when the row already holds today."""
    today = vn_today()
    stored = LearnerActivity.last_seen_on
    row = sa.select(
        sa.literal(user_id), Module.course_id, sa.literal(today, sa.Date), sa.literal(0)
    ).where(Module.id == module_id)
    db.session.execute(
        upsert(LearnerActivity)
        .from_select([*KEY, "last_seen_on", "failed_quizzes"], row)
        .on_conflict_do_update(
            index_elements=KEY,
            set_={"last_seen_on": today},
            where=sa.or_(stored.is_(None), stored < today),
        )
    )
    unit = UnitStanding.__table__.c
    course = sa.select(Module.course_id).where(Module.id == module_id).scalar_subquery()
    db.session.execute(  # the unions this person chairs, if any (an index probe otherwise)
        UnitStanding.__table__.update()
        .where(
            unit.chair_id == user_id,
            unit.course_id == course,
            sa.or_(unit.chair_seen_on.is_(None), unit.chair_seen_on < today),
        )
        .values(chair_seen_on=today)
    )


def _failed_quizzes() -> sa.Select:
    """(person, quiz) for every quiz submitted at least twice and never passed."""
    return (
        sa.select(Attempt.user_id, Attempt.quiz_id)
        .where(Attempt.submitted_dt.is_not(None))
        .group_by(Attempt.user_id, Attempt.quiz_id)
        .having(
            sa.func.count() >= 2,
            sa.func.sum(sa.case((Attempt.passed.is_(True), 1), else_=0)) == 0,
        )
    )


def quiz_graded(user_id: int, course_id: int, attempt_no: int) -> None:
    """Count the person's failed quizzes in the course again after a submit that may change
    the count: a second or later attempt (a first one can neither fail twice nor end that)."""
    if attempt_no < 2:
        return
    failed = _failed_quizzes().where(Attempt.user_id == user_id).subquery()
    count = (
        sa.select(sa.func.count())
        .select_from(failed)
        .join(Quiz, Quiz.id == failed.c.quiz_id)
        .join(Module, Module.id == Quiz.module_id)
        .where(Module.course_id == course_id)
        .scalar_subquery()
    )
    db.session.execute(
        upsert(LearnerActivity)
        .values(user_id=user_id, course_id=course_id, failed_quizzes=count)
        .on_conflict_do_update(index_elements=KEY, set_={"failed_quizzes": count})
    )
    unit = UnitStanding.__table__.c
    kept = sa.select(LearnerActivity.failed_quizzes > 0).where(
        LearnerActivity.user_id == user_id, LearnerActivity.course_id == course_id
    )  # the row just written, by its key, rather than counting the attempts again
    db.session.execute(
        UnitStanding.__table__.update()
        .where(unit.chair_id == user_id, unit.course_id == course_id)
        .values(chair_failed=kept.scalar_subquery())
    )


def rebuild(session: orm.Session | None = None) -> int:
    """Rewrite every row from the lesson visits and the attempts; returns the rows written.
    The unions' copies are not touched: rebuild the roll-ups after it (`lms
    rebuild-aggregates` does both, in that order)."""
    session = session or db.session()
    dialect = session.get_bind().dialect.name
    session.execute(sa.delete(LearnerActivity), execution_options={"synchronize_session": False})
    # The day of the latest visit, not the latest of the visits' days: one conversion a group.
    seen = (
        sa.select(
            LessonProgress.user_id,
            Module.course_id,
            vn_day_of(sa.func.max(LessonProgress.last_seen_dt), dialect),
            sa.literal(0),
        )
        .join(Module, Module.id == LessonProgress.module_id)
        .group_by(LessonProgress.user_id, Module.course_id)
    )
    columns = [*KEY, "last_seen_on", "failed_quizzes"]
    session.execute(sa.insert(LearnerActivity).from_select(columns, seen))
    failed = _failed_quizzes().subquery()
    counts = session.execute(
        sa.select(failed.c.user_id, Module.course_id, sa.func.count())
        .join(Quiz, Quiz.id == failed.c.quiz_id)
        .join(Module, Module.id == Quiz.module_id)
        .group_by(failed.c.user_id, Module.course_id)
    ).all()
    if counts:  # few people fail a quiz twice: a statement each way is enough
        rows = [{"user_id": u, "course_id": c, "failed_quizzes": n} for u, c, n in counts]
        stmt = upsert(LearnerActivity, session)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=KEY, set_={"failed_quizzes": stmt.excluded.failed_quizzes}
            ),
            rows,
        )
    return session.scalar(sa.select(sa.func.count()).select_from(LearnerActivity)) or 0
