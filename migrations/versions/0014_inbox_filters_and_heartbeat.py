"""Inbox filters and the scheduler heartbeat.

The human-task projection gains the team the work is about (filled from the manifest's
`team_key`; existing rows are backfilled from the audit each instance runs) and indexes
for the team filter and the "completed by me" tab. The scheduler writes a heartbeat row
that /healthz reads.

Revision ID: 0014
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_human_tasks_team", ["team_id"], unique=False)
        batch_op.create_index("ix_human_tasks_completed", ["state", "completed_by_id"], unique=False)
    op.execute("UPDATE human_tasks SET team_id = (SELECT audits.team_id FROM audits "
               "WHERE audits.instance_id = human_tasks.instance_id) "
               "WHERE EXISTS (SELECT 1 FROM audits WHERE audits.instance_id = human_tasks.instance_id)")
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("process", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_heartbeats")
    with op.batch_alter_table("human_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_human_tasks_completed")
        batch_op.drop_index("ix_human_tasks_team")
        batch_op.drop_column("team_id")
