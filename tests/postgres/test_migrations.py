"""The migrations on PostgreSQL, the production database: the schema they build
matches the models exactly, and downgrading leaves nothing behind but Alembic's
own bookkeeping (no tables, no orphaned sequences)."""
import pytest
from alembic import command
from sqlalchemy import inspect, text

from engine.database import make_engine
from engine.migrations import alembic_config, upgrade
from engine.schema import metadata
from tests.test_migrations import (check_observation_migration_keeps_audit_requests, downgrade_to_base,
                                   schema_differences, table_names)

pytestmark = pytest.mark.postgres


def sequence_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_sequence_names())
    finally:
        engine.dispose()


def test_postgres_upgrade_matches_models_and_downgrades_cleanly(empty_postgres_url):
    url = empty_postgres_url
    upgrade(url)
    assert schema_differences(url) == []
    assert set(metadata.tables) <= table_names(url)
    downgrade_to_base(url)
    assert table_names(url) == {"alembic_version"}
    assert sequence_names(url) == set()
    upgrade(url)
    assert schema_differences(url) == []


def test_postgres_observation_migration_keeps_audit_requests(empty_postgres_url):
    check_observation_migration_keeps_audit_requests(empty_postgres_url)


def _compression(url: str) -> dict[str, str]:
    """Each large column's compression setting: 'l' for LZ4, '' for the server's default (pglz)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(text(
                "SELECT attrelid::regclass::text || '.' || attname, attcompression::text FROM pg_attribute "
                "WHERE (attrelid::regclass::text, attname) IN (('process_instances', 'serialized'), "
                "('task_submissions', 'answers'), ('instance_starts', 'answers'))")).all())
    finally:
        engine.dispose()


def test_the_large_columns_written_at_every_step_are_compressed_with_lz4(empty_postgres_url):
    upgrade(empty_postgres_url)
    assert _compression(empty_postgres_url) == {"process_instances.serialized": "l",
                                                "task_submissions.answers": "l", "instance_starts.answers": "l"}
    command.downgrade(alembic_config(empty_postgres_url), "0024")
    assert set(_compression(empty_postgres_url).values()) == {""}
