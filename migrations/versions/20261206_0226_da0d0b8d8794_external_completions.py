"""External completions: the day a completion was entered, its class and evidence file.

Revision ID: da0d0b8d8794
Revises: ca60c064eba7
Create Date: 2026-12-06 02:26:14.882540
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'da0d0b8d8794'
down_revision = 'ca60c064eba7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('completion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_dt', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('class_name', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('evidence_file', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('evidence_type', sa.String(length=32), nullable=True))
    # Completions written so far were entered when they happened.
    op.execute('UPDATE completion SET recorded_dt = completed_dt')
    with op.batch_alter_table('completion', schema=None) as batch_op:
        batch_op.alter_column('recorded_dt', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_completion_recorded', ['recorded_dt', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('completion', schema=None) as batch_op:
        batch_op.drop_index('ix_completion_recorded')
        batch_op.drop_column('evidence_type')
        batch_op.drop_column('evidence_file')
        batch_op.drop_column('class_name')
        batch_op.drop_column('recorded_dt')
