"""Feedback requests from a practice observation as well as from an audit: each request names
the process instance it serves and what kind of subject that is; an audit request keeps its
audit, an observation request has none, and a check holds that exactly one of the two applies.

Existing requests are all audit requests: they are backfilled with their audit's instance.
Downgrading deletes observation requests and their answers, which the older schema cannot hold.

Revision ID: 0028
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0028'
down_revision = '0021'
branch_labels = None
depends_on = None

ONE_SUBJECT = ("(subject_kind = 'audit' AND audit_id IS NOT NULL) OR "
               "(subject_kind = 'observation' AND audit_id IS NULL AND instance_id IS NOT NULL)")


def upgrade() -> None:
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('subject_kind', sa.String(length=12), nullable=True))
    op.execute("UPDATE feedback_requests SET subject_kind = 'audit', "
               "instance_id = (SELECT audits.instance_id FROM audits WHERE audits.id = feedback_requests.audit_id)")
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.alter_column('subject_kind', existing_type=sa.String(length=12), nullable=False)
        batch_op.alter_column('audit_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key('fk_feedback_requests_instance_id', 'process_instances', ['instance_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_feedback_requests_instance_id'), ['instance_id'], unique=False)
        batch_op.create_check_constraint('ck_feedback_requests_one_subject', ONE_SUBJECT)
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.alter_column('audit_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM feedback_responses WHERE request_id IN "
               "(SELECT id FROM feedback_requests WHERE subject_kind = 'observation')")
    op.execute("DELETE FROM feedback_requests WHERE subject_kind = 'observation'")
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.alter_column('audit_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('feedback_requests', schema=None) as batch_op:
        batch_op.drop_constraint('ck_feedback_requests_one_subject', type_='check')
        batch_op.drop_index(batch_op.f('ix_feedback_requests_instance_id'))
        batch_op.drop_constraint('fk_feedback_requests_instance_id', type_='foreignkey')
        batch_op.alter_column('audit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('subject_kind')
        batch_op.drop_column('instance_id')
