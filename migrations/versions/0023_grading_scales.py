"""Audits remember the grading scale they were graded on and their ILACS judgement area.

Every audit before this ran on the seed's four Ofsted grades: its scale is that scale's
signature (engine/qa/grading_scale.py, `GradingScale.signature`, computed from the
seed's processes/case_file_audit/grading_scale.json and written out here so this
migration does not move if the seed does). Its judgement area comes from its cohort by
the seed's mapping.

Revision ID: 0023
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0025'
branch_labels = None
depends_on = None

SEED_SCALE_SIGNATURE = "0ee8abb88ea7e62e"
SEED_COHORT_AREAS = {
    "child_in_need": "help_and_protection",
    "child_protection": "help_and_protection",
    "assessment": "help_and_protection",
    "disabled_children": "help_and_protection",
    "child_in_care": "children_in_care",
    "care_leaver": "care_leavers",
}


def upgrade() -> None:
    with op.batch_alter_table('audits') as batch:
        batch.add_column(sa.Column('grading_scale', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('judgement_area', sa.String(length=40), nullable=True))
    audits = sa.table('audits', sa.column('grading_scale', sa.String), sa.column('judgement_area', sa.String),
                      sa.column('cohort', sa.String))
    op.execute(audits.update().values(grading_scale=SEED_SCALE_SIGNATURE))
    for cohort, area in SEED_COHORT_AREAS.items():
        op.execute(audits.update().where(audits.c.cohort == cohort).values(judgement_area=area))
    with op.batch_alter_table('audits') as batch:
        batch.alter_column('grading_scale', existing_type=sa.String(length=16), nullable=False)
        batch.create_index('ix_audits_grading_scale', ['grading_scale'])
        batch.create_index('ix_audits_judgement_area', ['judgement_area'])


def downgrade() -> None:
    with op.batch_alter_table('audits') as batch:
        batch.drop_index('ix_audits_judgement_area')
        batch.drop_index('ix_audits_grading_scale')
        batch.drop_column('judgement_area')
        batch.drop_column('grading_scale')
