"""search prefix indexes: the instance list's search reads the instances it finds

The search matches a prefix of an instance's reference or of its case's (LIKE 'X%').
PostgreSQL serves a LIKE prefix from a btree index only under the C collation or with a
pattern operator class; the databases here use C.UTF-8, so the plain indexes do not serve
it and every instance and case was read. SQLite gets the same indexes as plain ones, so that
both databases hold the schema the models describe (its LIKE ignores case and does not use them).

Revision ID: 0033
Revises: 0032
"""
from alembic import op


revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

PREFIX_INDEXES = (("ix_process_instances_business_key_prefix", "process_instances", "business_key"),
                  ("ix_cases_reference_prefix", "cases", "reference"))


def upgrade() -> None:
    for name, table, column in PREFIX_INDEXES:
        op.create_index(name, table, [column], unique=False, postgresql_ops={column: "varchar_pattern_ops"})


def downgrade() -> None:
    for name, table, _ in PREFIX_INDEXES:
        op.drop_index(name, table_name=table)
