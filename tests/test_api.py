"""The JSON API (/api/v1): tokens, the task inbox, audits and the audit trail, over HTTP only.

The good-path test walks a whole audit from allocation to closure with each person
using their own token, then checks the audit record and that the trail the API
hands out is a verifiable hash chain.
"""
import json
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.accounts import User
from engine.qa.demo_data import DEMO_PASSWORD
from engine.qa.models import AREAS, Case, Team
from engine.runtime import instances
from engine.runtime.errors import ConcurrentUpdate
from engine.runtime.events import canonical_json, event_hash, verify_chain
from engine.runtime.models import Event, HumanTask, ProcessInstance
from tests import answers
from webapp.extensions import db

AUDITOR, MODERATOR, QA_LEAD = "tm.mash1", "hos.cincp", "qa.lead"


# --------------------------------------------------------------------- helpers

@pytest.fixture
def people(app):
    """A case outside the auditor's team, and the usernames and ids of everyone its audit involves."""
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        auditor = users[AUDITOR]
        case = db.session.scalar(select(Case).join(Team).where(Team.manager_id != auditor.id).order_by(Case.id))
        team = db.session.get(Team, case.team_id)
        by_id = {u.id: u for u in users.values()}
        outsider = next(u for u in users.values()
                        if u.roles == {"practitioner"} and u.id != case.worker_id and u.team_id != case.team_id)
        return {"case_reference": case.reference,
                "auditor": AUDITOR, "auditor_id": auditor.id, "auditor_name": auditor.display_name,
                "moderator": MODERATOR, "moderator_id": users[MODERATOR].id,
                "worker": by_id[case.worker_id].username, "worker_id": case.worker_id,
                "team_manager": by_id[team.manager_id].username, "qa_lead": QA_LEAD,
                "outsider": outsider.username}


def token_for(client, username: str) -> str:
    response = client.post("/api/v1/tokens", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def allocate(client, people, token: str) -> dict:
    response = client.post("/api/v1/audits", headers=bearer(token), json={
        "case_reference": people["case_reference"].lower(), "auditor_id": people["auditor_id"],
        "moderator_id": people["moderator_id"]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_tasks(client, token: str, audit: dict, spec_name: str) -> list[dict]:
    """The caller's open tasks called `spec_name` for `audit`, from their own inbox."""
    response = client.get("/api/v1/tasks", headers=bearer(token))
    assert response.status_code == 200
    inbox = response.get_json()
    return [task for task in inbox["assigned"] + inbox["claimable"]
            if task["spec_name"] == spec_name and task["business_key"] == audit["reference"]]


def work(client, token: str, audit: dict, spec_name: str, data: dict) -> dict:
    """Find the task in the caller's inbox, open it, and complete it with `data`."""
    [task] = open_tasks(client, token, audit, spec_name)
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(token))
    assert detail.status_code == 200
    assert detail.get_json()["form_schema"]["type"] == "object"
    return complete(client, token, task["id"], data)


def complete(client, token: str, task_id: int, data: dict) -> dict:
    response = client.post(f"/api/v1/tasks/{task_id}/complete", headers=bearer(token), json={"data": data})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "completed"
    return response.get_json()


def event_kinds(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Event.kind).order_by(Event.seq)))


def instance_revision(app, instance_id: int) -> int:
    with app.app_context():
        return db.session.get(ProcessInstance, instance_id).revision


@pytest.fixture
def allocated(client, people):
    """An audit allocated over the API, with a token for each person involved."""
    tokens = {role: token_for(client, people[role])
              for role in ("qa_lead", "auditor", "moderator", "worker", "team_manager", "outsider")}
    return allocate(client, people, tokens["qa_lead"]), tokens


# ---------------------------------------------------------------------- tokens

def test_token_is_issued_for_good_credentials_and_recorded(app, client, people):
    response = client.post("/api/v1/tokens", json={"username": "qa.lead", "password": DEMO_PASSWORD})
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["token"]) >= 40 and datetime.fromisoformat(body["expires_at"]).tzinfo is not None
    assert client.get("/api/v1/tasks", headers=bearer(body["token"])).status_code == 200
    assert event_kinds(app)[-1] == "api.token_issued"


def test_bad_credentials_get_401_and_are_recorded(app, client):
    response = client.post("/api/v1/tokens", json={"username": "qa.lead", "password": "wrong"})
    assert response.status_code == 401
    assert response.get_json()["message"] == "Enter a correct username and password."
    assert "token" not in response.get_json()
    with app.app_context():
        failed = db.session.scalars(select(Event).where(Event.kind == "user.sign_in_failed")).all()
    assert [json.loads(e.payload)["username"] for e in failed] == ["qa.lead"]
    assert "api.token_issued" not in event_kinds(app)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic cWEubGVhZDp4"},
                                     {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Bearer "}])
def test_every_other_endpoint_needs_a_live_token(client, headers):
    for method, path in (("get", "/api/v1/tasks"), ("get", "/api/v1/tasks/1"), ("post", "/api/v1/tasks/1/complete"),
                         ("post", "/api/v1/audits"), ("get", "/api/v1/audits/1"),
                         ("get", "/api/v1/instances/1/events")):
        response = getattr(client, method)(path, headers=headers, json={})
        assert response.status_code == 401, path
        assert response.is_json and response.get_json()["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -------------------------------------------------------------- the good path

def test_good_audit_walked_through_the_api_only(app, client, people):
    # Every token is issued before allocation, so the audit's events are a run of the chain with no gaps.
    tokens = {role: token_for(client, people[role])
              for role in ("qa_lead", "auditor", "moderator", "worker", "team_manager")}
    audit = allocate(client, people, tokens["qa_lead"])
    assert audit["status"] == "allocated" and audit["case_reference"] == people["case_reference"]
    assert audit["people"]["auditor"]["id"] == people["auditor_id"]
    assert audit["people"]["worker"]["id"] == people["worker_id"]

    [prepare] = open_tasks(client, tokens["auditor"], audit, "prepare_audit")
    assert prepare["assignee_id"] == people["auditor_id"] and prepare["subject"] == people["case_reference"]
    assert prepare["due_on"] == audit["dates"]["due"] and prepare["overdue"] is False
    draft = {"preparation_notes": "Half done"}
    assert client.put(f"/api/v1/tasks/{prepare['id']}/draft", headers=bearer(tokens["auditor"]),
                      json={"data": draft}).status_code == 204
    detail = client.get(f"/api/v1/tasks/{prepare['id']}", headers=bearer(tokens["auditor"])).get_json()
    assert detail["data"] == draft and detail["context"]["audit_reference"] == audit["reference"]
    assert "meeting_date" in detail["form_schema"]["properties"] and detail["ui_schema"] is not None
    complete(client, tokens["auditor"], prepare["id"], answers.PREPARE)

    work(client, tokens["auditor"], audit, "complete_audit_tool", answers.audit_tool())
    work(client, tokens["auditor"], audit, "record_feedback", answers.FEEDBACK)
    work(client, tokens["auditor"], audit, "grade_audit", answers.grading("good", actions=2))
    work(client, tokens["worker"], audit, "add_reflections", answers.REFLECTION)
    work(client, tokens["moderator"], audit, "moderate_audit", answers.MODERATION_AGREED)
    reviews = open_tasks(client, tokens["team_manager"], audit, "review_action")
    assert len(reviews) == 2
    for review in reviews:
        complete(client, tokens["team_manager"], review["id"], answers.action_review())

    [closure] = open_tasks(client, tokens["qa_lead"], audit, "confirm_closure")
    assert closure["assignee_id"] is None and closure["role"] == "qa_lead"
    qa_lead = bearer(tokens["qa_lead"])
    claimed = client.post(f"/api/v1/tasks/{closure['id']}/claim", headers=qa_lead).get_json()
    assert claimed["assignee_id"] is not None and claimed["state"] == "ready"
    released = client.post(f"/api/v1/tasks/{closure['id']}/release", headers=qa_lead).get_json()
    assert released["assignee_id"] is None
    assert client.post(f"/api/v1/tasks/{closure['id']}/claim", headers=qa_lead).status_code == 200
    complete(client, tokens["qa_lead"], closure["id"], answers.CLOSURE)

    record = client.get(f"/api/v1/audits/{audit['id']}", headers=qa_lead)
    assert record.status_code == 200
    record = record.get_json()
    assert record["status"] == "closed" and record["reference"] == audit["reference"]
    assert (record["overall_grade"], record["moderated_grade"], record["moderation_outcome"]) == \
        ("good", "good", "agreed")
    assert {g["area"]: (g["auditor_grade"], g["moderated_grade"]) for g in record["area_grades"]} == \
        {area: ("good", "good") for area in AREAS}
    assert all(g["auditor_rationale"] for g in record["area_grades"])
    assert [a["status"] for a in record["actions"]] == ["completed", "completed"]
    assert [a["ref"] for a in record["actions"]] and all(a["due_on"] and a["owner"] for a in record["actions"])
    assert record["reflection"]["agrees_with_grade"] is True
    planning = next(area for area in record["findings"] if area["area"] == "planning")
    assert planning["auditor_grade"] == "good" and len(planning["questions"]) == 5
    partners = next(q for q in planning["questions"] if q["key"] == "partners_active")
    assert (partners["answer"], partners["answer_label"], partners["moderated_answer"]) == ("partly", "Partly", "partly")
    smart = next(q for q in planning["questions"] if q["key"] == "smart_plan")
    assert smart["evidence"] == [{"record_type": "case_note", "record_type_label": "Case note",
                                  "record_date": answers.days_ago(12), "link": "https://cms.example.org/case/planning",
                                  "comment": "Case note showing smart plan"}]
    assert record["impact"]["value"] == "improved" and record["impact"]["label"] == "Improved"
    assert {f["source"]: f["status"] for f in record["feedback"]} == \
        {"child": "obtained", "family": "obtained", "professionals": "declined"}
    assert record["escalations"] == [] and record["open_tasks"] == []
    assert datetime.fromisoformat(record["dates"]["closed"]).tzinfo is not None
    assert record["people"]["moderator"]["id"] == people["moderator_id"]

    response = client.get(f"/api/v1/instances/{audit['instance_id']}/events", headers=qa_lead)
    assert response.status_code == 200
    trail = response.get_json()["events"]
    assert trail[0]["kind"] == "audit.allocated" and trail[-1]["kind"] == "instance.events_viewed"
    kinds = [e["kind"] for e in trail]
    assert kinds.count("task.completed") == 9 and "instance.completed" in kinds
    assert {"task.viewed", "audit.viewed", "task.claimed", "task.released", "task.draft_saved"} <= set(kinds)
    # In order; the worker's evidence task runs in its own linked instance, whose events sit between these.
    assert [e["seq"] for e in trail] == sorted({e["seq"] for e in trail})
    chained = [(before, after) for before, after in zip(trail, trail[1:]) if after["seq"] == before["seq"] + 1]
    assert len(chained) >= len(trail) - 3
    for before, after in chained:
        assert after["prev_hash"] == before["hash"]
    for event in trail:  # every hash can be recomputed from what the API hands out
        assert event_hash({**event, "occurred_at": datetime.fromisoformat(event["at"]),
                           "payload": canonical_json(event["payload"])}) == event["hash"]
    with app.app_context():
        report = verify_chain(db.session)
        assert report.ok and report.head_hash == trail[-1]["hash"]


# ------------------------------------------------------------------ the guards

def test_invalid_answers_get_422_with_field_errors_and_change_nothing(app, client, allocated):
    audit, tokens = allocated
    [task] = open_tasks(client, tokens["auditor"], audit, "prepare_audit")
    revision = instance_revision(app, audit["instance_id"])
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=bearer(tokens["auditor"]),
                           json={"data": {"file_read": False}})
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"] and set(body["errors"]) == {"file_read", "meeting_date"}
    assert all(isinstance(message, str) and message for message in body["errors"].values())
    assert instance_revision(app, audit["instance_id"]) == revision
    assert open_tasks(client, tokens["auditor"], audit, "prepare_audit") == [task]
    assert "task.completed" not in event_kinds(app)


def test_a_body_without_data_gets_422_naming_the_field(client, allocated):
    audit, tokens = allocated
    [task] = open_tasks(client, tokens["auditor"], audit, "prepare_audit")
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=bearer(tokens["auditor"]),
                           json={"answers": answers.PREPARE})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"data", "answers"}


def test_second_completion_gets_409_naming_who_completed_it(client, people, allocated):
    audit, tokens = allocated
    [task] = open_tasks(client, tokens["auditor"], audit, "prepare_audit")
    complete(client, tokens["auditor"], task["id"], answers.PREPARE)
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=bearer(tokens["auditor"]),
                        json={"data": answers.PREPARE})
    assert again.status_code == 409
    assert f"already completed by {people['auditor_name']}" in again.get_json()["message"]
    claim = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=bearer(tokens["auditor"]))
    assert claim.status_code == 409 and "already completed" in claim.get_json()["message"]


def test_someone_elses_task_gets_403(app, client, allocated):
    audit, tokens = allocated
    [task] = open_tasks(client, tokens["auditor"], audit, "prepare_audit")
    assert open_tasks(client, tokens["worker"], audit, "prepare_audit") == []
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=bearer(tokens["worker"]),
                           json={"data": answers.PREPARE})
    assert response.status_code == 403 and response.get_json()["message"] == "This task is not yours."
    claim = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=bearer(tokens["worker"]))
    assert claim.status_code == 403 and "already assigned to" in claim.get_json()["message"]
    release = client.post(f"/api/v1/tasks/{task['id']}/release", headers=bearer(tokens["auditor"]))
    assert release.status_code == 403 and "assigned to you by the process" in release.get_json()["message"]
    draft = client.put(f"/api/v1/tasks/{task['id']}/draft", headers=bearer(tokens["worker"]), json={"data": {}})
    assert draft.status_code == 403
    assert not {"task.completed", "task.claimed", "task.released", "task.draft_saved"} & set(event_kinds(app))


def test_reading_a_task_needs_the_task_or_its_audit(app, client, allocated):
    audit, tokens = allocated
    [task] = open_tasks(client, tokens["auditor"], audit, "prepare_audit")
    # The worker cannot act on the auditor's task but may see the audit of their own case.
    as_worker = client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(tokens["worker"]))
    assert as_worker.status_code == 200 and as_worker.get_json()["data"] == {}
    assert event_kinds(app)[-1] == "task.viewed"
    outsider = client.get(f"/api/v1/tasks/{task['id']}", headers=bearer(tokens["outsider"]))
    assert outsider.status_code == 403 and outsider.get_json()["message"]
    assert event_kinds(app).count("task.viewed") == 1
    missing = client.get("/api/v1/tasks/999999", headers=bearer(tokens["auditor"]))
    assert missing.status_code == 404 and missing.get_json()["message"] == "There is no such task."


@pytest.mark.parametrize("failure", ["concurrent", "process"])
def test_engine_conflicts_get_409_and_roll_back(app, client, allocated, monkeypatch, failure):
    """The task is really completed, then the write is refused: nothing of it may stay."""
    audit, tokens = allocated
    [task] = open_tasks(client, tokens["auditor"], audit, "prepare_audit")
    revision = instance_revision(app, audit["instance_id"])
    real_complete = instances.complete_task

    def complete_then_fail(session, task_id, user, data):
        real_complete(session, task_id, user, data)
        if failure == "concurrent":
            raise ConcurrentUpdate("Someone else changed this process at the same moment.")
        raise instances.ProcessFailure("The process could not continue: a script failed.")

    monkeypatch.setattr("webapp.api.tasks.complete_task", complete_then_fail)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=bearer(tokens["auditor"]),
                           json={"data": answers.PREPARE})
    assert response.status_code == 409
    message = response.get_json()["message"]
    assert ("nothing was saved" in message) if failure == "concurrent" else ("could not continue" in message)
    assert instance_revision(app, audit["instance_id"]) == revision
    with app.app_context():
        assert db.session.get(HumanTask, task["id"]).state == "ready"
    assert "task.completed" not in event_kinds(app)


# ------------------------------------------------------------------ allocation

def test_allocation_by_a_practitioner_gets_403_before_the_body_is_checked(app, client, people):
    token = token_for(client, people["worker"])
    for body in ({"case_reference": people["case_reference"], "auditor_id": people["auditor_id"],
                  "moderator_id": people["moderator_id"]}, {}):
        response = client.post("/api/v1/audits", headers=bearer(token), json=body)
        assert response.status_code == 403
        assert response.get_json()["message"] == "Only the QA lead or a QA officer can allocate audits."
    assert "audit.allocated" not in event_kinds(app)


def test_allocation_problems_get_422_naming_the_field(app, client, people):
    token = bearer(token_for(client, QA_LEAD))
    unknown = client.post("/api/v1/audits", headers=token, json={
        "case_reference": "CS000000", "auditor_id": people["auditor_id"], "moderator_id": people["moderator_id"]})
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"] == {"case_reference": "There is no open case with the reference 'CS000000'."}
    own_worker = client.post("/api/v1/audits", headers=token, json={
        "case_reference": people["case_reference"], "auditor_id": people["worker_id"],
        "moderator_id": people["moderator_id"]})
    assert own_worker.status_code == 422 and set(own_worker.get_json()["errors"]) == {"auditor_id"}
    malformed = client.post("/api/v1/audits", headers=token, json={
        "case_reference": people["case_reference"], "auditor_id": "tm.mash1", "due_on": "31/12/2026"})
    assert malformed.status_code == 422
    assert set(malformed.get_json()["errors"]) == {"auditor_id", "moderator_id", "due_on"}
    assert "audit.allocated" not in event_kinds(app)


# ---------------------------------------------------------------- audit reads

def test_reading_an_audit_is_scoped_and_recorded(app, client, allocated):
    audit, tokens = allocated
    before = event_kinds(app).count("audit.viewed")
    as_worker = client.get(f"/api/v1/audits/{audit['id']}", headers=bearer(tokens["worker"]))
    assert as_worker.status_code == 200 and as_worker.get_json()["reference"] == audit["reference"]
    assert event_kinds(app).count("audit.viewed") == before + 1
    outsider = client.get(f"/api/v1/audits/{audit['id']}", headers=bearer(tokens["outsider"]))
    assert outsider.status_code == 403 and outsider.get_json()["message"]
    missing = client.get("/api/v1/audits/999999", headers=bearer(tokens["qa_lead"]))
    assert missing.status_code == 404
    assert event_kinds(app).count("audit.viewed") == before + 1


def test_the_trail_of_an_instance_is_scoped_and_recorded(app, client, allocated):
    audit, tokens = allocated
    url = f"/api/v1/instances/{audit['instance_id']}/events"
    as_worker = client.get(url, headers=bearer(tokens["worker"]))
    assert as_worker.status_code == 200
    assert as_worker.get_json()["events"][-1]["kind"] == "instance.events_viewed"
    assert isinstance(as_worker.get_json()["events"][0]["payload"], dict)
    assert client.get(url, headers=bearer(tokens["outsider"])).status_code == 403
    assert client.get("/api/v1/instances/999999/events", headers=bearer(tokens["qa_lead"])).status_code == 404
    assert event_kinds(app).count("instance.events_viewed") == 1


# ---------------------------------------------------- errors are JSON, always

def test_unknown_paths_and_methods_get_json(client):
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.get_json()["message"]
    wrong_method = client.delete("/api/v1/tasks")
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert "GET" in wrong_method.headers["Allow"]
    not_json = client.post("/api/v1/tokens", data="{not json", content_type="application/json")
    assert not_json.status_code == 400 and not_json.get_json()["message"]


@pytest.fixture
def production_client(database_url):
    """An app as deployed: CSRF protection on, exceptions handled rather than raised."""
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test", "PROPAGATE_EXCEPTIONS": False})
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_api_needs_no_csrf_token_and_unknown_posts_get_json(production_client):
    assert production_client.post("/api/v1/tokens", json={"username": QA_LEAD, "password": DEMO_PASSWORD}) \
        .status_code == 201
    response = production_client.post("/api/v1/no-such-thing", json={})
    assert response.status_code == 404 and response.is_json


def test_an_unexpected_failure_gets_json_without_a_trace(production_client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("webapp.api.tasks.list_inbox", broken)
    response = production_client.get("/api/v1/tasks", headers=bearer(token_for(production_client, QA_LEAD)))
    assert response.status_code == 500 and response.is_json
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_web_pages_keep_their_html_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


# --------------------------------------------------------------------- the spec

def test_openapi_document_lists_every_endpoint_with_schemas(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    paths = spec["paths"]
    assert set(paths) == {
        "/api/v1/tokens", "/api/v1/tokens/current", "/api/v1/tasks", "/api/v1/tasks/{task_id}",
        "/api/v1/tasks/{task_id}/claim",
        "/api/v1/tasks/{task_id}/release", "/api/v1/tasks/{task_id}/draft", "/api/v1/tasks/{task_id}/complete",
        "/api/v1/audits", "/api/v1/audits/{audit_id}", "/api/v1/instances/{instance_id}/events",
        "/api/v1/organisation/services", "/api/v1/organisation/services/{service_id}",
        "/api/v1/organisation/teams", "/api/v1/organisation/teams/{team_id}", "/api/v1/organisation/people",
        "/api/v1/organisation/people/{person_id}", "/api/v1/organisation/people/{person_id}/roles",
        "/api/v1/organisation/people/{person_id}/move", "/api/v1/organisation/people/{person_id}/deactivate",
        "/api/v1/organisation/people/{person_id}/open-work",
        "/api/v1/processes/startable", "/api/v1/processes/{process_key}/start-form",
        "/api/v1/processes/{process_key}/instances"}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}] and paths["/api/v1/tokens"]["post"]["security"] == []
    completing = paths["/api/v1/tasks/{task_id}/complete"]["post"]["responses"]
    assert {"200", "403", "404", "409", "422"} <= set(completing)
    assert set(paths["/api/v1/audits"]["post"]["responses"]) >= {"201", "403", "422"}
    schemas = spec["components"]["schemas"]
    assert {"TaskSummary", "TaskDetail", "AuditRecord", "Event", "Error"} <= set(schemas)
    record = schemas["AuditRecord"]["properties"]
    assert "enum" not in record["overall_grade"] and "grade_labels" in record["overall_grade"]["description"]
    assert {"grade_labels", "grading_scale", "participants", "contributions", "profile"} <= set(record)  # scales are model data
