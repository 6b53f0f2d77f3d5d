"""The thematic audit's reviewed sample (each drawn case, removed or swapped with a reason) and
its focused tool (the commissioner's questions); a user task's form taken from process data.

Revision ID: 0026
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0026'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('thematic_sample_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thematic_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('auditor_id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('audit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['thematic_id'], ['thematic_audits.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['auditor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['moderator_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['replaces_id'], ['thematic_sample_cases.id'], ),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('thematic_id', 'case_id')
    )
    op.create_index('ix_thematic_sample_cases_thematic_id', 'thematic_sample_cases', ['thematic_id'])
    with op.batch_alter_table('thematic_audits') as batch:
        batch.add_column(sa.Column('focused_questions', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('sequence', sa.JSON(), nullable=True))
    with op.batch_alter_table('human_tasks') as batch:
        batch.add_column(sa.Column('form_schema', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('human_tasks') as batch:
        batch.drop_column('form_schema')
    with op.batch_alter_table('thematic_audits') as batch:
        batch.drop_column('sequence')
        batch.drop_column('focused_questions')
    op.drop_index('ix_thematic_sample_cases_thematic_id', table_name='thematic_sample_cases')
    op.drop_table('thematic_sample_cases')
