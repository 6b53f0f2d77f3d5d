"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 00:25:52.148519
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('subject_type', sa.String(length=40), nullable=True),
    sa.Column('subject_id', sa.String(length=80), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_events_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('job_title', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_team_id'), ['team_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_digest')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('process_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('process_key', 'content_hash'),
    sa.UniqueConstraint('process_key', 'version')
    )
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_versions_process_key'), ['process_key'], unique=False)

    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('head_of_service_id', sa.Integer(), nullable=True),
    sa.Column('assistant_director_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assistant_director_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['head_of_service_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'role')
    )
    op.create_table('process_instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_version_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=80), nullable=False),
    sa.Column('business_key', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('serialized', sa.Text(), nullable=False),
    sa.Column('next_timer_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['process_version_id'], ['process_versions.id'], ),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_instances_business_key'), ['business_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_next_timer_at'), ['next_timer_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_process_key'), ['process_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_process_version_id'), ['process_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_status'), ['status'], unique=False)

    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_service_id'), ['service_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('cohort', sa.String(length=40), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('age_band', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_worker_id'), ['worker_id'], unique=False)

    op.create_table('human_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_uuid', sa.String(length=36), nullable=False),
    sa.Column('spec_name', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('lane', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('form_key', sa.String(length=120), nullable=True),
    sa.Column('business_key', sa.String(length=80), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'task_uuid')
    )
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_human_tasks_inbox', ['state', 'assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_human_tasks_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_human_tasks_role', ['state', 'role'], unique=False)

    op.create_table('audits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('audit_type', sa.String(length=30), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('cohort', sa.String(length=40), nullable=False),
    sa.Column('auditor_id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('team_manager_id', sa.Integer(), nullable=False),
    sa.Column('head_of_service_id', sa.Integer(), nullable=False),
    sa.Column('allocated_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('allocated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('moderation_due_on', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('graded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overall_grade', sa.String(length=30), nullable=True),
    sa.Column('overall_rationale', sa.Text(), nullable=True),
    sa.Column('strengths', sa.Text(), nullable=True),
    sa.Column('areas_for_development', sa.Text(), nullable=True),
    sa.Column('safeguarding_concern', sa.Boolean(), nullable=False),
    sa.Column('safeguarding_details', sa.Text(), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moderation_outcome', sa.String(length=20), nullable=True),
    sa.Column('moderated_grade', sa.String(length=30), nullable=True),
    sa.Column('moderation_rationale', sa.Text(), nullable=True),
    sa.Column('discussion_date', sa.Date(), nullable=True),
    sa.Column('discussion_summary', sa.Text(), nullable=True),
    sa.Column('discussion_learning', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closure_outcome', sa.String(length=40), nullable=True),
    sa.Column('closure_notes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['allocated_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['auditor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['head_of_service_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['moderator_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.ForeignKeyConstraint(['team_manager_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audits_auditor_id'), ['auditor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_head_of_service_id'), ['head_of_service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_moderator_id'), ['moderator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_team_manager_id'), ['team_manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audits_worker_id'), ['worker_id'], unique=False)

    op.create_table('task_drafts',
    sa.Column('human_task_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['human_task_id'], ['human_tasks.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('human_task_id', 'user_id')
    )
    op.create_table('audit_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('area', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('owner_role', sa.String(length=30), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('priority', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('reviewed_in_supervision_on', sa.Date(), nullable=True),
    sa.Column('supervision_outcome', sa.Text(), nullable=True),
    sa.Column('revised_due_on', sa.Date(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('not_completed_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('audit_id', 'ref')
    )
    with op.batch_alter_table('audit_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_actions_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_actions_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_actions_status'), ['status'], unique=False)

    op.create_table('audit_area_grades',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('grade', sa.String(length=30), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('audit_id', 'area', 'stage')
    )
    with op.batch_alter_table('audit_area_grades', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_area_grades_audit_id'), ['audit_id'], unique=False)

    op.create_table('audit_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=True),
    sa.Column('feedback_date', sa.Date(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('audit_id', 'source')
    )
    with op.batch_alter_table('audit_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_feedback_audit_id'), ['audit_id'], unique=False)

    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('head_of_service_id', sa.Integer(), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('immediate_actions', sa.Text(), nullable=True),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.ForeignKeyConstraint(['head_of_service_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalations_audit_id'), ['audit_id'], unique=False)

    op.create_table('practitioner_reflections',
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('went_well', sa.Text(), nullable=False),
    sa.Column('do_differently', sa.Text(), nullable=False),
    sa.Column('learning_needs', sa.Text(), nullable=False),
    sa.Column('agrees_with_grade', sa.Boolean(), nullable=False),
    sa.Column('disagreement_reason', sa.Text(), nullable=True),
    sa.Column('barriers', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.ForeignKeyConstraint(['practitioner_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('audit_id')
    )
    # users.team_id -> teams.id closes the users/teams/services cycle, so it comes last.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_users_team_id_teams', 'teams', ['team_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('fk_users_team_id_teams', type_='foreignkey')
    op.drop_table('practitioner_reflections')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalations_audit_id'))

    op.drop_table('escalations')
    with op.batch_alter_table('audit_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_feedback_audit_id'))

    op.drop_table('audit_feedback')
    with op.batch_alter_table('audit_area_grades', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_area_grades_audit_id'))

    op.drop_table('audit_area_grades')
    with op.batch_alter_table('audit_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_actions_status'))
        batch_op.drop_index(batch_op.f('ix_audit_actions_owner_id'))
        batch_op.drop_index(batch_op.f('ix_audit_actions_audit_id'))

    op.drop_table('audit_actions')
    op.drop_table('task_drafts')
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audits_worker_id'))
        batch_op.drop_index(batch_op.f('ix_audits_team_manager_id'))
        batch_op.drop_index(batch_op.f('ix_audits_team_id'))
        batch_op.drop_index(batch_op.f('ix_audits_status'))
        batch_op.drop_index(batch_op.f('ix_audits_service_id'))
        batch_op.drop_index(batch_op.f('ix_audits_moderator_id'))
        batch_op.drop_index(batch_op.f('ix_audits_instance_id'))
        batch_op.drop_index(batch_op.f('ix_audits_head_of_service_id'))
        batch_op.drop_index(batch_op.f('ix_audits_case_id'))
        batch_op.drop_index(batch_op.f('ix_audits_auditor_id'))

    op.drop_table('audits')
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_role')
        batch_op.drop_index(batch_op.f('ix_human_tasks_instance_id'))
        batch_op.drop_index('ix_human_tasks_inbox')

    op.drop_table('human_tasks')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_worker_id'))
        batch_op.drop_index(batch_op.f('ix_cases_team_id'))

    op.drop_table('cases')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_service_id'))

    op.drop_table('teams')
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_instances_status'))
        batch_op.drop_index(batch_op.f('ix_process_instances_process_version_id'))
        batch_op.drop_index(batch_op.f('ix_process_instances_process_key'))
        batch_op.drop_index(batch_op.f('ix_process_instances_next_timer_at'))
        batch_op.drop_index(batch_op.f('ix_process_instances_business_key'))

    op.drop_table('process_instances')
    op.drop_table('user_roles')
    op.drop_table('services')
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_versions_process_key'))

    op.drop_table('process_versions')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_team_id'))

    op.drop_table('users')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_subject')
        batch_op.drop_index(batch_op.f('ix_events_kind'))
        batch_op.drop_index(batch_op.f('ix_events_instance_id'))

    op.drop_table('events')
    op.drop_table('event_chain_head')
