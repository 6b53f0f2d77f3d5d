"""Instance starts: who started an instance from the Start page or the API (or which
instance started it), what it is about, and the answers to its start form.

Revision ID: 0016
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_starts",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=80), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("about_kind", sa.String(length=20), nullable=True),
        sa.Column("about_id", sa.Integer(), nullable=True),
        sa.Column("about_label", sa.String(length=200), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("answers_sha256", sa.String(length=64), nullable=False),
        sa.Column("parent_instance_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"]),
        sa.ForeignKeyConstraint(["parent_instance_id"], ["process_instances.id"]),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    with op.batch_alter_table("instance_starts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instance_starts_process_key"), ["process_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_instance_starts_started_by_id"), ["started_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instance_starts_parent_instance_id"), ["parent_instance_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instance_starts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instance_starts_parent_instance_id"))
        batch_op.drop_index(batch_op.f("ix_instance_starts_started_by_id"))
        batch_op.drop_index(batch_op.f("ix_instance_starts_process_key"))
    op.drop_table("instance_starts")
