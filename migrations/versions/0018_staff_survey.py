"""The practitioner survey: rounds, who took part, and anonymous responses (no user, no time).

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_survey_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_start')
    )
    op.create_table('staff_survey_participation',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['staff_survey_rounds.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('round_id', 'user_id'),
    sqlite_with_rowid=False
    )
    op.create_table('staff_survey_responses',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('role_group', sa.String(length=20), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['staff_survey_rounds.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('staff_survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_survey_responses_round_id'), ['round_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_survey_responses_round_id'))

    op.drop_table('staff_survey_responses')
    op.drop_table('staff_survey_participation')
    op.drop_table('staff_survey_rounds')
