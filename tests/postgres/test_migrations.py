"""The migrations on PostgreSQL, the production database: the schema they build
matches the models exactly, and downgrading leaves nothing behind but Alembic's
own bookkeeping (no tables, no orphaned sequences)."""
import pytest
from sqlalchemy import inspect

from engine.database import make_engine
from engine.schema import metadata
from engine.migrations import upgrade
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
