"""Authoring: trainers per course, drafts and optimistic locks, edit history, lesson images.

Revision ID: e82775adbf11
Revises: 41360ddadbef
Create Date: 2026-11-24 09:07:30.315782
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e82775adbf11'
down_revision = '41360ddadbef'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('course_trainer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_trainer_course_id_course')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_course_trainer_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_trainer')),
    sa.UniqueConstraint('course_id', 'user_id', name='uq_course_trainer_course_user')
    )
    with op.batch_alter_table('course_trainer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_trainer_user_id'), ['user_id'], unique=False)

    op.create_table('revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('lesson', 'quiz', name='revisionkind', native_enum=False, length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_revision_author_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision'))
    )
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.create_index('ix_revision_kind_object', ['kind', 'object_id', 'created_dt'], unique=False)

    op.create_table('upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_upload_course_id_course')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_upload_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upload')),
    sa.UniqueConstraint('name', name=op.f('uq_upload_name'))
    )
    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upload_course_id'), ['course_id'], unique=False)

    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft_md', sa.Text(), nullable=True))

    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft_source', sa.Text(), nullable=True))
        # Existing quizzes start at edit version 1.
        batch_op.add_column(sa.Column('edit_version', sa.Integer(), nullable=False, server_default='1'))

    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.alter_column('edit_version', server_default=None)



def downgrade():
    with op.batch_alter_table('quiz', schema=None) as batch_op:
        batch_op.drop_column('edit_version')
        batch_op.drop_column('draft_source')

    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_column('draft_md')

    with op.batch_alter_table('upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upload_course_id'))

    op.drop_table('upload')
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.drop_index('ix_revision_kind_object')

    op.drop_table('revision')
    with op.batch_alter_table('course_trainer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_trainer_user_id'))

    op.drop_table('course_trainer')
