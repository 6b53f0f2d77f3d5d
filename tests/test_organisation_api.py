"""The organisation over /api/v1: what an administrator does, what a stale version gets, what others get."""
from sqlalchemy import select

from engine.accounts import User
from engine.qa.models import Service, Team
from tests.conftest import user_named
from tests.test_web_lifecycle import read


def token(client, username: str) -> dict:
    issued = client.post("/api/v1/tokens", json={"username": username, "password": "demo-password"}).get_json()
    return {"Authorization": f"Bearer {issued['token']}"}


def test_an_administrator_manages_the_organisation_over_the_api(app, session):
    client = app.test_client()
    headers = token(client, "sysadmin")
    head = read(session, lambda s: user_named(s, "hos.cic").id)
    service = client.post("/api/v1/organisation/services", json={"name": "Fostering", "head_of_service_id": head},
                          headers=headers)
    assert service.status_code == 201
    service_id = service.get_json()["id"]
    bad = client.post("/api/v1/organisation/teams", json={"name": "Fostering 1", "service_id": 99999,
                                                          "kind": "fostering_adoption"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"] == {"service_id": "Choose a service."}
    team = client.post("/api/v1/organisation/teams", json={"name": "Fostering 1", "service_id": service_id,
                                                           "kind": "fostering_adoption"}, headers=headers)
    assert team.status_code == 201
    created = client.post("/api/v1/organisation/people", json={
        "username": "api.person", "display_name": "Api Person", "email": "api.person@example.invalid",
        "team_id": team.get_json()["id"], "roles": ["practitioner"]}, headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["person"]["roles"] == ["practitioner"] and len(body["one_time_password"]) == 19
    person_id, version = body["person"]["id"], body["person"]["version"]
    duplicate = client.post("/api/v1/organisation/people", json={
        "username": "api.person", "display_name": "Again", "email": "again@example.invalid"}, headers=headers)
    assert duplicate.status_code == 422 and "already taken" in duplicate.get_json()["errors"]["username"]

    granted = client.post(f"/api/v1/organisation/people/{person_id}/roles", json={
        "change": "grant", "role": "qa_officer", "reason": "Secondment", "version": version}, headers=headers)
    assert granted.status_code == 200 and granted.get_json()["roles"] == ["practitioner", "qa_officer"]
    stale = client.post(f"/api/v1/organisation/people/{person_id}/roles", json={
        "change": "remove", "role": "qa_officer", "reason": "Ended", "version": version}, headers=headers)
    assert stale.status_code == 409
    assert read(session, lambda s: s.get(User, person_id).roles) == {"practitioner", "qa_officer"}
    left = client.post(f"/api/v1/organisation/people/{person_id}/deactivate",
                       json={"reason": "Left", "version": granted.get_json()["version"]}, headers=headers)
    assert left.status_code == 200 and left.get_json()["active"] is False
    assert read(session, lambda s: s.scalar(select(Service.name).where(Service.id == service_id))) == "Fostering"
    assert read(session, lambda s: s.scalar(select(Team.kind).where(Team.name == "Fostering 1"))) \
        == "fostering_adoption"


def test_the_qa_lead_reads_and_others_are_refused(app):
    client = app.test_client()
    qa = token(client, "qa.lead")
    assert client.get("/api/v1/organisation/people?q=qa.lead", headers=qa).get_json()[0]["username"] == "qa.lead"
    assert client.post("/api/v1/organisation/services", json={"name": "X"}, headers=qa).status_code == 403
    worker = token(client, "sw.mash1.1")
    assert client.get("/api/v1/organisation/people", headers=worker).status_code == 403
