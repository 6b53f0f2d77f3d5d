"""The master audit actions tracker holds every activity's actions: thematic audit and dip
sample recommendations (moved from activity_recommendations, which is dropped) and the
multi-agency audit's agreed actions, each with its source activity and instance.

Revision ID: 0027
Revises: 0021
"""
from datetime import date

from alembic import op
import sqlalchemy as sa

revision = '0027'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_actions', schema=None) as batch_op:
        batch_op.alter_column('audit_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='case_file_audit', nullable=False))
        batch_op.add_column(sa.Column('source_reference', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('instance_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('service_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('agency', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('agreed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_notice', sa.String(length=20), nullable=True))
        batch_op.create_foreign_key('fk_audit_actions_instance_id', 'process_instances', ['instance_id'], ['id'])
        batch_op.create_foreign_key('fk_audit_actions_service_id', 'services', ['service_id'], ['id'])
        batch_op.create_foreign_key('fk_audit_actions_case_id', 'cases', ['case_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_audit_actions_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_actions_instance_id'), ['instance_id'], unique=False)
    _move_recommendations()
    with op.batch_alter_table('activity_recommendations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_recommendations_status'))
        batch_op.drop_index(batch_op.f('ix_activity_recommendations_service_id'))
        batch_op.drop_index(batch_op.f('ix_activity_recommendations_instance_id'))
        batch_op.drop_index(batch_op.f('ix_activity_recommendations_activity'))
    op.drop_table('activity_recommendations')


def _move_recommendations() -> None:
    """Each tracked recommendation becomes a tracker row owned by a person: the head of its
    service for a head-of-service recommendation, the first active holder of the named role
    otherwise, else whoever started the activity; one the QA lead recorded done is completed
    and verified by them."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT r.activity, r.reference, r.instance_id, r.service_id, r.text, r.owner, r.due_on, r.status, "
        "r.evidence, r.completed_at, r.completed_by_id, s.head_of_service_id, p.started_by_id, p.started_at "
        "FROM activity_recommendations r JOIN services s ON s.id = r.service_id "
        "JOIN process_instances p ON p.id = r.instance_id ORDER BY r.id")).mappings().all()
    for row in rows:
        owner = row["head_of_service_id"] if row["owner"] == "head_of_service" else bind.scalar(sa.text(
            "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id "
            "WHERE ur.role = :role AND u.active ORDER BY u.id LIMIT 1"), {"role": row["owner"]})
        owner = owner or row["started_by_id"] or row["head_of_service_id"]
        source_reference, ref = row["reference"].rsplit("/", 1)
        done = row["status"] == "completed"
        completed_at = row["completed_at"]
        bind.execute(sa.text(
            "INSERT INTO audit_actions (audit_id, source, source_reference, instance_id, service_id, ref, description, "
            "area, owner_id, owner_role, due_on, priority, status, completed_on, evidence, verified_by_id, verified_at, "
            "agreed_on) VALUES (NULL, :source, :source_reference, :instance_id, :service_id, :ref, :description, '', "
            ":owner_id, :owner_role, :due_on, '', :status, :completed_on, :evidence, :verified_by_id, :verified_at, "
            ":agreed_on)"), {
            "source": row["activity"], "source_reference": source_reference, "instance_id": row["instance_id"],
            "service_id": row["service_id"], "ref": ref, "description": row["text"], "owner_id": owner,
            "owner_role": row["owner"], "due_on": row["due_on"], "status": "completed" if done else "not_started",
            "completed_on": _day(completed_at) if done else None, "evidence": row["evidence"],
            "verified_by_id": row["completed_by_id"] if done else None, "verified_at": completed_at if done else None,
            "agreed_on": _day(row["started_at"])})


def _day(moment):
    """A date from a stored date-time (SQLite gives text)."""
    if moment is None:
        return None
    return moment.date() if hasattr(moment, "date") else date.fromisoformat(str(moment)[:10])


def downgrade() -> None:
    op.create_table('activity_recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=30), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=40), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('activity_recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_recommendations_activity'), ['activity'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_recommendations_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_recommendations_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_recommendations_status'), ['status'], unique=False)
    op.execute("DELETE FROM audit_actions WHERE audit_id IS NULL")
    with op.batch_alter_table('audit_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_actions_instance_id'))
        batch_op.drop_index(batch_op.f('ix_audit_actions_source'))
        batch_op.drop_constraint('fk_audit_actions_case_id', type_='foreignkey')
        batch_op.drop_constraint('fk_audit_actions_service_id', type_='foreignkey')
        batch_op.drop_constraint('fk_audit_actions_instance_id', type_='foreignkey')
        for column in ('last_notice', 'agreed_on', 'agency', 'case_id', 'service_id', 'instance_id',
                       'source_reference', 'source'):
            batch_op.drop_column(column)
        batch_op.alter_column('audit_id', existing_type=sa.Integer(), nullable=False)
