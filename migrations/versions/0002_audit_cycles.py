"""audit cycles: the six-weekly cycle, its proposed allocations, and audits.cycle_id

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("cadence_weeks", sa.Integer(), nullable=False),
        sa.Column("sample_basis", sa.String(length=20), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("per_team", sa.Integer(), nullable=True),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("drawn_on", sa.Date(), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draw_problem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("audit_cycles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_cycles_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_cycles_status"), ["status"], unique=False)

    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cycle_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audits_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_foreign_key("fk_audits_cycle_id_audit_cycles", "audit_cycles", ["cycle_id"], ["id"])

    op.create_table(
        "cycle_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("drawn_auditor_id", sa.Integer(), nullable=False),
        sa.Column("drawn_moderator_id", sa.Integer(), nullable=False),
        sa.Column("auditor_id", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"]),
        sa.ForeignKeyConstraint(["auditor_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["cycle_id"], ["audit_cycles.id"]),
        sa.ForeignKeyConstraint(["drawn_auditor_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["drawn_moderator_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["moderator_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cycle_id", "case_id"),
    )
    with op.batch_alter_table("cycle_allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cycle_allocations_auditor_id"), ["auditor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cycle_allocations_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cycle_allocations_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cycle_allocations_moderator_id"), ["moderator_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cycle_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cycle_allocations_moderator_id"))
        batch_op.drop_index(batch_op.f("ix_cycle_allocations_cycle_id"))
        batch_op.drop_index(batch_op.f("ix_cycle_allocations_case_id"))
        batch_op.drop_index(batch_op.f("ix_cycle_allocations_auditor_id"))
    op.drop_table("cycle_allocations")

    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.drop_constraint("fk_audits_cycle_id_audit_cycles", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_audits_cycle_id"))
        batch_op.drop_column("cycle_id")

    with op.batch_alter_table("audit_cycles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_cycles_status"))
        batch_op.drop_index(batch_op.f("ix_audit_cycles_instance_id"))
    op.drop_table("audit_cycles")
