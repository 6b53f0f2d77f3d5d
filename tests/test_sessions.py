"""Server-side sessions: signing out ends them for every copy of the cookie, they expire
when idle and after an absolute lifetime, and a remember-me cookie cannot revive them."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from engine.accounts import ApiToken, issue_api_token
from engine.clock import clock
from engine.runtime.models import Event
from engine.sessions import SessionPolicy, UserSession, end_all_sessions, live_session, start_session
from tests.conftest import running_app, sign_in, user_named
from webapp.extensions import db

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def copy_of(client, app):
    """A second browser holding a copy of `client`'s session cookie, as an attacker would."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def events_of(app, kind: str) -> list[Event]:
    with app.app_context():
        return db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)).all()


def sessions_of(app, username: str) -> list[UserSession]:
    with app.app_context():
        user = user_named(db.session, username)
        return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                                  .order_by(UserSession.id)).all()


def test_a_copied_cookie_stops_working_after_sign_out(app, client):
    sign_in(client, "qa.lead")
    copy = copy_of(client, app)
    assert copy.get("/inbox").status_code == 200  # the copy is a real, working session

    client.post("/sign-out")

    response = copy.get("/inbox")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    [row] = sessions_of(app, "qa.lead")
    assert row.ended_at is not None and row.end_reason == "signed_out"
    [signed_in] = events_of(app, "user.signed_in")
    [signed_out] = events_of(app, "user.signed_out")
    assert json.loads(signed_in.payload)["session_id"] == json.loads(signed_out.payload)["session_id"] == row.id


def test_the_cookie_holds_only_a_session_key_and_the_server_only_its_digest(app, client):
    sign_in(client, "qa.lead")
    with app.test_request_context():
        from flask import current_app
        data = current_app.session_interface.get_signing_serializer(current_app).loads(
            client.get_cookie("session").value)
    key = data["qa_session"]
    [row] = sessions_of(app, "qa.lead")
    assert len(key) >= 40 and row.key_digest != key and key not in row.key_digest


def test_an_idle_session_expires_and_use_keeps_it_alive(app, client):
    clock.set(START)
    sign_in(client, "qa.lead")
    clock.advance(timedelta(minutes=29))
    assert client.get("/inbox").status_code == 200
    clock.advance(timedelta(minutes=29))  # 58 minutes after signing in, 29 after the last request
    assert client.get("/inbox").status_code == 200
    clock.advance(timedelta(minutes=31))

    response = client.get("/inbox")

    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert b"Your session has ended" in client.get(response.headers["Location"]).data
    [row] = sessions_of(app, "qa.lead")
    assert row.end_reason == "idle_timeout"
    [ended] = events_of(app, "user.session_ended")
    assert '"reason":"idle_timeout"' in ended.payload
    assert client.get("/inbox").status_code == 302  # and it stays ended


def test_the_idle_timer_is_written_at_most_once_a_minute(app, client):
    clock.set(START)
    sign_in(client, "qa.lead")
    for seconds in (10, 20, 30):
        clock.set(START + timedelta(seconds=seconds))
        client.get("/inbox")
    [row] = sessions_of(app, "qa.lead")
    assert row.last_seen_at.replace(tzinfo=timezone.utc) == START
    clock.set(START + timedelta(seconds=61))
    client.get("/inbox")
    [row] = sessions_of(app, "qa.lead")
    assert row.last_seen_at.replace(tzinfo=timezone.utc) == START + timedelta(seconds=61)


@pytest.fixture
def short_app(database_url):
    with running_app(database_url, SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1) as app:
        yield app


def test_a_busy_session_ends_at_its_absolute_lifetime(short_app):
    client = short_app.test_client()
    clock.set(START)
    sign_in(client, "qa.lead")
    for _ in range(14):  # a request every four minutes for 56 minutes: never idle
        clock.advance(timedelta(minutes=4))
        assert client.get("/inbox").status_code == 200
    clock.advance(timedelta(minutes=5))  # 61 minutes after signing in

    assert client.get("/inbox").status_code == 302
    [row] = sessions_of(short_app, "qa.lead")
    assert row.end_reason == "lifetime_reached"


def test_idle_time_is_configurable(short_app):
    client = short_app.test_client()
    clock.set(START)
    sign_in(client, "qa.lead")
    clock.advance(timedelta(minutes=6))
    assert client.get("/inbox").status_code == 302


def test_a_remember_me_cookie_does_not_sign_anyone_in(app):
    with app.app_context():
        user_id = user_named(db.session, "qa.lead").id
    with app.test_request_context():
        cookie = encode_cookie(str(user_id))
    client = app.test_client()
    client.set_cookie("remember_token", cookie)
    response = client.get("/inbox")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_signing_in_again_in_the_same_browser_ends_the_earlier_session(app, client):
    sign_in(client, "qa.lead")
    copy = copy_of(client, app)
    sign_in(client, "qa.lead")
    assert copy.get("/inbox").status_code == 302
    assert client.get("/inbox").status_code == 200
    first, second = sessions_of(app, "qa.lead")
    assert first.end_reason == "replaced" and second.ended_at is None


def test_end_all_sessions_ends_every_session_and_live_token(session):
    clock.set(START)
    person, other = user_named(session, "qa.lead"), user_named(session, "psw")
    _, kept = start_session(session, person.id)
    start_session(session, person.id)
    start_session(session, other.id)
    issue_api_token(session, person)
    clock.set(START - timedelta(hours=9))
    issue_api_token(session, person)  # already expired: nothing to revoke
    clock.set(START)
    session.flush()

    ended = end_all_sessions(session, person.id, "deactivated", actor_id=other.id, keep_session_id=kept.id)
    session.commit()

    assert ended == (1, 1)
    open_sessions = session.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).all()
    assert sorted(row.user_id for row in open_sessions) == sorted([person.id, other.id])
    revoked = session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_not(None))).all()
    assert len(revoked) == 1
    [event] = session.scalars(select(Event).where(Event.kind == "user.sessions_ended")).all()
    assert event.actor_id == other.id and event.subject_id == str(person.id)
    assert '"reason":"deactivated"' in event.payload and '"sessions":1' in event.payload


def test_an_unknown_or_ended_key_is_not_a_session(session):
    assert live_session(session, None, SessionPolicy()) is None
    assert live_session(session, "made-up", SessionPolicy()) is None
