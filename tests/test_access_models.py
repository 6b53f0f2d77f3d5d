"""Every model page and action, for every kind of user, against an explicit allow/deny table.

Process owners change models (drafts, forms, sandbox, uploads, publishing); the QA lead
reads them and moves running instances onto another version; nobody else sees them.
The expected outcomes are written out by hand, not derived from the code under test.
"""
import json

import pytest

from engine.runtime.model_drafts import open_draft
from engine.runtime.registry import publish
from tests.conftest import sign_in, user_named
from tests.model_samples import observation_files, with_step_after

PEOPLE = {
    "anonymous": None,
    "practitioner": "sw.mash1.1",
    "team manager": "tm.safeguarding1",
    "head of service": "hos.cincp",
    "principal social worker": "psw",
    "QA lead": "qa.lead",
    "QA officer": "qa.officer1",
    "assistant director": "ad.safeguarding",
    "director": "director",
    "reviewing officer": "iro1",
    "conference and review manager": "cr.manager",
    "process owner": "process.owner",
}
READERS = {"process owner", "QA lead"}

ROUTES = [
    "/models", "/models/observation", "/models/observation/compare?from=1&to=2",
    "/models/observation/download?ref=1", "POST /models/observation/draft",
    "/models/observation/draft/modeler", "/models/observation/draft/content",
    "POST /models/observation/draft/diagram", "/models/observation/draft/forms/observation",
    "POST /models/form-preview", "/models/observation/draft/sandbox", "POST /models/observation/draft/scenarios",
    "POST /models/observation/draft/approve", "POST /models/observation/draft/publish",
    "POST /models/observation/draft/discard", "POST /models/observation/versions/2/retire",
    "/models/upload", "/models/observation/migrate?from=1&to=2",
]


def expected(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {route: 302 for route in ROUTES}  # to sign in
    forbidden = {route: 403 for route in ROUTES}
    if who == "QA lead":
        return forbidden | {"/models": 200, "/models/observation": 200, "/models/observation/compare?from=1&to=2": 200,
                            "/models/observation/download?ref=1": 200, "/models/observation/migrate?from=1&to=2": 200}
    if who == "process owner":
        return {
            "/models": 200, "/models/observation": 200, "/models/observation/compare?from=1&to=2": 200,
            "/models/observation/download?ref=1": 200,
            "POST /models/observation/draft": 302,  # refused (a draft exists) and sent back to the process page
            "/models/observation/draft/modeler": 200, "/models/observation/draft/content": 200,
            "POST /models/observation/draft/diagram": 400,  # allowed, but the empty request is not a diagram
            "/models/observation/draft/forms/observation": 200, "POST /models/form-preview": 200,
            "/models/observation/draft/sandbox": 200,
            "POST /models/observation/draft/scenarios": 302,  # allowed; refused for want of a scenario
            "POST /models/observation/draft/approve": 400, "POST /models/observation/draft/publish": 400,
            "POST /models/observation/draft/discard": 400,  # allowed, but no revision was posted
            "POST /models/observation/versions/2/retire": 302,  # allowed; refused for want of a reason
            "/models/upload": 200,
            "/models/observation/migrate?from=1&to=2": 403,  # moving audits under way is the QA lead's
        }
    return forbidden


@pytest.fixture
def models_setup(app):
    from webapp.extensions import db
    with app.app_context():
        files = observation_files()
        publish(db.session, files)
        publish(db.session, with_step_after(files, "observation.bpmn", "observe", "discuss", "Discuss"))
        open_draft(db.session, "observation", user_named(db.session, "process.owner"))
        db.session.commit()


def _call(client, route: str):
    method, _, path = route.partition(" ") if route.startswith("POST ") else ("GET", "", route)
    if method == "GET":
        return client.get(path)
    if path.endswith("/diagram"):
        return client.post(path, data=json.dumps({}), content_type="application/json")
    return client.post(path, data={})


@pytest.mark.parametrize("who", list(PEOPLE))
def test_role_by_route(app, models_setup, who):
    client = app.test_client()
    if PEOPLE[who]:
        sign_in(client, PEOPLE[who])
    wrong = {}
    for route, status in expected(who).items():
        got = _call(client, route).status_code
        if got != status:
            wrong[route] = f"got {got}, expected {status}"
    assert not wrong, f"{who}: {wrong}"


@pytest.mark.parametrize("who", sorted(set(PEOPLE) - {"anonymous"}))
def test_the_header_offers_process_models_only_to_their_readers(app, who):
    client = app.test_client()
    sign_in(client, PEOPLE[who])
    assert ('href="/models"' in client.get("/inbox").get_data(as_text=True)) == (who in READERS)
