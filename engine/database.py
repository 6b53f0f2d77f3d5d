"""Database plumbing shared by the web app, the CLI and the scheduler.

The engine uses plain SQLAlchemy so it can run without Flask; the web app hands
Flask-SQLAlchemy the same declarative base, so both see one set of tables.
"""
import os
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, insert, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

PROJECT_ROOT = Path(__file__).resolve().parents[1]
INSTANCE_DIR = PROJECT_ROOT / "instance"
DEFAULT_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'qa.sqlite'}"


class Base(DeclarativeBase):
    """Declarative base for every table the product owns."""


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (naive datetimes are a bug source)."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes even for timezone columns; we store UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


@event.listens_for(Engine, "connect")
def _configure_sqlite_connection(dbapi_connection, connection_record):
    """Make SQLite behave: foreign keys on, WAL for readers beside a writer, and
    transactions begun by us (see `_begin_immediate`) rather than by pysqlite."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_immediate(connection):
    """SQLite: take the write lock when a transaction begins.

    Every state change re-reads the instance and the event-chain head and writes
    them back; with a deferred transaction two writers could both read and one would
    fail on commit. BEGIN IMMEDIATE makes the second wait its turn instead.
    PostgreSQL gets the same guarantee from row locks and revision checks.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_rows(session: Session, entity: type, rows: list[dict]) -> list:
    """Insert `rows` (dicts with the same keys) of a mapped class in one statement and
    return their objects in the order of `rows`, so each can be paired with what it was
    written for; much cheaper than the ORM's unit of work for a batch.

    PostgreSQL's order is guaranteed by the sentinel SQLAlchemy adds to the multi-row
    INSERT (`sort_by_parameter_order`). SQLite has no such sentinel (SQLAlchemy would fall
    back to a statement per row): it returns the rows of one INSERT in no set order, but
    gives them ids in the order of its VALUES, each one above the largest, while
    BEGIN IMMEDIATE keeps every other writer out; sorted by id, they are in order."""
    if not rows:
        return []  # an INSERT without parameters would add one row of defaults
    if session.get_bind().dialect.name == "sqlite":
        return sorted(session.scalars(insert(entity).returning(entity), rows).all(), key=lambda row: row.id)
    return session.scalars(insert(entity).returning(entity, sort_by_parameter_order=True), rows).all()


def database_url_from_environment() -> str:
    """QA_DATABASE_URL, or the demo's SQLite file in instance/ (created on first use)."""
    url = os.environ.get("QA_DATABASE_URL")
    if url:
        return url
    INSTANCE_DIR.mkdir(exist_ok=True)
    return DEFAULT_DATABASE_URL


def make_engine(url: str = DEFAULT_DATABASE_URL, **options):
    """Create an engine for `url` (SQLite or PostgreSQL).

    Bound values are left out of SQL error messages (`hide_parameters`): they may be case
    content, and error messages end up in logs."""
    return create_engine(sqlalchemy_url(url), **{"hide_parameters": True, **options})


def sqlalchemy_url(url: str) -> str:
    """Accept the usual postgresql:// spelling and use the psycopg 3 driver for it."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_session_factory(url: str = DEFAULT_DATABASE_URL):
    """A session factory for code that runs outside Flask (CLI, scheduler, bench)."""
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)


@contextmanager
def temporary_postgres_database(server_url: str, prefix: str, template: str | None = None):
    """A new, uniquely named PostgreSQL database (a copy of `template` if given) for tests and
    benchmarks; yields its URL and drops it afterwards, ending any connection left open."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    server = make_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()
