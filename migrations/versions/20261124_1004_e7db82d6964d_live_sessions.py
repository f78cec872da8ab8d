"""Live sessions: sessions, their audiences and attendance.

Revision ID: e7db82d6964d
Revises: e82775adbf11
Create Date: 2026-11-24 10:04:07.676443
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7db82d6964d'
down_revision = 'e82775adbf11'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('live_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('start_dt', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('covers_module', sa.Boolean(), nullable=False),
    sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_dt', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_live_session_module_id_module')),
    sa.ForeignKeyConstraint(['trainer_id'], ['user_account.id'], name=op.f('fk_live_session_trainer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_session')),
    sa.UniqueConstraint('public_id', name=op.f('uq_live_session_public_id'))
    )
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.create_index('ix_live_session_module_start', ['module_id', 'start_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_session_start_dt'), ['start_dt'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('first_join_dt', sa.DateTime(timezone=True), nullable=True),
    sa.Column('join_count', sa.Integer(), nullable=False),
    sa.Column('confirmed_dt', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_via', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user_account.id'], name=op.f('fk_attendance_confirmed_by_id_user_account')),
    sa.ForeignKeyConstraint(['session_id'], ['live_session.id'], name=op.f('fk_attendance_session_id_live_session')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_attendance_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('session_id', 'user_id', name='uq_attendance_session_user')
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_user_id'), ['user_id'], unique=False)

    op.create_table('live_audience',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_live_audience_org_id_organization')),
    sa.ForeignKeyConstraint(['session_id'], ['live_session.id'], name=op.f('fk_live_audience_session_id_live_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_audience')),
    sa.UniqueConstraint('session_id', 'org_id', name='uq_live_audience_session_org')
    )
    with op.batch_alter_table('live_audience', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_audience_session_id'), ['session_id'], unique=False)



def downgrade():
    with op.batch_alter_table('live_audience', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_audience_session_id'))

    op.drop_table('live_audience')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_user_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_session_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_session_start_dt'))
        batch_op.drop_index('ix_live_session_module_start')

    op.drop_table('live_session')
