"""Findings as data: each audit question's answer and evidence, and the impact for the child.

Revision ID: 0015
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("question", sa.String(length=60), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"]),
        sa.ForeignKeyConstraint(["process_version_id"], ["process_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("audit_id", "stage", "area", "question"),
    )
    with op.batch_alter_table("audit_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_findings_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_findings_process_version_id"), ["process_version_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_findings_question"), ["question"], unique=False)
    op.create_table(
        "audit_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("question", sa.String(length=60), nullable=True),
        sa.Column("record_type", sa.String(length=40), nullable=True),
        sa.Column("record_date", sa.Date(), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"]),
        sa.ForeignKeyConstraint(["process_version_id"], ["process_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_evidence_audit_id"), ["audit_id"], unique=False)
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("impact", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("impact_reason", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audits_impact"), ["impact"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audits_impact"))
        batch_op.drop_column("impact_reason")
        batch_op.drop_column("impact")
    with op.batch_alter_table("audit_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_evidence_audit_id"))
    op.drop_table("audit_evidence")
    with op.batch_alter_table("audit_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_findings_question"))
        batch_op.drop_index(batch_op.f("ix_audit_findings_process_version_id"))
        batch_op.drop_index(batch_op.f("ix_audit_findings_audit_id"))
    op.drop_table("audit_findings")
