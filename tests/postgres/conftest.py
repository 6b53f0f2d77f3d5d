"""Fixtures that give each PostgreSQL test a database of its own.

The server comes from QA_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres).
Without it these tests are skipped, so a laptop with only SQLite still runs the rest
of the suite; CI sets QA_REQUIRE_POSTGRES=1 so that a missing or unreachable server
fails the run instead of silently skipping the database we ship on.

One template database per run is migrated, given the published models and the
demo council, then copied (`CREATE DATABASE ... TEMPLATE`, a file copy) for every
test that needs seeded data: each test starts from the same known council without
paying for migrations and demo data each time, and no test sees another's audits.
Every database made here is dropped afterwards, even if connections were left open.
"""
import os

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import engine.qa  # noqa: F401  (registers the service operations the demo process calls)
from engine.database import make_engine, make_session_factory, temporary_postgres_database
from engine.migrations import upgrade
from engine.qa import demo_data
from engine.runtime.registry import publish_all_from_disk
from tests.conftest import DEMO_SEED

SERVER_URL_VARIABLE = "QA_TEST_POSTGRES_URL"
REQUIRE_VARIABLE = "QA_REQUIRE_POSTGRES"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The maintenance URL of the test server, or skip (fail when PostgreSQL is required)."""
    required = os.environ.get(REQUIRE_VARIABLE) == "1"
    url = os.environ.get(SERVER_URL_VARIABLE)
    if not url:
        if required:
            pytest.fail(f"{REQUIRE_VARIABLE}=1 but {SERVER_URL_VARIABLE} is not set", pytrace=False)
        pytest.skip(f"set {SERVER_URL_VARIABLE} to run the PostgreSQL tests")
    server = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver or network error means the same: no server
        message = f"cannot reach the PostgreSQL server at {SERVER_URL_VARIABLE}: {error}"
        if required:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    finally:
        server.dispose()
    return url


def new_database(server_url: str, template: str | None = None):
    """A uniquely named database for one test (optionally a copy of `template`), dropped afterwards."""
    return temporary_postgres_database(server_url, "qa_test", template)


def seed(url: str) -> None:
    """Migrate `url` to head, publish the models on disk and generate the demo council."""
    upgrade(url)
    factory = make_session_factory(url)
    with factory() as session:
        publish_all_from_disk(session)
        demo_data.generate(session, seed=DEMO_SEED)
        session.commit()
    factory.kw["bind"].dispose()


@pytest.fixture
def empty_postgres_url(postgres_server_url):
    """A new database with nothing in it, for migrations to start from."""
    with new_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def seeded_postgres_template(postgres_server_url):
    """The name of a migrated, seeded database that per-test databases are copied from."""
    with new_database(postgres_server_url) as url:
        seed(url)
        yield make_url(url).database


@pytest.fixture
def postgres_url(postgres_server_url, seeded_postgres_template):
    """A fresh copy of the seeded database for one test."""
    with new_database(postgres_server_url, template=seeded_postgres_template) as url:
        yield url


@pytest.fixture
def session_factory(postgres_url):
    """Sessions on this test's database; several threads may each open their own."""
    factory = make_session_factory(postgres_url)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def session(session_factory):
    """Overrides the SQLite `session` of tests/conftest.py, so engine tests written
    against it run unchanged on PostgreSQL when imported here."""
    db = session_factory()
    yield db
    db.rollback()
    db.close()
