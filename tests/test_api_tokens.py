"""API tokens: stored only as a digest, expire after their lifetime, and can be revoked by
the client that holds them (DELETE /api/v1/tokens/current)."""
import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine.accounts import ApiToken
from engine.clock import clock
from engine.qa.demo_data import DEMO_PASSWORD
from engine.runtime.models import Event
from tests.conftest import sign_in
from webapp.extensions import db

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def token_for(client, username="qa.lead"):
    response = client.post("/api/v1/tokens", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 201
    return response.get_json()["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_stored_only_as_its_digest(app, client):
    token = token_for(client)
    with app.app_context():
        [row] = db.session.scalars(select(ApiToken)).all()
        assert row.token_digest == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_digest


def test_a_token_expires_after_eight_hours(client):
    clock.set(START)
    token = token_for(client)
    clock.advance(timedelta(hours=7, minutes=59))
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(minutes=2))
    response = client.get("/api/v1/tasks", headers=bearer(token))
    assert response.status_code == 401 and "expired" in response.get_json()["message"]


def test_a_client_revokes_its_own_token(app, client):
    token, other = token_for(client), token_for(client)

    response = client.delete("/api/v1/tokens/current", headers=bearer(token))

    assert response.status_code == 204
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/tasks", headers=bearer(other)).status_code == 200  # only that one
    again = client.delete("/api/v1/tokens/current", headers=bearer(token))
    assert again.status_code == 401 and again.get_json()["code"] == 401
    with app.app_context():
        revoked = db.session.scalars(select(Event).where(Event.kind == "api.token_revoked")).all()
        rows = db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    assert len(revoked) == 1 and f'"token_id":{rows[0].id}' in revoked[0].payload
    assert rows[0].revoked_at is not None and rows[1].revoked_at is None


def test_revoking_needs_a_token(client):
    response = client.delete("/api/v1/tokens/current")
    assert response.status_code == 401 and "Bearer" in response.get_json()["message"]


# ------------------------------------------------------------------ the page of one's own tokens

def test_a_person_sees_and_revokes_their_own_live_tokens_on_a_page(app, client):
    clock.set(START)
    old = token_for(client)
    clock.advance(timedelta(hours=9))  # `old` has expired
    mine, other_person = token_for(client), token_for(client, "psw")
    sign_in(client, "qa.lead")

    page = client.get("/account/tokens").get_data(as_text=True)

    with app.app_context():
        rows = {row.token_digest: row for row in db.session.scalars(select(ApiToken))}
    mine_row, old_row, theirs = (rows[hashlib.sha256(t.encode()).hexdigest()] for t in (mine, old, other_person))
    assert f"/account/tokens/{mine_row.id}/revoke" in page
    assert f"/account/tokens/{old_row.id}/revoke" not in page and f"/account/tokens/{theirs.id}/revoke" not in page

    response = client.post(f"/account/tokens/{mine_row.id}/revoke")
    assert response.status_code == 302
    assert "has been revoked" in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/tasks", headers=bearer(mine)).status_code == 401
    again = client.post(f"/account/tokens/{mine_row.id}/revoke", follow_redirects=True)
    assert "already been revoked" in again.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(Event).where(Event.kind == "api.token_revoked")).all()) == 1


def test_nobody_revokes_another_persons_token(app, client):
    theirs = token_for(client, "psw")
    with app.app_context():
        row_id = db.session.scalar(select(ApiToken.id))
    sign_in(client, "qa.lead")
    assert client.post(f"/account/tokens/{row_id}/revoke").status_code == 404
    assert client.get("/api/v1/tasks", headers=bearer(theirs)).status_code == 200
