"""Alembic environment: the schema is the metadata of `engine` (runtime and QA domain)."""
from alembic import context

from engine.database import make_engine
from engine.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copying it and dropping the old one, which other
        # tables reference: SQLite's foreign key checks are off while migrations run.
        _sqlite_foreign_keys(connection, "OFF")
    try:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=sqlite, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, "ON")


def _sqlite_foreign_keys(connection, setting: str) -> None:
    """Set the pragma on the driver's connection, outside any transaction (inside one it is ignored)."""
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={setting}")
    cursor.close()


run_migrations_online()
