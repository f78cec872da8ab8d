"""What decides whether to call each union's chair, kept on the union's row of every course
(unit_standing), so that the dashboard's chairs to contact read one row per union instead of
looking up each chair's officer row, account, standing and activity: filled from what is there
(the app keeps them in step from here on).

Revision ID: 3b7e1f0c9a52
Revises: c6010f7ec55a
Create Date: 2026-12-08 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b7e1f0c9a52'
down_revision = 'c6010f7ec55a'
branch_labels = None
depends_on = None

# The day of the chair's latest core module: core_dates is sorted, its last ten characters
# are that day. SQLite keeps dates as that same text.
CORE_DAY = {
    'postgresql': "CAST(NULLIF(substr(cs.core_dates, length(cs.core_dates) - 9), '') AS DATE)",
    'sqlite': "NULLIF(substr(cs.core_dates, length(cs.core_dates) - 9), '')",
}


def upgrade():
    with op.batch_alter_table('unit_standing') as batch:
        batch.add_column(sa.Column('chair_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('chair_activated', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.add_column(sa.Column('chair_failed', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.add_column(sa.Column('chair_seen_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('chair_core_on', sa.Date(), nullable=True))
        batch.create_index(batch.f('ix_unit_standing_chair_id'), ['chair_id'], unique=False)
    bind = op.get_bind()
    bind.execute(sa.text("""
        UPDATE unit_standing SET chair_id = (
            SELECT ch.user_id FROM officer ch
            WHERE ch.org_id = unit_standing.org_id AND ch.position = 'chair'
              AND ch.ended_on IS NULL)
    """))
    bind.execute(sa.text(f"""
        UPDATE unit_standing SET
          chair_activated = COALESCE((
            SELECT u.password_hash IS NOT NULL FROM user_account u
            WHERE u.id = unit_standing.chair_id), FALSE),
          chair_failed = COALESCE((
            SELECT la.failed_quizzes > 0 FROM learner_activity la
            WHERE la.user_id = unit_standing.chair_id
              AND la.course_id = unit_standing.course_id), FALSE),
          chair_seen_on = (
            SELECT la.last_seen_on FROM learner_activity la
            WHERE la.user_id = unit_standing.chair_id
              AND la.course_id = unit_standing.course_id),
          chair_core_on = (
            SELECT {CORE_DAY[bind.dialect.name]} FROM course_standing cs
            WHERE cs.user_id = unit_standing.chair_id AND cs.course_id = unit_standing.course_id)
        WHERE chair_id IS NOT NULL
    """))


def downgrade():
    with op.batch_alter_table('unit_standing') as batch:
        batch.drop_index(batch.f('ix_unit_standing_chair_id'))
        batch.drop_column('chair_core_on')
        batch.drop_column('chair_seen_on')
        batch.drop_column('chair_failed')
        batch.drop_column('chair_activated')
        batch.drop_column('chair_id')
