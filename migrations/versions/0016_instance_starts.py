"""Instance starts: who started an instance from the Start page or the API (or which
instance started it), what it is about, and the answers to its start form; and the
records of the thematic audit, the dip sample, their tracked recommendations and the
annual QA report.

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
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


    op.create_table(
        "thematic_audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("commissioned_by_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("why_now", sa.String(length=40), nullable=False),
        sa.Column("why_now_detail", sa.Text(), nullable=False),
        sa.Column("cohort", sa.String(length=40), nullable=True),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=40), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("sample", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("learning", sa.Text(), nullable=True),
        sa.Column("recommendations", sa.JSON(), nullable=False),
        sa.Column("sign_off_comments", sa.Text(), nullable=True),
        sa.Column("signed_off_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commissioned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["commissioned_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.ForeignKeyConstraint(["signed_off_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("thematic_audits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thematic_audits_commissioned_by_id"), ["commissioned_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_thematic_audits_service_id"), ["service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_thematic_audits_status"), ["status"], unique=False)
    op.create_table(
        "dip_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("head_of_service_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("learning", sa.Text(), nullable=True),
        sa.Column("recommendations", sa.JSON(), nullable=False),
        sa.Column("concerns", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["head_of_service_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("dip_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dip_samples_head_of_service_id"), ["head_of_service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dip_samples_service_id"), ["service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dip_samples_status"), ["status"], unique=False)
    op.create_table(
        "activity_recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["completed_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("activity_recommendations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_recommendations_activity"), ["activity"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_recommendations_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_recommendations_service_id"), ["service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_recommendations_status"), ["status"], unique=False)
    op.create_table(
        "annual_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sign_off_comments", sa.Text(), nullable=True),
        sa.Column("signed_off_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instances.id"]),
        sa.ForeignKeyConstraint(["signed_off_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("annual_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annual_reports_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_annual_reports_year"), ["year"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("annual_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annual_reports_year"))
        batch_op.drop_index(batch_op.f("ix_annual_reports_status"))
    op.drop_table("annual_reports")
    with op.batch_alter_table("activity_recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_recommendations_status"))
        batch_op.drop_index(batch_op.f("ix_activity_recommendations_service_id"))
        batch_op.drop_index(batch_op.f("ix_activity_recommendations_instance_id"))
        batch_op.drop_index(batch_op.f("ix_activity_recommendations_activity"))
    op.drop_table("activity_recommendations")
    with op.batch_alter_table("dip_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dip_samples_status"))
        batch_op.drop_index(batch_op.f("ix_dip_samples_service_id"))
        batch_op.drop_index(batch_op.f("ix_dip_samples_head_of_service_id"))
    op.drop_table("dip_samples")
    with op.batch_alter_table("thematic_audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thematic_audits_status"))
        batch_op.drop_index(batch_op.f("ix_thematic_audits_service_id"))
        batch_op.drop_index(batch_op.f("ix_thematic_audits_commissioned_by_id"))
    op.drop_table("thematic_audits")
    with op.batch_alter_table("instance_starts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instance_starts_parent_instance_id"))
        batch_op.drop_index(batch_op.f("ix_instance_starts_started_by_id"))
        batch_op.drop_index(batch_op.f("ix_instance_starts_process_key"))
    op.drop_table("instance_starts")
