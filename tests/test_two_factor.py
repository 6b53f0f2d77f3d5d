"""Two-factor sign-in with authenticator codes: set-up, the code step after the password,
the drift window, reuse, recovery codes, the API, and QA_REQUIRE_MFA for QA leads.

Time is the product's injectable clock, so each 30-second step is chosen, not waited for.
"""
import json
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select

from engine import two_factor
from engine.clock import clock
from engine.runtime.models import Event
from tests.conftest import user_named
from webapp.extensions import db

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
STEP = timedelta(seconds=30)


@pytest.fixture(autouse=True)
def fixed_time():
    clock.set(START)


def code_now(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + offset_steps * STEP)


def events_of(app, kind: str, username: str) -> list[Event]:
    with app.app_context():
        user = user_named(db.session, username)
        return db.session.scalars(select(Event).where(Event.kind == kind, Event.subject_id == str(user.id))).all()


def password_step(client, username: str):
    return client.post("/sign-in", data={"username": username, "password": "demo-password"})


def signed_in(client) -> bool:
    return client.get("/inbox").status_code == 200


def enrol(client, username: str) -> tuple[str, list[str]]:
    """Sign in with a password only and turn two-factor on from the account page."""
    assert password_step(client, username).status_code == 302
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    done = client.post("/account/two-factor", data={"action": "confirm", "code": code_now(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<code class=\"app-secret\">([a-z2-9-]{19})</code>", done.get_data(as_text=True))
    client.post("/sign-out")
    return secret, codes


@pytest.fixture
def enrolled(make_app):
    """An app where tm.safeguarding1 has just set up two-factor: (app, secret, recovery codes)."""
    app = make_app()
    secret, codes = enrol(app.test_client(), "tm.safeguarding1")
    return app, secret, codes


def at_code_step(app):
    """A browser that has passed tm.safeguarding1's password step."""
    client = app.test_client()
    password_step(client, "tm.safeguarding1")
    return client


def test_setting_up_shows_the_secret_as_text_uri_and_qr_code_and_needs_a_right_code(make_app):
    app = make_app()
    client = app.test_client()
    password_step(client, "tm.safeguarding1")
    assert 'href="/account/two-factor">Two-factor sign-in</a>' in client.get("/inbox").get_data(as_text=True)
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert f"otpauth://totp/Northbridge%20Council:tm.safeguarding1?secret={secret}" in page
    assert '<svg role="img" aria-label="QR code' in page
    assert secret in client.get("/account/two-factor").get_data(as_text=True), "a reload keeps the same secret"

    wrong = client.post("/account/two-factor", data={"action": "confirm", "code": code_now(secret, 5)})
    assert wrong.status_code == 400 and "Enter the 6-digit code" in wrong.get_data(as_text=True)
    with app.app_context():
        assert not two_factor.is_enrolled(db.session, user_named(db.session, "tm.safeguarding1"))

    done = client.post("/account/two-factor", data={"action": "confirm", "code": code_now(secret)})
    codes = re.findall(r"<code class=\"app-secret\">([a-z2-9-]{19})</code>", done.get_data(as_text=True))
    assert len(codes) == two_factor.RECOVERY_CODE_COUNT == len(set(codes))
    with app.app_context():
        user = user_named(db.session, "tm.safeguarding1")
        assert two_factor.is_enrolled(db.session, user)
        stored = db.session.scalars(select(two_factor.RecoveryCode.code_digest)
                                    .where(two_factor.RecoveryCode.user_id == user.id)).all()
        assert len(stored) == len(codes) and not set(codes) & set(stored), "only digests are stored"
    assert len(events_of(app, "user.two_factor_enrolled", "tm.safeguarding1")) == 1
    assert [e.payload for e in events_of(app, "user.two_factor_failed", "tm.safeguarding1")] == ['{"during":"enrolment"}']
    assert "Two-factor sign-in is <strong>on</strong>" in client.get("/account/two-factor").get_data(as_text=True)


def test_the_password_alone_does_not_sign_in_an_enrolled_person(enrolled):
    app, secret, _ = enrolled
    clock.advance(STEP)
    client = app.test_client()
    assert password_step(client, "tm.safeguarding1").headers["Location"].endswith("/sign-in/two-factor")
    assert not signed_in(client)

    wrong = client.post("/sign-in/two-factor", data={"code": code_now(secret, 3)})
    assert wrong.status_code == 401 and "Enter a correct code" in wrong.get_data(as_text=True)
    assert not signed_in(client)

    right = client.post("/sign-in/two-factor", data={"code": code_now(secret)})
    assert right.status_code == 302 and right.headers["Location"].endswith("/inbox")
    assert signed_in(client)
    kinds = [json.loads(e.payload) for e in events_of(app, "user.signed_in", "tm.safeguarding1")]
    assert (kinds[-1]["method"], kinds[-1]["second_factor"]) == ("password", "totp") and kinds[-1]["session_id"]
    assert len(events_of(app, "user.two_factor_failed", "tm.safeguarding1")) == 1


def test_a_code_one_step_either_side_is_accepted_but_not_two(enrolled):
    app, secret, _ = enrolled
    clock.advance(10 * STEP)
    client = at_code_step(app)
    assert client.post("/sign-in/two-factor", data={"code": code_now(secret, -2)}).status_code == 401
    assert client.post("/sign-in/two-factor", data={"code": code_now(secret, +2)}).status_code == 401
    assert client.post("/sign-in/two-factor", data={"code": code_now(secret, -1)}).status_code == 302


def test_a_used_code_cannot_be_used_again(enrolled):
    app, secret, _ = enrolled
    first = at_code_step(app)
    # The code that confirmed set-up is still inside its 30 seconds, but it was used.
    assert first.post("/sign-in/two-factor", data={"code": code_now(secret)}).status_code == 401
    clock.advance(STEP)
    code = code_now(secret)
    assert first.post("/sign-in/two-factor", data={"code": code}).status_code == 302

    second = at_code_step(app)
    assert second.post("/sign-in/two-factor", data={"code": code}).status_code == 401
    assert not signed_in(second)
    with app.app_context():
        credential = db.session.get(two_factor.TotpCredential, user_named(db.session, "tm.safeguarding1").id)
        assert credential.last_used_step == int((START + STEP).timestamp()) // 30


def test_a_recovery_code_works_once(enrolled):
    app, _, codes = enrolled
    first = at_code_step(app)
    assert first.post("/sign-in/two-factor", data={"code": codes[0].upper()}).status_code == 302
    assert signed_in(first)
    assert "7 unused recovery codes" in first.get("/account/two-factor").get_data(as_text=True)

    second = at_code_step(app)
    assert second.post("/sign-in/two-factor", data={"code": codes[0]}).status_code == 401
    assert not signed_in(second)
    used = events_of(app, "user.recovery_code_used", "tm.safeguarding1")
    assert [e.payload for e in used] == ['{"during":"sign_in","left":7}']


def test_too_many_wrong_codes_send_the_person_back_to_the_password(enrolled):
    app, secret, _ = enrolled
    clock.advance(STEP)
    client = at_code_step(app)
    for _ in range(5):
        assert client.post("/sign-in/two-factor", data={"code": "000000"}).status_code == 401
    late = client.post("/sign-in/two-factor", data={"code": code_now(secret)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/sign-in")
    assert not signed_in(client)


def test_turning_it_off_needs_a_code_and_is_recorded(enrolled):
    app, secret, _ = enrolled
    clock.advance(STEP)
    client = at_code_step(app)
    client.post("/sign-in/two-factor", data={"code": code_now(secret)})
    clock.advance(STEP)
    refused = client.post("/account/two-factor", data={"action": "disable", "code": "123456"})
    assert refused.status_code == 400
    with app.app_context():
        assert two_factor.is_enrolled(db.session, user_named(db.session, "tm.safeguarding1"))
    client.post("/account/two-factor", data={"action": "disable", "code": code_now(secret)})
    with app.app_context():
        assert not two_factor.is_enrolled(db.session, user_named(db.session, "tm.safeguarding1"))
    assert len(events_of(app, "user.two_factor_disabled", "tm.safeguarding1")) == 1
    again = app.test_client()
    assert password_step(again, "tm.safeguarding1").headers["Location"].endswith("/inbox")


def test_qa_lead_must_set_it_up_at_sign_in_when_mfa_is_required(make_app):
    app = make_app(REQUIRE_MFA=True)
    client = app.test_client()
    response = password_step(client, "qa.lead")
    assert response.headers["Location"].endswith("/sign-in/two-factor/set-up")
    assert not signed_in(client)
    page = client.get("/sign-in/two-factor/set-up").get_data(as_text=True)
    assert "Your role must use a code" in page
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert client.post("/sign-in/two-factor/set-up", data={"code": "111111"}).status_code == 401
    assert not signed_in(client)
    done = client.post("/sign-in/two-factor/set-up", data={"code": code_now(secret)})
    assert "Your recovery codes" in done.get_data(as_text=True)
    assert signed_in(client)
    assert "cannot be turned off" in client.get("/account/two-factor").get_data(as_text=True)
    assert client.post("/account/two-factor", data={"action": "disable", "code": "123456"}).status_code == 400
    with app.app_context():
        assert two_factor.is_enrolled(db.session, user_named(db.session, "qa.lead"))

    # A team manager is not required to, and signs in with the password alone.
    other = app.test_client()
    assert password_step(other, "tm.safeguarding1").headers["Location"].endswith("/inbox")


def test_without_the_setting_a_qa_lead_is_not_asked(make_app):
    client = make_app().test_client()
    assert password_step(client, "qa.lead").headers["Location"].endswith("/inbox")


def test_the_api_wants_the_code_too(enrolled):
    app, secret, _ = enrolled
    clock.advance(STEP)
    client = app.test_client()
    without = client.post("/api/v1/tokens", json={"username": "tm.safeguarding1", "password": "demo-password"})
    assert without.status_code == 401 and "token" not in without.get_json()
    good = client.post("/api/v1/tokens", json={"username": "tm.safeguarding1", "password": "demo-password",
                                               "code": code_now(secret)})
    assert good.status_code == 201 and good.get_json()["token"]


def test_the_api_refuses_a_required_person_who_has_not_set_it_up(make_app):
    client = make_app(REQUIRE_MFA=True).test_client()
    response = client.post("/api/v1/tokens", json={"username": "qa.lead", "password": "demo-password"})
    assert response.status_code == 403 and "two-factor" in response.get_json()["message"]
