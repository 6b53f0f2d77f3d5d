"""The organisation managed by system administrators: people's employee id, line manager,
dates, edit version and first-sign-in password change; team kinds; absences.

Revision ID: 0012
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("employee_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("line_manager_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("active_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("active_to", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_unique_constraint("uq_users_employee_id", ["employee_id"])
        batch_op.create_foreign_key("fk_users_line_manager_id_users", "users", ["line_manager_id"], ["id"])
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=40), server_default="other", nullable=False))
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["delegate_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("absences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_absences_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_absences_delegate_id"), ["delegate_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("absences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_absences_delegate_id"))
        batch_op.drop_index(batch_op.f("ix_absences_user_id"))
    op.drop_table("absences")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("fk_users_line_manager_id_users", type_="foreignkey")
        batch_op.drop_constraint("uq_users_employee_id", type_="unique")
        batch_op.drop_column("version")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("active_to")
        batch_op.drop_column("active_from")
        batch_op.drop_column("line_manager_id")
        batch_op.drop_column("employee_id")
