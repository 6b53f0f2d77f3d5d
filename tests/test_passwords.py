"""Local passwords as the NCSC advises: the rules for a new password, the change-password
page (which ends every other session and API token), and the must-change flag."""
import pytest
from sqlalchemy import select

from engine.accounts import ApiToken, User
from engine.passwords import PasswordPolicy, common_passwords, password_problem
from engine.qa.demo_data import DEMO_PASSWORD
from engine.runtime.models import Event
from engine.sessions import UserSession
from tests.conftest import sign_in, user_named
from webapp.extensions import db

NEW_PASSWORD = "correct horse battery staple"


def change(client, current=DEMO_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                   "confirm_password": new if confirm is None else confirm})


def token_for(client, username, password=DEMO_PASSWORD):
    response = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def tasks_with(client, token):
    return client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})


def kinds(app):
    with app.app_context():
        return db.session.scalars(select(Event.kind)).all()


# ------------------------------------------------------------------ the rules

@pytest.fixture
def person():
    return User(username="sw.example", display_name="Sam Example", email="sam.example@council.example",
                password_hash="")


@pytest.mark.parametrize("password, problem", [
    ("short words", "Password must be 12 characters or more"),
    ("password1234", "This password is too common"),
    ("QWERTYUIOP123", "This password is too common"),
    ("my name is sw.example!", "Password must not contain your username or email address"),
    ("SAM.EXAMPLE@council.example", "Password must not contain your username or email address"),
    ("x" * 300, "Password must be 256 characters or fewer"),
])
def test_passwords_that_are_refused(person, password, problem):
    assert password_problem(password, person, PasswordPolicy()).startswith(problem)


@pytest.mark.parametrize("password", [NEW_PASSWORD, "aaaaaaaaaaaa", "no digits or symbols needed"])
def test_long_uncommon_passwords_need_no_composition_rules(person, password):
    assert password_problem(password, person, PasswordPolicy()) is None


def test_the_minimum_length_is_configurable(person):
    assert password_problem("purple-otter", person, PasswordPolicy(min_length=16)) == \
        "Password must be 16 characters or more"


def test_the_deny_list_is_thousands_of_common_passwords():
    denied = common_passwords()
    assert len(denied) > 10_000 and {"password", "123456", "qwerty", "iloveyou"} <= denied


# ------------------------------------------------------------------ the page

def test_changing_the_password_ends_other_sessions_and_tokens_but_not_this_one(app):
    here, elsewhere, api = app.test_client(), app.test_client(), app.test_client()
    sign_in(here, "qa.lead")
    sign_in(elsewhere, "qa.lead")
    token = token_for(api, "qa.lead")
    assert tasks_with(api, token).status_code == 200

    response = change(here)

    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    assert b"Your password has been changed" in here.get("/inbox").data
    assert elsewhere.get("/inbox").status_code == 302
    assert tasks_with(api, token).status_code == 401
    with app.app_context():
        user = user_named(db.session, "qa.lead")
        assert user.check_password(NEW_PASSWORD) and not user.check_password(DEMO_PASSWORD)
        open_sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                                     UserSession.ended_at.is_(None))).all()
        assert len(open_sessions) == 1
        assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id)).revoked_at is not None
        ended = db.session.scalar(select(Event).where(Event.kind == "user.sessions_ended"))
        assert '"reason":"password_changed"' in ended.payload and '"sessions":1' in ended.payload
        assert '"api_tokens":1' in ended.payload
    assert "user.password_changed" in kinds(app)
    fresh = app.test_client()
    assert fresh.post("/sign-in", data={"username": "qa.lead", "password": DEMO_PASSWORD}).status_code == 401
    sign_in(fresh, "qa.lead", NEW_PASSWORD)


@pytest.mark.parametrize("fields, field, message", [
    ({"new": "too short"}, "new_password", "Password must be 12 characters or more"),
    ({"new": "password1234"}, "new_password", "This password is too common"),
    ({"new": "qa.lead-forever-and-ever"}, "new_password", "must not contain your username"),
    ({"confirm": "something else entirely"}, "confirm_password", "Enter the same new password twice"),
    ({"current": "not my password"}, "current_password", "Your current password is not correct"),
    ({"new": DEMO_PASSWORD + "-x", "current": DEMO_PASSWORD + "-x"}, "current_password", "not correct"),
])
def test_a_refused_change_says_why_and_changes_nothing(app, client, fields, field, message):
    sign_in(client, "qa.lead")
    elsewhere = app.test_client()
    sign_in(elsewhere, "qa.lead")
    with app.app_context():
        before = user_named(db.session, "qa.lead").password_hash

    response = change(client, **fields)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page and f'href="#{field}"' in page
    with app.app_context():
        assert user_named(db.session, "qa.lead").password_hash == before
    assert elsewhere.get("/inbox").status_code == 200
    assert "user.password_changed" not in kinds(app) and "user.sessions_ended" not in kinds(app)


def test_the_page_is_linked_from_the_header(client):
    sign_in(client, "sw.safeguarding1.1")
    assert b'href="/account/password"' in client.get("/inbox").data


def test_the_page_needs_sign_in(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# ------------------------------------------------------------------ must change

@pytest.fixture
def must_change(app):
    with app.app_context():
        user_named(db.session, "tm.safeguarding1").must_change_password = True
        db.session.commit()


def test_a_person_who_must_change_their_password_can_reach_nothing_else(app, client, must_change):
    response = client.post("/sign-in?next=/audits", data={"username": "tm.safeguarding1",
                                                          "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    for path in ("/inbox", "/audits", "/notifications", "/"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/account/password"), path
    page = client.get("/account/password")
    assert page.status_code == 200 and b"Choose your own password before you go on" in page.data
    assert client.post("/api/v1/tokens", json={"username": "tm.safeguarding1",
                                                "password": DEMO_PASSWORD}).status_code == 403

    assert change(client).status_code == 302

    assert client.get("/inbox").status_code == 200
    with app.app_context():
        assert not user_named(db.session, "tm.safeguarding1").must_change_password


def test_a_token_issued_before_the_flag_was_set_stops_working(app, client):
    token = token_for(client, "tm.safeguarding1")
    with app.app_context():
        user_named(db.session, "tm.safeguarding1").must_change_password = True
        db.session.commit()
    assert tasks_with(client, token).status_code == 401


def test_the_person_may_still_sign_out(client, must_change):
    sign_in(client, "tm.safeguarding1")
    response = client.post("/sign-out")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
