"""open work indexes: the dashboard counts open audits and unverified actions without reading the history

Partial indexes of the audits not closed and of the actions the QA lead has not verified:
the dashboard's numbers select those rows, which are the council's current work, so the
counts read them alone however many closed audits and verified actions accumulate.

Revision ID: 0029
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa


revision = "0029"
down_revision = "0024"
branch_labels = None
depends_on = None

OPEN_AUDITS = sa.text("status <> 'closed'")
UNVERIFIED_ACTIONS = sa.text("verified_by_id IS NULL")


def upgrade() -> None:
    op.create_index("ix_audits_open", "audits", ["instance_id"], unique=False,
                    postgresql_where=OPEN_AUDITS, sqlite_where=OPEN_AUDITS)
    op.create_index("ix_audit_actions_unverified", "audit_actions", ["status"], unique=False,
                    postgresql_where=UNVERIFIED_ACTIONS, sqlite_where=UNVERIFIED_ACTIONS)


def downgrade() -> None:
    op.drop_index("ix_audit_actions_unverified", table_name="audit_actions")
    op.drop_index("ix_audits_open", table_name="audits")
