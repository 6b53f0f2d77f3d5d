"""Every page and API route, for every role, against an explicit allow/deny table.

One audit is set up where every relationship is distinct: a case in Children in
Care 1 (worker, their team manager, head of service for Children in Care), audited
by the MASH 1 team manager and moderated by the head of service for Disabled
Children. Each person below is asked for every route; the expected outcome is
written out by hand, not derived from the code under test.
"""
import pytest
from sqlalchemy import select

from engine.accounts import ApiToken, User, issue_api_token
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.contributions import add_participant
from engine.qa.models import Case, Team
from engine.qa.observation_feedback import create_request as create_observation_request
from engine.runtime.instances import start_instance
from engine.runtime.models import HumanTask
from tests.conftest import sign_in, user_named

# Who is asking: a label, and how to find the person once the audit exists.
PEOPLE = {
    "anonymous": None,
    "the case's worker": "worker",
    "another practitioner": "sw.mash1.1",
    "the auditor (team manager)": "auditor",
    "the case's team manager": "team_manager",
    "another team manager": "tm.safeguarding1",
    "the case's head of service": "head_of_service",
    "the moderator (head of service)": "moderator",
    "another head of service": "hos.cincp",
    "principal social worker": "psw",
    "QA lead": "qa.lead",
    "QA officer": "qa.officer1",
    "assistant director": "ad.safeguarding",
    "director": "director",
    "reviewing officer": "iro1",
    "reviewing officer added to the audit": "iro2",
    "conference and review manager": "cr.manager",
    "process owner": "process.owner",
    "partner agency auditor": "partner.health",
}
SEES_THE_AUDIT = {"the case's worker", "the auditor (team manager)", "the case's team manager",
                  "the case's head of service", "the moderator (head of service)", "principal social worker",
                  "QA lead", "QA officer", "assistant director", "director", "reviewing officer added to the audit"}
# Who adds and removes the practitioners on the audit: its auditor and the QA lead.
CHANGES_PRACTITIONERS = {"the auditor (team manager)", "QA lead"}
ALLOCATES = {"QA lead", "QA officer"}
ASKS_FOR_FEEDBACK = {"the auditor (team manager)", "QA lead", "QA officer"}
# The practice observation below is hos.cincp's; the QA team sees every instance.
OBSERVATION_FEEDBACK = {"another head of service", "QA lead", "QA officer"}
READS_SURVEY_RESULTS = {"principal social worker", "assistant director", "director", "QA lead"}
READS_PARTICIPATION = {"principal social worker", "QA lead", "QA officer", "assistant director", "director"}
READS_COMPLAINTS = {"the case's head of service", "the moderator (head of service)", "another head of service",
                    "principal social worker", "QA lead", "QA officer", "assistant director", "director"}
SIGNED_IN = set(PEOPLE) - {"anonymous"}


def _page_expectations(who: str) -> dict[str, int]:
    # The health check answers everyone alike, signed in or not (503 here: no scheduler runs in tests).
    public = {"/feedback": 200, "/feedback/thank-you": 200, "/healthz": 503}
    if who == "anonymous":
        return {route: 302 for route in ("/inbox", "/audits", "/audits/{audit}", "/audits/allocate",
                                         "/tasks/{task}", "POST /tasks/{task}", "/account/password",
                                         "POST /account/password", "/account/tokens",
                                         "POST /account/tokens/{token}/revoke",
                                         "/audits/{audit}/feedback-requests/new", "/survey", "/surveys",
                                         "/complaints", "/complaints/new", "/complaints/import",
                                         "/participation", "/participation/new",
                                         "/observations/{observation}/feedback-requests/new",
                                         "POST /observations/{observation}/feedback-requests/{feedback_request}/withdraw",
                                         "/audits/{audit}/practitioners", "POST /audits/{audit}/practitioners",
                                         "POST /audits/{audit}/practitioners/{participant}/remove")} | public
    return public | {
        "/inbox": 200,
        "/audits": 200,
        "/audits/{audit}": 200 if who in SEES_THE_AUDIT else 403,
        "/audits/allocate": 200 if who in ALLOCATES else 403,
        "/tasks/{task}": 200 if who in SEES_THE_AUDIT else 403,
        # Saving a draft of the auditor's task: only the auditor may.
        "POST /tasks/{task}": 302 if who == "the auditor (team manager)" else 403,
        "/audits/{audit}/feedback-requests/new": 200 if who in ASKS_FOR_FEEDBACK else 403,
        "/observations/{observation}/feedback-requests/new": 200 if who in OBSERVATION_FEEDBACK else 403,
        "POST /observations/{observation}/feedback-requests/{feedback_request}/withdraw":
            302 if who in OBSERVATION_FEEDBACK else 403,
        "/audits/{audit}/practitioners": 200 if who in CHANGES_PRACTITIONERS else 403,
        # An empty form: refused field by field for those who may add, forbidden for everyone else.
        "POST /audits/{audit}/practitioners": 400 if who in CHANGES_PRACTITIONERS else 403,
        "POST /audits/{audit}/practitioners/{participant}/remove": 400 if who in CHANGES_PRACTITIONERS else 403,
        # Everyone signed in reaches the survey page (it says when none is open for them).
        "/survey": 200,
        "/surveys": 200 if who in READS_SURVEY_RESULTS else 403,
        "/complaints": 200 if who in READS_COMPLAINTS else 403,
        "/complaints/new": 200 if who in ALLOCATES else 403,
        "/complaints/import": 200 if who in ALLOCATES else 403,
        "/participation": 200 if who in READS_PARTICIPATION else 403,
        "/participation/new": 200 if who in ALLOCATES else 403,
        # Everyone may change their own password; an empty form is refused field by field.
        "/account/password": 200,
        "POST /account/password": 422,
        # One's own API tokens; the token here is the auditor's, so only they may revoke it.
        "/account/tokens": 200,
        "POST /account/tokens/{token}/revoke": 302 if who == "the auditor (team manager)" else 404,
    }


def _api_expectations(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {route: 401 for route in ("/api/v1/tasks", "/api/v1/tasks/{task}", "/api/v1/audits/{audit}",
                                         "/api/v1/instances/{instance}/events", "POST /api/v1/audits",
                                         "POST /api/v1/tasks/{task}/claim", "DELETE /api/v1/tokens/current")} \
            | {"/api/v1/openapi.json": 200}
    return {
        "/api/v1/openapi.json": 200,
        "/api/v1/tasks": 200,
        "/api/v1/tasks/{task}": 200 if who in SEES_THE_AUDIT else 403,
        "/api/v1/audits/{audit}": 200 if who in SEES_THE_AUDIT else 403,
        "/api/v1/instances/{instance}/events": 200 if who in SEES_THE_AUDIT else 403,
        # An empty allocation: refused as invalid for allocators, forbidden for everyone else.
        "POST /api/v1/audits": 422 if who in ALLOCATES else 403,
        # Claiming the auditor's own task is a no-op for them and refused for anyone else.
        "POST /api/v1/tasks/{task}/claim": 200 if who == "the auditor (team manager)" else 403,
        # Anyone may revoke the token they hold (asked last: it ends the token used above).
        "DELETE /api/v1/tokens/current": 204,
    }


@pytest.fixture
def audit_setup(app):
    from webapp.extensions import db
    with app.app_context():
        session = db.session
        case = session.scalar(select(Case).join(Team).where(Team.name == "Children in Care 1").order_by(Case.id))
        audit = allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                          user_named(session, "hos.disabled").id),
                               user_named(session, "qa.lead"))
        session.commit()
        participant = add_participant(session, audit, session.get(User, audit.auditor_id),
                                      user_named(session, "iro2").id, "reviewing_officer",
                                      "Chairs the child's reviews and knows the plan")
        session.commit()
        issue_api_token(session, session.get(User, audit.auditor_id))
        session.commit()
        token = session.scalar(select(ApiToken.id))
        observer = user_named(session, "hos.cincp")
        observation = start_instance(session, "practice_observation", {
            "observer": observer.id, "observations_due": "2027-01-15", "week_reference": "PW-2027-00001"},
            actor_id=None, business_key="PW-2027-00001-O1")
        feedback_request = create_observation_request(session, observation, observer, "parent_carer", "letter")
        session.commit()
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id))
        usernames = {}
        for label, key in PEOPLE.items():
            if key is None:
                continue
            user_id = getattr(audit, f"{key}_id", None)
            usernames[label] = session.get(User, user_id).username if user_id else key
        return {"audit": audit.id, "task": task.id, "token": token, "instance": audit.instance_id,
                "observation": observation.id, "feedback_request": feedback_request.request.id,
                "participant": participant.id, "usernames": usernames}


def _call(client, route: str, ids: dict, headers=None):
    method, _, path = route.partition(" ") if route.startswith(("POST ", "PUT ", "DELETE ")) else ("GET", "", route)
    path = path.format(**ids)
    if method == "GET":
        return client.get(path, headers=headers)
    if method == "DELETE":
        return client.delete(path, headers=headers)
    if path.startswith("/api/"):
        return client.post(path, json={}, headers=headers)
    return client.post(path, data={"action": "save"}, headers=headers)


def signed_in(app, username: str | None):
    """A web client signed in as `username` and the headers carrying their API token (None, None
    for anonymous: a client with no session, and no token)."""
    client = app.test_client()
    if username is None:
        return client, None
    sign_in(client, username)
    token = client.post("/api/v1/tokens", json={"username": username, "password": "demo-password"}).get_json()
    return client, {"Authorization": f"Bearer {token['token']}"}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_role_by_route(app, audit_setup, who):
    client, headers = signed_in(app, audit_setup["usernames"].get(who))
    outcomes = {}
    for route, expected in _page_expectations(who).items():
        outcomes[route] = (_call(client, route, audit_setup).status_code, expected)
    api_client = app.test_client()  # no session cookie: the API must stand on the token alone
    for route, expected in _api_expectations(who).items():
        outcomes[route] = (_call(api_client, route, audit_setup, headers).status_code, expected)
    wrong = {route: f"got {got}, expected {expected}" for route, (got, expected) in outcomes.items() if got != expected}
    assert not wrong, f"{who}: {wrong}"


def test_audit_lists_are_scoped(app, audit_setup):
    """The audits list shows the audit to those who may see it, and to nobody else."""
    from webapp.extensions import db
    from engine.qa.models import Audit
    with app.app_context():
        reference = db.session.get(Audit, audit_setup["audit"]).reference
    for who in SIGNED_IN:
        client = app.test_client()
        sign_in(client, audit_setup["usernames"][who])
        listed = reference.encode() in client.get("/audits").data
        assert listed == (who in SEES_THE_AUDIT), who
