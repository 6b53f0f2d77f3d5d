"""The QA lead's narrative on each report; learning published to services and teams, and who read it.

Revision ID: 0021
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_narratives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=60), nullable=False),
    sa.Column('scope_key', sa.String(length=40), nullable=False),
    sa.Column('key_findings', sa.Text(), nullable=False),
    sa.Column('learning', sa.Text(), nullable=False),
    sa.Column('recommendations', sa.Text(), nullable=False),
    sa.Column('do_differently', sa.Text(), nullable=False),
    sa.Column('team_questions', sa.Text(), nullable=False),
    sa.Column('written_by_id', sa.Integer(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['written_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_key', 'scope_key')
    )
    op.create_table('learning_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('learning_publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_publications_published_at'), ['published_at'], unique=False)
    op.create_table('learning_audiences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['publication_id'], ['learning_publications.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('learning_audiences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_audiences_publication_id'), ['publication_id'], unique=False)
    op.create_table('learning_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('first_read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['learning_publications.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('publication_id', 'user_id')
    )
    with op.batch_alter_table('learning_readings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_readings_publication_id'), ['publication_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('learning_readings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_readings_publication_id'))
    op.drop_table('learning_readings')
    with op.batch_alter_table('learning_audiences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_audiences_publication_id'))
    op.drop_table('learning_audiences')
    with op.batch_alter_table('learning_publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_publications_published_at'))
    op.drop_table('learning_publications')
    op.drop_table('report_narratives')
