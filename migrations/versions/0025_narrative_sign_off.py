"""The QA lead's narrative is submitted for sign-off, signed off (or returned with a comment)
by the principal social worker or an assistant director, and then published read-only.

Revision ID: 0025
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report_narratives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='draft'))
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_off_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('returned_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('return_comment', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_narratives_status'), ['status'], unique=False)
        batch_op.create_foreign_key('fk_report_narratives_submitted_by_id_users', 'users', ['submitted_by_id'], ['id'])
        batch_op.create_foreign_key('fk_report_narratives_signed_off_by_id_users', 'users', ['signed_off_by_id'], ['id'])
        batch_op.create_foreign_key('fk_report_narratives_returned_by_id_users', 'users', ['returned_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('report_narratives', schema=None) as batch_op:
        batch_op.drop_constraint('fk_report_narratives_returned_by_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_report_narratives_signed_off_by_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_report_narratives_submitted_by_id_users', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_report_narratives_status'))
        for column in ('return_comment', 'returned_at', 'returned_by_id', 'signed_off_at', 'signed_off_by_id',
                       'submitted_at', 'submitted_by_id', 'status'):
            batch_op.drop_column(column)
