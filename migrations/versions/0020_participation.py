"""What children and young people told the participation team in groups and forums (no names).

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('participation_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gathered_on', sa.Date(), nullable=False),
    sa.Column('forum', sa.String(length=40), nullable=False),
    sa.Column('cohort', sa.String(length=40), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=40), nullable=False),
    sa.Column('what_they_said', sa.Text(), nullable=False),
    sa.Column('what_we_did', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('participation_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participation_records_gathered_on'), ['gathered_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('participation_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participation_records_gathered_on'))

    op.drop_table('participation_records')
