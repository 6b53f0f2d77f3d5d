"""Password guessing: rate limits per address and per username (Flask-Limiter), a lock-out
kept in the database after too many failures, and the same work and the same answers
for usernames that do not exist. These tests run with the limits on."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import engine.accounts
from engine.clock import clock
from engine.qa.demo_data import DEMO_PASSWORD
from engine.runtime.models import Event
from tests.conftest import running_app
from webapp.extensions import db

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LOCKED = "Too many attempts. Try again in 15 minutes."


@pytest.fixture
def lockout_app(database_url):
    """Lock-out after three failures; the rate limits set high so only the lock-out acts."""
    with running_app(database_url, LOCKOUT_ATTEMPTS=3, SIGN_IN_LIMIT_PER_ACCOUNT="100 per minute",
                     SIGN_IN_LIMIT_PER_ADDRESS="100 per minute") as app:
        yield app


def form(client, username, password, address="192.0.2.1"):
    return client.post("/sign-in", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def api(client, username, password, address="192.0.2.1"):
    return client.post("/api/v1/tokens", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def page(response, username: str) -> str:
    """The page as text, without the username typed and the per-page CSRF token."""
    text = response.get_data(as_text=True).replace(username, "X")
    return re.sub(r'name="csrf_token" value="[^"]*"', "", text)


def events_of(app, kind):
    with app.app_context():
        return db.session.scalars(select(Event).where(Event.kind == kind)).all()


# ------------------------------------------------------------------ lock-out

def test_the_form_locks_a_username_out_records_it_and_unlocks_after_the_time(lockout_app):
    client = lockout_app.test_client()
    clock.set(START)
    assert [form(client, "qa.lead", "wrong").status_code for _ in range(2)] == [401, 401]

    third = form(client, "qa.lead", "wrong")
    assert third.status_code == 429 and LOCKED.encode() in third.data

    right = form(client, "qa.lead", DEMO_PASSWORD)  # even the right password is refused now
    assert right.status_code == 429 and LOCKED.encode() in right.data
    [locked] = events_of(lockout_app, "user.locked_out")
    payload = json.loads(locked.payload)
    assert payload["username"] == "qa.lead" and payload["via"] == "form" and payload["address"] == "192.0.2.1"
    assert locked.subject_type == "user"

    clock.advance(timedelta(minutes=10))
    assert b"Try again in 5 minutes." in form(client, "qa.lead", DEMO_PASSWORD).data
    clock.advance(timedelta(minutes=6))
    assert form(client, "qa.lead", DEMO_PASSWORD).status_code == 302


def test_the_token_api_locks_out_the_same_way(lockout_app):
    client = lockout_app.test_client()
    clock.set(START)
    assert [api(client, "qa.lead", "wrong").status_code for _ in range(2)] == [401, 401]
    third = api(client, "qa.lead", "wrong")
    assert third.status_code == 429 and third.get_json()["message"] == LOCKED
    assert api(client, "qa.lead", DEMO_PASSWORD).status_code == 429
    [locked] = events_of(lockout_app, "user.locked_out")
    assert json.loads(locked.payload)["via"] == "api"
    clock.advance(timedelta(minutes=16))
    assert api(client, "qa.lead", DEMO_PASSWORD).status_code == 201


def test_the_form_and_the_api_count_failures_together(lockout_app):
    client = lockout_app.test_client()
    clock.set(START)
    form(client, "qa.lead", "wrong")
    api(client, "qa.lead", "wrong")
    assert form(client, "qa.lead", "wrong").status_code == 429


def test_an_unknown_username_is_locked_out_exactly_like_a_real_one(lockout_app):
    client = lockout_app.test_client()
    clock.set(START)
    real = [form(client, "qa.lead", "wrong") for _ in range(4)]
    unknown = [form(client, "no.such.person", "wrong") for _ in range(4)]
    assert [r.status_code for r in real] == [r.status_code for r in unknown] == [401, 401, 429, 429]
    assert [page(r, "qa.lead") for r in real] == [page(r, "no.such.person") for r in unknown]
    assert len(events_of(lockout_app, "user.locked_out")) == 2


def test_a_success_clears_the_count_of_failures(lockout_app):
    client = lockout_app.test_client()
    clock.set(START)
    form(client, "qa.lead", "wrong")
    form(client, "qa.lead", "wrong")
    assert form(client, "qa.lead", DEMO_PASSWORD).status_code == 302
    client.post("/sign-out")
    assert [form(client, "qa.lead", "wrong").status_code for _ in range(2)] == [401, 401]


# ------------------------------------------------------------------ rate limits

def test_the_form_is_rate_limited_per_username(app):
    """Default limits: five failed attempts a minute for one username."""
    client = app.test_client()
    assert [form(client, "qa.lead", f"wrong{n}").status_code for n in range(5)] == [401] * 5
    limited = form(client, "qa.lead", DEMO_PASSWORD, address="198.51.100.7")  # from elsewhere too
    assert limited.status_code == 429 and b"Too many attempts. Try again in 1 minute." in limited.data
    assert form(client, "psw", DEMO_PASSWORD).status_code == 302  # other people are not held up


def test_the_form_is_rate_limited_per_address(database_url):
    with running_app(database_url, SIGN_IN_LIMIT_PER_ADDRESS="3 per minute") as app:
        client = app.test_client()
        assert [form(client, name, "wrong").status_code for name in ("qa.lead", "psw", "director")] == [401] * 3
        limited = form(client, "process.owner", DEMO_PASSWORD)
        assert limited.status_code == 429 and b"Too many attempts" in limited.data
        assert form(client, "process.owner", DEMO_PASSWORD, address="198.51.100.7").status_code == 302


def test_the_token_api_is_rate_limited_per_username(app):
    client = app.test_client()
    assert [api(client, "qa.lead", "wrong").status_code for _ in range(5)] == [401] * 5
    limited = api(client, "qa.lead", DEMO_PASSWORD)
    assert limited.status_code == 429
    assert limited.get_json()["message"] == "Too many attempts. Try again in 1 minute."
    assert "Retry-After" in limited.headers


def test_successful_sign_ins_are_never_limited(app):
    client = app.test_client()
    for _ in range(12):
        assert form(client, "qa.lead", DEMO_PASSWORD).status_code == 302
        assert api(client, "qa.lead", DEMO_PASSWORD).status_code == 201


def test_limits_can_be_switched_off_by_configuration(database_url):
    with running_app(database_url, RATELIMIT_ENABLED=False, LOCKOUT_ATTEMPTS=1000) as app:
        client = app.test_client()
        assert {form(client, "qa.lead", "wrong").status_code for _ in range(8)} == {401}


# ------------------------------------------------------------------ equal work

@pytest.fixture
def hash_checks(monkeypatch):
    """Every password-hash comparison made, as (stored hash, password)."""
    calls = []
    real = engine.accounts.check_password_hash

    def spy(stored, password):
        calls.append((stored, password))
        return real(stored, password)

    monkeypatch.setattr(engine.accounts, "check_password_hash", spy)
    return calls


@pytest.mark.parametrize("attempt", [form, api])
def test_an_unknown_username_costs_a_password_hash_too(app, hash_checks, attempt):
    response = attempt(app.test_client(), "no.such.person", "some-guess")
    assert response.status_code == 401
    assert len(hash_checks) == 1
    stored, password = hash_checks[0]
    assert password == "some-guess" and stored.startswith("scrypt:")


def test_a_real_username_costs_the_same_one_hash(app, hash_checks):
    form(app.test_client(), "qa.lead", "some-guess")
    assert [password for _, password in hash_checks] == ["some-guess"]
    assert hash_checks[0][0].split("$")[0] == engine.accounts._dummy_hash().split("$")[0]


def test_behind_a_trusted_proxy_the_limit_is_per_client_address(database_url):
    with running_app(database_url, SIGN_IN_LIMIT_PER_ADDRESS="2 per minute", TRUST_PROXY_COUNT=1) as app:
        assert_limited_per_client(app)


def assert_limited_per_client(app):
    client = app.test_client()

    def through_proxy(username, client_address):
        return client.post("/sign-in", data={"username": username, "password": "wrong"},
                           environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"X-Forwarded-For": client_address})

    assert [through_proxy(name, "203.0.113.5").status_code for name in ("qa.lead", "psw", "director")] == \
        [401, 401, 429]
    assert through_proxy("director", "203.0.113.6").status_code == 401  # another person behind the same proxy
    with app.app_context():
        addresses = {json.loads(event.payload)["address"]
                     for event in db.session.scalars(select(Event).where(Event.kind == "user.sign_in_failed"))}
    assert addresses == {"203.0.113.5", "203.0.113.6"}
