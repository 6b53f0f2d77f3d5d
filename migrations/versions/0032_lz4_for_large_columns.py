"""On PostgreSQL, the large columns written at every step are compressed with LZ4.

The serialized workflow (50–80 KB for a case file audit) is rewritten at every task
completion, timer and start. PostgreSQL compresses such a value with its own pglz by
default; measured on the project's machine, an UPDATE of an 80 KB workflow took 2.75 ms
with pglz and 0.34 ms with LZ4, which also stored it in 10 KB instead of 27 KB. LZ4
needs PostgreSQL 14 built with it (Debian's and the official images are); where it is
missing, the columns keep pglz and everything works as before. Rows already written keep
their compression until they are next written. SQLite has no such setting.

Revision ID: 0032
Revises: 0029
"""
from alembic import op
import sqlalchemy as sa

revision = '0032'
down_revision = '0029'
branch_labels = None
depends_on = None

# (table, column): the workflow, and the answers kept at each completion and start.
LARGE_COLUMNS = (("process_instances", "serialized"), ("task_submissions", "answers"),
                 ("instance_starts", "answers"))


def _lz4_available(connection) -> bool:
    return connection.dialect.name == "postgresql" and bool(connection.scalar(sa.text(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")))


def _set_compression(method: str) -> None:
    connection = op.get_bind()
    if not _lz4_available(connection):
        return
    for table, column in LARGE_COLUMNS:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}')


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")
