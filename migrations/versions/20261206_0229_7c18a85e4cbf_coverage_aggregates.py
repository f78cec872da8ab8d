"""Coverage aggregates: one standing row per person and course, filled from the completions.

Revision ID: 7c18a85e4cbf
Revises: da0d0b8d8794
Create Date: 2026-12-06 02:29:29.539958
"""
from datetime import UTC
from itertools import groupby
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c18a85e4cbf'
down_revision = 'da0d0b8d8794'
branch_labels = None
depends_on = None


def upgrade():
    standing = op.create_table('course_standing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('awareness_on', sa.Date(), nullable=True),
    sa.Column('core_all_on', sa.Date(), nullable=True),
    sa.Column('first_on', sa.Date(), nullable=True),
    sa.Column('core_done', sa.Integer(), nullable=False),
    sa.Column('core_dates', sa.String(length=1000), nullable=False),
    sa.Column('updated_dt', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_standing_course_id_course')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_course_standing_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_standing')),
    sa.UniqueConstraint('user_id', 'course_id', name='uq_course_standing_user_course')
    )
    with op.batch_alter_table('course_standing', schema=None) as batch_op:
        batch_op.create_index('ix_course_standing_course', ['course_id'], unique=False)
    _fill(standing)


def _fill(standing):
    """Rows for the completions already recorded (the same rules as lms.progress.standing)."""
    from datetime import datetime

    vn = ZoneInfo('Asia/Ho_Chi_Minh')
    module = sa.table('module', sa.column('id'), sa.column('course_id'), sa.column('kind'),
                      sa.column('status'))
    completion = sa.table('completion', sa.column('user_id'), sa.column('module_id'),
                          sa.column('completed_dt', sa.DateTime(timezone=True)),
                          sa.column('revoked_dt'))
    bind = op.get_bind()
    kinds = {}
    for module_id, course_id, kind in bind.execute(
            sa.select(module.c.id, module.c.course_id, module.c.kind)
            .where(module.c.status == 'published')):
        kinds.setdefault(course_id, {})[module_id] = kind
    rows = bind.execute(
        sa.select(module.c.course_id, completion.c.user_id, completion.c.module_id,
                  completion.c.completed_dt)
        .join(module, module.c.id == completion.c.module_id)
        .where(module.c.status == 'published', completion.c.revoked_dt.is_(None))
        .order_by(module.c.course_id, completion.c.user_id)).all()
    now = datetime.now(UTC)
    values = []
    for (course_id, user_id), group in groupby(rows, key=lambda r: (r[0], r[1])):
        days = {m: (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(vn).date()
                for _, _, m, t in group}
        course = kinds[course_id]
        aware = [m for m, k in course.items() if k == 'awareness']
        core = [m for m, k in course.items() if k == 'core']
        aware_days = [days[m] for m in aware if m in days]
        core_days = sorted(days[m] for m in core if m in days)
        values.append({
            'user_id': user_id, 'course_id': course_id, 'updated_dt': now,
            'awareness_on': max(aware_days) if aware and len(aware_days) == len(aware) else None,
            'core_all_on': core_days[-1] if core and len(core_days) == len(core) else None,
            'first_on': min(days.values()), 'core_done': len(core_days),
            'core_dates': ','.join(d.isoformat() for d in core_days)})
    if values:
        op.bulk_insert(standing, values)


def downgrade():
    with op.batch_alter_table('course_standing', schema=None) as batch_op:
        batch_op.drop_index('ix_course_standing_course')

    op.drop_table('course_standing')
