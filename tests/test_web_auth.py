"""Signing in and out, CSRF protection and cookie settings."""
from sqlalchemy import select

from engine.runtime.models import Event
from tests.conftest import sign_in


def test_wrong_password_is_refused_and_recorded(app, client):
    response = client.post("/sign-in", data={"username": "qa.lead", "password": "nope"})
    assert response.status_code == 401
    assert b"Enter a correct username and password" in response.data
    with app.app_context():
        from webapp.extensions import db
        kinds = db.session.scalars(select(Event.kind)).all()
    assert "user.sign_in_failed" in kinds and "user.signed_in" not in kinds


def test_sign_in_redirects_only_within_the_site(client):
    response = client.post("/sign-in?next=https://evil.example/x", data={"username": "qa.lead", "password": "demo-password"})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


def test_forms_need_a_csrf_token(database_url):
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "test"})
    response = app.test_client().post("/sign-in", data={"username": "qa.lead", "password": "demo-password"})
    assert response.status_code == 400


def test_session_cookie_is_secure_and_http_only_by_default(database_url, monkeypatch):
    monkeypatch.delenv("QA_INSECURE_COOKIES", raising=False)
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"})
    response = app.test_client().post("/sign-in", data={"username": "qa.lead", "password": "demo-password"},
                                      base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_out(client):
    sign_in(client, "qa.lead")
    response = client.post("/sign-out")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
