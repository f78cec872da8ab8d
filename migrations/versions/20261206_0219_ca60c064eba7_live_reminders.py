"""Live sessions: the day-before reminders already e-mailed.

Revision ID: ca60c064eba7
Revises: e7db82d6964d
Create Date: 2026-12-06 02:19:11.334154

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ca60c064eba7'
down_revision = 'e7db82d6964d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('live_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_dt', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['live_session.id'], name=op.f('fk_live_reminder_session_id_live_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_live_reminder_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_reminder')),
    sa.UniqueConstraint('session_id', 'user_id', name='uq_live_reminder_session_user')
    )
    with op.batch_alter_table('live_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_reminder_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('live_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_reminder_user_id'))

    op.drop_table('live_reminder')
