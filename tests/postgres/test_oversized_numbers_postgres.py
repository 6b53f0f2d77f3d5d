"""Numbers past the INTEGER columns on PostgreSQL, the production database: every numeric id
in an address is a 404 and every integer filter or field answers with a message.

PostgreSQL refuses a too-large parameter differently from SQLite (an out-of-range error
rather than Python's OverflowError), so the checks of tests/test_oversized_numbers.py run
here unchanged against the web app on a database of its own.
"""
import pytest

from engine.database import sqlalchemy_url
from tests.postgres.conftest import postgres_server_url, postgres_url, seeded_postgres_template  # noqa: F401
from tests.test_access_matrix import audit_setup  # noqa: F401  (fixture, on this module's `app`)
from tests.test_oversized_numbers import api_token, check_filters, check_url_ids, qa_lead_client

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(postgres_url):  # noqa: F811  (the web app on PostgreSQL, in place of tests/conftest.py's SQLite one)
    from webapp import create_app
    from webapp.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(postgres_url), "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False, "SECRET_KEY": "test"})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_oversized_ids_and_filters_on_postgresql(app, audit_setup):  # noqa: F811
    client = qa_lead_client(app)
    assert check_url_ids(app, client) == {}
    assert check_filters(app, client, {**audit_setup, "token": api_token(client)}) == {}
