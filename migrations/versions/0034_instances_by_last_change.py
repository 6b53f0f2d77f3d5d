"""instances by last change: the instance list's first page without sorting the history

The instance list shows the instances changed last first. Without an index on that order,
PostgreSQL read and sorted every instance in the viewer's scope to show 25 of them (32 ms at
100,000 instances, growing with the history); with it, it walks the index from the newest
and stops once a page is found. Every save of a workflow already updates the row's indexed
columns (none of its updates were HOT in the bench's council), so the index adds one entry
per save and changes no update's kind.

Revision ID: 0034
Revises: 0033
"""
from alembic import op


revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_process_instances_updated", "process_instances", ["updated_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_process_instances_updated", table_name="process_instances")
