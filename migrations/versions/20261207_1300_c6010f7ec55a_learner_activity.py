"""Each learner's activity per course for the dashboard's chairs to contact: the Vietnam day of
their latest lesson visit and the quizzes they failed twice without passing, filled from what is
there (the app keeps them in step from here on).

Revision ID: c6010f7ec55a
Revises: 64a2d8da8b8d
Create Date: 2026-12-07 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6010f7ec55a'
down_revision = '64a2d8da8b8d'
branch_labels = None
depends_on = None

# The Vietnam day of the latest visit (UTC+7 all year). SQLite keeps UTC as text; the fraction
# is cut off so that 16:59:59.9999 does not round into the next day.
SEEN_DAY = {
    'postgresql': "CAST(timezone('Asia/Ho_Chi_Minh', MAX(lp.last_seen_dt)) AS DATE)",
    'sqlite': "date(substr(MAX(lp.last_seen_dt), 1, 19), '+7 hours')",
}


def upgrade():
    op.create_table('learner_activity',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('last_seen_on', sa.Date(), nullable=True),
    sa.Column('failed_quizzes', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_learner_activity_course_id_course')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_learner_activity_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', 'course_id', name=op.f('pk_learner_activity'))
    )
    bind = op.get_bind()
    bind.execute(sa.text(f"""
        INSERT INTO learner_activity (user_id, course_id, last_seen_on, failed_quizzes)
        SELECT lp.user_id, m.course_id, {SEEN_DAY[bind.dialect.name]}, 0
        FROM lesson_progress lp JOIN module m ON m.id = lp.module_id
        GROUP BY lp.user_id, m.course_id
    """))
    failed = bind.execute(sa.text("""
        SELECT f.user_id, m.course_id, COUNT(*) FROM (
            SELECT user_id, quiz_id FROM attempt WHERE submitted_dt IS NOT NULL
            GROUP BY user_id, quiz_id
            HAVING COUNT(*) >= 2 AND SUM(CASE WHEN passed THEN 1 ELSE 0 END) = 0
        ) f JOIN quiz q ON q.id = f.quiz_id JOIN module m ON m.id = q.module_id
        GROUP BY f.user_id, m.course_id
    """)).all()
    for user_id, course_id, count in failed:
        values = {'u': user_id, 'c': course_id, 'n': count}
        changed = bind.execute(sa.text(
            "UPDATE learner_activity SET failed_quizzes = :n"
            " WHERE user_id = :u AND course_id = :c"), values).rowcount
        if not changed:
            bind.execute(sa.text(
                "INSERT INTO learner_activity (user_id, course_id, failed_quizzes)"
                " VALUES (:u, :c, :n)"), values)


def downgrade():
    op.drop_table('learner_activity')
