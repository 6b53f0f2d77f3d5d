"""Practitioners added to an audit, and evidence attributed to the practitioner who gave it.

Revision ID: 0024
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('case_role', sa.String(length=30), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_reason', sa.Text(), nullable=False),
    sa.Column('contribution_instance_id', sa.Integer(), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.ForeignKeyConstraint(['contribution_instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_participants_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_participants_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('audit_evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contributor_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_evidence_contributor_id'), ['contributor_id'], unique=False)
        batch_op.create_foreign_key('fk_audit_evidence_contributor_id_users', 'users', ['contributor_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('audit_evidence', schema=None) as batch_op:
        batch_op.drop_constraint('fk_audit_evidence_contributor_id_users', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_evidence_contributor_id'))
        batch_op.drop_column('contributor_id')
    with op.batch_alter_table('audit_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_participants_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_participants_audit_id'))
    op.drop_table('audit_participants')
