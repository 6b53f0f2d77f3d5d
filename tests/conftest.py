"""Shared fixtures: a migrated, seeded SQLite database per test, copied from a template
made once per run, so every test starts from the same known council."""
import sqlite3
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import select

import engine.qa  # noqa: F401  (registers the service operations)
from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.migrations import upgrade
from engine.qa import demo_data
from engine.runtime.registry import publish_all_from_disk

DEMO_SEED = 7


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    url = f"sqlite:///{path}"
    upgrade(url)
    session = make_session_factory(url)()
    publish_all_from_disk(session)
    demo_data.generate(session, seed=DEMO_SEED)
    session.commit()
    session.close()
    session.bind.dispose()
    return path


@pytest.fixture
def database_url(template_database, tmp_path):
    path = tmp_path / "test.sqlite"
    with sqlite3.connect(template_database) as source, sqlite3.connect(path) as target:
        source.backup(target)  # includes what still sits in the template's WAL
    return f"sqlite:///{path}"


@pytest.fixture
def session(database_url):
    db = make_session_factory(database_url)()
    yield db
    db.rollback()
    db.close()


@pytest.fixture(autouse=True)
def reset_clock(monkeypatch):
    """Real time again after each test; meanwhile the dated answers of tests/answers.py follow
    the clock wherever the test moves it (the audit refuses dates in the future)."""
    from tests import answers
    set_clock, advance_clock = clock.set, clock.advance

    def set_following(moment):
        set_clock(moment)
        answers.follow_clock()

    def advance_following(delta):
        advance_clock(delta)
        answers.follow_clock()

    monkeypatch.setattr(clock, "set", set_following)
    monkeypatch.setattr(clock, "advance", advance_following)
    answers.follow_clock()
    yield
    clock.set(None)


def user_named(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


@contextmanager
def running_app(database_url: str, **config):
    """The web app on the test's database, with `config` over the test settings; closed after."""
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "SECRET_KEY": "test",
                      **config})
    yield app
    with app.app_context():
        from webapp.extensions import db
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(database_url):
    """Build apps on the test database with configuration overrides (e.g. REQUIRE_MFA=True)."""
    with ExitStack() as stack:
        yield lambda **overrides: stack.enter_context(running_app(database_url, **overrides))


@pytest.fixture
def app(database_url):
    with running_app(database_url) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def sign_in(client, username: str, password: str = demo_data.DEMO_PASSWORD):
    """Sign `client` in as `username` (a demo login); returns the response."""
    response = client.post("/sign-in", data={"username": username, "password": password})
    assert response.status_code == 302, f"could not sign in as {username}"
    return response
