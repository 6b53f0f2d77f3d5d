"""Join the feature branches (cycles, notifications, monitoring, model drafts, reports)
that were developed side by side from 0001, so the history has one head again.

Revision ID: 0007
Revises: 0002, 0003, 0004, 0005, 0006
"""

revision = "0007"
down_revision = ("0002", "0003", "0004", "0005", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
