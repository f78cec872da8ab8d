"""Module roll-ups for the dashboard's funnel: the counted modules each union's chair started
and completed, and the sums per scope and module, filled from what is there (the app keeps them
in step from here on).

Revision ID: 64a2d8da8b8d
Revises: 9d2117e9d3eb
Create Date: 2026-12-07 02:00:00

"""
from collections import defaultdict

from alembic import op
import sqlalchemy as sa

COUNTS = ('started', 'done', 'started_non_state', 'done_non_state')


# revision identifiers, used by Alembic.
revision = '64a2d8da8b8d'
down_revision = '9d2117e9d3eb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('unit_standing') as batch:
        batch.add_column(sa.Column('modules_started', sa.Text(), server_default='', nullable=False))
        batch.add_column(sa.Column('modules_done', sa.Text(), server_default='', nullable=False))
    rollup = op.create_table('module_rollup',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('started', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('started_non_state', sa.Integer(), nullable=False),
    sa.Column('done_non_state', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_module_rollup_course_id_course')),
    sa.PrimaryKeyConstraint('course_id', 'scope_id', 'module_id', name=op.f('pk_module_rollup'))
    )
    _fill(op.get_bind(), rollup)


def _fill(bind, rollup):
    """As of this revision: the published modules each union's current chair opened a lesson of
    or completed, and completed; then the sums for scope 0 and every ancestor. A course at a
    time, and only the chairs' rows kept, so that a national database fits in memory."""
    chair_of = defaultdict(list)  # person -> the unions they chair, with path and sector
    for org_id, path, non_state, user_id in bind.execute(sa.text("""
        SELECT o.id, o.path, CASE WHEN o.sector = 'non_state' THEN 1 ELSE 0 END, ch.user_id
        FROM organization o
        JOIN officer ch ON ch.org_id = o.id AND ch.position = 'chair' AND ch.ended_on IS NULL
        WHERE o.kind = 'grassroots'
    """)):
        chair_of[user_id].append((org_id, path, bool(non_state)))
    courses = [c for (c,) in bind.execute(sa.text("SELECT id FROM course ORDER BY id"))]
    for course_id in courses:
        modules = {m for (m,) in bind.execute(sa.text(
            "SELECT id FROM module WHERE course_id = :c AND status = 'published'"),
            {'c': course_id})}
        if modules:
            _fill_course(bind, rollup, course_id, modules, chair_of)


def _fill_course(bind, rollup, course_id, modules, chair_of):
    started, done = defaultdict(set), defaultdict(set)  # person -> modules
    ids = {'m': sorted(modules)}
    for user_id, module_id in bind.execute(sa.text(
            "SELECT DISTINCT user_id, module_id FROM lesson_progress WHERE module_id IN :m"
            ).bindparams(sa.bindparam('m', expanding=True)), ids):
        if user_id in chair_of:
            started[user_id].add(module_id)
    for user_id, module_id in bind.execute(sa.text(
            "SELECT user_id, module_id FROM completion WHERE revoked_dt IS NULL"
            " AND module_id IN :m").bindparams(sa.bindparam('m', expanding=True)), ids):
        if user_id in chair_of:
            started[user_id].add(module_id)
            done[user_id].add(module_id)
    updates, sums = [], defaultdict(lambda: [0, 0, 0, 0])
    for user_id, begun in started.items():
        ended = done.get(user_id, set())
        for org_id, path, non_state in chair_of[user_id]:
            updates.append({'c': course_id, 'o': org_id, 's': _ids(begun), 'd': _ids(ended)})
            for scope in [0, *(int(p) for p in path.strip('/').split('/')[:-1])]:
                for column, ids in ((0, begun), (1, ended)):
                    for module_id in ids:
                        row = sums[scope, module_id]
                        row[column] += 1
                        row[column + 2] += 1 if non_state else 0
    for start in range(0, len(updates), 5000):
        bind.execute(sa.text("UPDATE unit_standing SET modules_started = :s, modules_done = :d"
                             " WHERE course_id = :c AND org_id = :o"), updates[start:start + 5000])
    rows = [{'course_id': course_id, 'scope_id': s, 'module_id': m, **dict(zip(COUNTS, v))}
            for (s, m), v in sorted(sums.items())]
    for start in range(0, len(rows), 5000):
        bind.execute(rollup.insert(), rows[start:start + 5000])


def _ids(modules):
    return ",".join(str(m) for m in sorted(modules))


def downgrade():
    op.drop_table('module_rollup')
    with op.batch_alter_table('unit_standing') as batch:
        batch.drop_column('modules_done')
        batch.drop_column('modules_started')
