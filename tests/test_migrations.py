"""The migrations build exactly the schema the models describe, and can be undone.

A model change without a migration (or a migration that drifts from the models) is
found here, before it reaches a council's database. The same checks run on
PostgreSQL in tests/postgres/test_migrations.py.
"""
from datetime import date, datetime, timezone
from itertools import count

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, MetaData, Table, inspect, text
from sqlalchemy.exc import IntegrityError

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


def _sample(column, number: int):
    """A value of the column's type, different for each `number` (unique columns stay unique)."""
    python_type = column.type.python_type if not isinstance(column.type, JSON) else dict
    if python_type is bool:
        return False
    if python_type is int:
        return number
    if python_type is datetime:
        return datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    if python_type is date:
        return date(2026, 1, 5)
    if python_type is dict:
        return {}
    text = f"m{number}"
    return text[-column.type.length:] if getattr(column.type, "length", None) else text


_SAMPLE_NUMBERS = count(1)


def insert_row(connection, table_name: str, **values) -> int:
    """Insert a row into `table_name` as the database stands (reflected, not the models): the
    columns given, and for every other required column a sample value or, for a reference,
    a new row of the table it references. Returns the new row's id."""
    table = Table(table_name, MetaData(), autoload_with=connection)
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        reference = next(iter(column.foreign_keys), None)
        row[column.name] = (insert_row(connection, reference.target_fullname.split(".")[0])
                            if reference is not None else _sample(column, next(_SAMPLE_NUMBERS)))
    return connection.execute(table.insert().values(**row)).inserted_primary_key[0]


def check_observation_migration_keeps_audit_requests(url: str) -> None:
    """Before the observation migration: an audit's feedback request and its answer. After it:
    the request is an audit request keyed to the audit's instance, an observation request can
    be added, and a row that is both or neither is refused. Down again: the audit request is
    still there and the observation request is gone."""
    config = alembic_config(url)
    before = ScriptDirectory.from_config(config).get_revision("0028").down_revision
    command.upgrade(config, before)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            instance = insert_row(connection, "process_instances")
            audit = insert_row(connection, "audits", instance_id=instance)
            request = insert_row(connection, "feedback_requests", audit_id=audit, audience="parent_carer",
                                 channel="letter", token_digest="a" * 64)
            insert_row(connection, "feedback_responses", request_id=request, audit_id=audit,
                       audience="parent_carer", answers={"respect": "yes"})
        command.upgrade(config, "0028")
        with engine.begin() as connection:
            kept = connection.execute(text("SELECT subject_kind, audit_id, instance_id FROM feedback_requests "
                                           "WHERE id = :id"), {"id": request}).one()
            assert tuple(kept) == ("audit", audit, instance)
            observation = insert_row(connection, "feedback_requests", subject_kind="observation", audit_id=None,
                                     instance_id=instance, audience="professional", channel="letter",
                                     token_digest="b" * 64)
            insert_row(connection, "feedback_responses", request_id=observation, audit_id=None,
                       audience="professional", answers={})
        for both_or_neither in ({"subject_kind": "observation", "audit_id": audit},
                                {"subject_kind": "audit", "audit_id": None}):
            with pytest.raises(IntegrityError), engine.begin() as connection:
                insert_row(connection, "feedback_requests", instance_id=instance, audience="professional",
                           channel="letter", token_digest="c" * 64, **both_or_neither)
        command.downgrade(config, before)
        with engine.begin() as connection:
            assert connection.execute(text("SELECT id, audit_id FROM feedback_requests")).all() == [(request, audit)]
            assert connection.execute(text("SELECT request_id FROM feedback_responses")).scalars().all() == [request]
    finally:
        engine.dispose()


def test_sqlite_observation_migration_keeps_audit_requests(tmp_path):
    check_observation_migration_keeps_audit_requests(f"sqlite:///{tmp_path / 'observation.sqlite'}")


def test_tracked_recommendations_move_into_the_actions_tracker(tmp_path):
    """0027 turns each row of activity_recommendations into a tracker row owned by a person."""
    import sqlite3
    url = f"sqlite:///{tmp_path / 'recommendations.db'}"
    command.upgrade(alembic_config(url), "0021")
    with sqlite3.connect(tmp_path / "recommendations.db") as db:  # plain SQL: the models are already past 0021
        db.executescript("""
            INSERT INTO users (id, username, display_name, job_title, password_hash, active) VALUES
              (1, 'hos', 'Head of service', 'Head', 'x', 1), (2, 'psw', 'PSW', 'PSW', 'x', 1),
              (3, 'lead', 'QA lead', 'QA lead', 'x', 1);
            INSERT INTO user_roles (user_id, role) VALUES (3, 'qa_lead');
            INSERT INTO services (id, name, head_of_service_id) VALUES (1, 'Children in Care', 1);
            INSERT INTO process_instances (id, process_version_id, process_key, business_key, status, revision,
              serialized, started_at, started_by_id, updated_at) VALUES
              (1, 1, 'thematic_audit', 'THM-0001', 'completed', 1, '{}', '2026-03-02 09:00:00', 2, '2026-03-02 09:00:00');
            INSERT INTO activity_recommendations (id, activity, reference, instance_id, service_id, text, owner, due_on,
              status, evidence, completed_at, completed_by_id) VALUES
              (1, 'thematic', 'THM-0001/R1', 1, 1, 'Add permanence to the template', 'head_of_service', '2026-09-01',
               'open', NULL, NULL, NULL),
              (2, 'thematic', 'THM-0001/R2', 1, 1, 'Train on permanence', 'qa_lead', '2026-10-01',
               'completed', 'Training held', '2026-09-20 10:00:00', 3);
        """)
    upgrade(url)
    with sqlite3.connect(tmp_path / "recommendations.db") as db:
        rows = db.execute("SELECT source, source_reference, ref, instance_id, service_id, description, owner_id, "
                          "owner_role, due_on, status, completed_on, evidence, verified_by_id, agreed_on "
                          "FROM audit_actions ORDER BY ref").fetchall()
    assert rows == [
        ("thematic", "THM-0001", "R1", 1, 1, "Add permanence to the template", 1, "head_of_service", "2026-09-01",
         "not_started", None, None, None, "2026-03-02"),
        ("thematic", "THM-0001", "R2", 1, 1, "Train on permanence", 3, "qa_lead", "2026-10-01",
         "completed", "2026-09-20", "Training held", 3, "2026-03-02")]
    assert "activity_recommendations" not in table_names(url)
