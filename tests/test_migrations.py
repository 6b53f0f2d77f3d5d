"""The migrations build exactly the schema the models describe, and can be undone.

A model change without a migration (or a migration that drifts from the models) is
found here, before it reaches a council's database. The same checks run on
PostgreSQL in tests/postgres/test_migrations.py.
"""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.database import make_engine
from engine.schema import metadata
from engine.migrations import alembic_config, upgrade


def schema_differences(url: str) -> list:
    """What autogenerate would put in a new migration for the database at `url`."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def downgrade_to_base(url: str) -> None:
    command.downgrade(alembic_config(url), "base")


def test_sqlite_upgrade_matches_models_and_downgrades_cleanly(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    upgrade(url)
    assert schema_differences(url) == []
    assert set(metadata.tables) <= table_names(url)
    downgrade_to_base(url)
    assert table_names(url) == {"alembic_version"}
    upgrade(url)
    assert schema_differences(url) == []
