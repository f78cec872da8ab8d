"""Completions by person: an index on completion (user_id, module_id), revoked ones included.

Revision ID: 5c1e9b7f2a40
Revises: d20b0468db15
Create Date: 2026-12-06 03:10:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c1e9b7f2a40'
down_revision = 'd20b0468db15'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('completion', schema=None) as batch_op:
        batch_op.create_index('ix_completion_user_module', ['user_id', 'module_id'], unique=False)


def downgrade():
    with op.batch_alter_table('completion', schema=None) as batch_op:
        batch_op.drop_index('ix_completion_user_module')
