"""The case profile from the register: legal status, placement moves, missing episodes,
disability, first language, referrals and section 47 enquiries in the last 12 months.

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0026'
branch_labels = None
depends_on = None

PROFILE_COLUMNS = (
    ('legal_status', sa.String(length=40)),
    ('placement_moves_12_months', sa.Integer()),
    ('missing_episodes_12_months', sa.Integer()),
    ('disability', sa.Boolean()),
    ('first_language', sa.String(length=40)),
    ('referrals_12_months', sa.Integer()),
    ('s47_enquiries_12_months', sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        for name, kind in PROFILE_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        for name, _ in reversed(PROFILE_COLUMNS):
            batch.drop_column(name)
