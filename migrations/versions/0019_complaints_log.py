"""The log of compliments and complaints (no names), kept as intelligence beside the audits.

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compliments_complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('theme', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('learning', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('compliments_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliments_complaints_received_on'), ['received_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliments_complaints_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliments_complaints_theme'), ['theme'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('compliments_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliments_complaints_theme'))
        batch_op.drop_index(batch_op.f('ix_compliments_complaints_service_id'))
        batch_op.drop_index(batch_op.f('ix_compliments_complaints_received_on'))

    op.drop_table('compliments_complaints')
