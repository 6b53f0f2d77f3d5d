"""GET /healthz: each part (database, schema, scheduler heartbeat) failing on its own is a 503 naming it."""
import os
from datetime import timedelta

from sqlalchemy import func, select, text

from engine.clock import clock
from engine.database import make_session_factory
from engine.health import newest_migrations
from engine.runtime.heartbeat import beat
from engine.runtime.models import SchedulerHeartbeat
from engine.scheduler import scheduled_jobs


def test_without_any_scheduler_beat_the_scheduler_is_named_failing(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failing" and body["failing"] == ["scheduler"]
    assert body["checks"]["database"]["ok"] and body["checks"]["schema"]["ok"]
    assert "no scheduler has ever run" in body["checks"]["scheduler"]["detail"]


def test_a_recent_beat_makes_everything_ok_without_signing_in(client, database_url):
    beat(make_session_factory(database_url))
    response = client.get("/healthz")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok" and body["failing"] == []
    assert body["checks"]["schema"]["revision"] == sorted(newest_migrations())
    assert body["checks"]["scheduler"]["seconds_since_beat"] <= 5


def test_a_signed_in_browser_gets_the_same_answer_at_once(client, database_url):
    """A signed-in request has read its session first; on SQLite the check's own connection
    must not wait behind that request's transaction and report the database unreachable."""
    from tests.conftest import sign_in
    beat(make_session_factory(database_url))
    sign_in(client, "qa.lead")
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["checks"]["database"] == {"ok": True}


def test_an_old_beat_fails_the_scheduler_and_the_limit_is_configurable(app, client, database_url):
    beat(make_session_factory(database_url))
    clock.advance(timedelta(minutes=4))
    stale = client.get("/healthz")
    assert stale.status_code == 503 and stale.get_json()["failing"] == ["scheduler"]
    assert "not beaten recently" in stale.get_json()["checks"]["scheduler"]["detail"]
    app.config["HEARTBEAT_MAX_AGE_SECONDS"] = 600
    assert client.get("/healthz").status_code == 200


def test_a_schema_behind_the_newest_migration_is_named(client, database_url):
    factory = make_session_factory(database_url)
    beat(factory)
    with factory() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0008'"))
        session.commit()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["failing"] == ["schema"]
    assert response.get_json()["checks"]["schema"]["revision"] == ["0008"]


def test_an_unreachable_database_is_named_and_nothing_else_is_claimed(tmp_path):
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing' / 'dir' / 'qa.sqlite'}",
                      "TESTING": True, "SECRET_KEY": "test"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["database", "schema", "scheduler"]
    assert body["checks"]["database"]["detail"] == "unreachable" and "sqlite" not in response.text


def test_the_scheduler_runs_the_heartbeat_and_keeps_one_row(database_url):
    assert "heartbeat" in {job.name for job in scheduled_jobs()}
    factory = make_session_factory(database_url)
    beat(factory)
    clock.advance(timedelta(minutes=1))
    beat(factory)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) == 1
        assert session.get(SchedulerHeartbeat, "scheduler").process.endswith(f"pid {os.getpid()}")
