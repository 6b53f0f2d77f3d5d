"""Task submissions: answers kept beside the audit trail, referenced by digest from it.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("human_task_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("answers_sha256", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["human_task_id"], ["human_tasks.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_submissions_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_submissions_human_task_id"), ["human_task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_submissions_human_task_id"))
        batch_op.drop_index(batch_op.f("ix_task_submissions_instance_id"))
    op.drop_table("task_submissions")
