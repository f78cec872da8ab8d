"""Coverage roll-ups: what each union adds to its course's figures, and the sums per scope and
day, filled from today's roster and the standing rows (the app keeps them in step from here on).

Revision ID: 9d2117e9d3eb
Revises: 5c1e9b7f2a40
Create Date: 2026-12-06 05:08:56.755722

"""
from collections import Counter, defaultdict
from datetime import date

from alembic import op
import sqlalchemy as sa

EVER = date(1, 1, 1)
COUNTS = ('units', 'units_non_state', 'units_non_state_large', 'aware', 'trained_small',
          'trained_large')


# revision identifiers, used by Alembic.
revision = '9d2117e9d3eb'
down_revision = '5c1e9b7f2a40'
branch_labels = None
depends_on = None


def upgrade():
    rollup = op.create_table('coverage_rollup',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('units_non_state', sa.Integer(), nullable=False),
    sa.Column('units_non_state_large', sa.Integer(), nullable=False),
    sa.Column('aware', sa.Integer(), nullable=False),
    sa.Column('trained_small', sa.Integer(), nullable=False),
    sa.Column('trained_large', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_coverage_rollup_course_id_course')),
    sa.PrimaryKeyConstraint('course_id', 'scope_id', 'day', name=op.f('pk_coverage_rollup'))
    )
    op.create_table('unit_standing',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=False),
    sa.Column('non_state', sa.Boolean(), nullable=False),
    sa.Column('large', sa.Boolean(), nullable=False),
    sa.Column('aware_on', sa.Date(), nullable=True),
    sa.Column('trained_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_unit_standing_course_id_course')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_unit_standing_org_id_organization')),
    sa.PrimaryKeyConstraint('course_id', 'org_id', name=op.f('pk_unit_standing'))
    )
    _fill(op.get_bind(), rollup)


def _fill(bind, rollup):
    """As of this revision: each grassroots union with its current chair's standing, then the
    sums for the whole federation (scope 0) and every ancestor on the union's path."""
    bind.execute(sa.text("""
        INSERT INTO unit_standing (course_id, org_id, path, non_state, large, aware_on, trained_on)
        SELECT c.id, o.id, o.path, CASE WHEN o.sector = 'non_state' THEN 1=1 ELSE 1=0 END,
               COALESCE(o.member_count, 0) >= c.split_members, s.awareness_on, s.core_all_on
        FROM organization o
        JOIN course c ON 1=1
        LEFT JOIN officer ch ON ch.org_id = o.id AND ch.position = 'chair' AND ch.ended_on IS NULL
        LEFT JOIN course_standing s ON s.user_id = ch.user_id AND s.course_id = c.id
        WHERE o.kind = 'grassroots'
    """))
    for (course_id,) in bind.execute(sa.text("SELECT id FROM course")).all():
        same = Counter()
        for path, non_state, large, aware_on, trained_on in bind.execute(sa.text(
            "SELECT path, non_state, large, aware_on, trained_on FROM unit_standing"
            " WHERE course_id = :c"), {"c": course_id}):
            same[(path, bool(non_state), bool(large), _day(aware_on), _day(trained_on))] += 1
        sums = defaultdict(lambda: [0] * len(COUNTS))
        sums[0, EVER]
        for (path, non_state, large, aware_on, trained_on), n in same.items():
            for scope in [0, *(int(p) for p in path.strip('/').split('/')[:-1])]:
                ever = sums[scope, EVER]
                ever[0] += n
                ever[1] += n if non_state else 0
                ever[2] += n if non_state and large else 0
                if aware_on is not None:
                    sums[scope, aware_on][3] += n
                if non_state and trained_on is not None:
                    sums[scope, trained_on][5 if large else 4] += n
        rows = [{'course_id': course_id, 'scope_id': s, 'day': d, **dict(zip(COUNTS, v))}
                for (s, d), v in sorted(sums.items())]
        for start in range(0, len(rows), 5000):
            bind.execute(rollup.insert(), rows[start:start + 5000])


def _day(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def downgrade():
    op.drop_table('unit_standing')
    op.drop_table('coverage_rollup')
