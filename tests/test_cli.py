"""The operator's command line, run as `main([...])` against a fresh SQLite file.

The fresh file (not the shared seeded template) is the point: these commands are
what turns an empty database into the demo, and must be safe to run twice.
"""
import pytest
from sqlalchemy import func, select, text

from engine import cli
from engine.accounts import User
from engine.database import make_engine, make_session_factory
from engine.runtime.models import Event, ProcessVersion
from engine.runtime.registry import MANIFEST_NAME, PROCESSES_DIR

PROCESS_FOLDERS = [folder for folder in PROCESSES_DIR.iterdir() if (folder / MANIFEST_NAME).exists()]


@pytest.fixture
def empty_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("QA_DATABASE_URL", url)
    return url


def count(url, model):
    session = make_session_factory(url)()
    try:
        return session.scalar(select(func.count()).select_from(model))
    finally:
        session.close()
        session.bind.dispose()


def test_setup_demo_builds_the_council_once(empty_url, capsys):
    assert cli.main(["setup-demo", "--seed", "5"]) == 0
    users = count(empty_url, User)
    assert users > 100
    assert count(empty_url, ProcessVersion) == len(PROCESS_FOLDERS)

    assert cli.main(["setup-demo"]) == 0
    output = capsys.readouterr().out
    assert f"already has {users} users" in output
    assert "Unchanged: case_file_audit version 1" in output
    assert count(empty_url, User) == users
    assert count(empty_url, ProcessVersion) == len(PROCESS_FOLDERS)


def test_commands_one_at_a_time(empty_url, capsys):
    assert cli.main(["migrate"]) == 0
    assert count(empty_url, User) == 0
    assert cli.main(["publish"]) == 0
    assert "Published: case_file_audit version 1" in capsys.readouterr().out
    assert cli.main(["seed-demo", "--seed", "5"]) == 0
    assert "Seeded the demo council (seed 5)" in capsys.readouterr().out
    assert count(empty_url, User) > 100


def test_verify_chain_reports_the_head_and_names_a_tampered_event(empty_url, capsys):
    cli.main(["setup-demo", "--seed", "5"])
    capsys.readouterr()
    events = count(empty_url, Event)
    assert events >= 2

    assert cli.main(["verify-chain"]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {events} events, head hash ")

    engine = make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE events SET payload = :payload WHERE seq = 2"),
                           {"payload": '{"cases":1,"seed":5,"teams":1,"workers":1}'})
    engine.dispose()
    assert cli.main(["verify-chain"]) == 1
    error = capsys.readouterr().err
    assert "BROKEN at event 2" in error
    assert "changed after it was written" in error


def test_an_unknown_command_is_refused(empty_url):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["drop-everything"])
    assert exit_info.value.code == 2


def test_create_admin_on_a_fresh_production_database(empty_url, capsys):
    """Migrated, no demo: the first administrator gets a one-time password to change at first sign-in."""
    from engine.accounts import authenticate
    assert cli.main(["migrate"]) == 0
    capsys.readouterr()
    assert cli.main(["create-admin", "jo.admin", "--name", "Jo Admin", "--email", "Jo.Admin@council.example"]) == 0
    printed = capsys.readouterr().out
    one_time = printed.strip().rsplit(" ", 1)[-1]
    session = make_session_factory(empty_url)()
    try:
        admin = authenticate(session, "jo.admin", one_time)
        assert admin is not None and admin.roles == {"system_administrator"}
        assert admin.must_change_password and admin.email == "jo.admin@council.example"
        assert session.scalar(select(func.count()).select_from(User)) == 1
        created = session.scalar(select(Event).where(Event.kind == "person.created"))
        assert created.actor_id is None and "create-admin" in created.payload
    finally:
        session.close()
        session.bind.dispose()
    assert cli.main(["create-admin", "jo.admin", "--name", "Again", "--email", "other@council.example"]) == 1
    assert "already a user 'jo.admin'" in capsys.readouterr().err
    assert cli.main(["create-admin", "sam", "--name", "Sam", "--email", "not-an-email"]) == 1
    assert "work email" in capsys.readouterr().err
    assert count(empty_url, User) == 1
