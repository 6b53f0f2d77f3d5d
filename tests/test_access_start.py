"""The Start page and the start API, for every kind of person, against a table written by hand.

The process is the service visit of tests/test_start_processes.py, published through the
model pages: its process.json lets heads of service (and nobody else) start it."""
import pytest

from tests.test_access_matrix import PEOPLE, audit_setup, signed_in  # noqa: F401  (audit_setup: the fixture)
from tests.test_start_processes import publish_visit_model

HEADS_OF_SERVICE = {"the case's head of service", "the moderator (head of service)", "another head of service"}


def expectations(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {"/start": 302, "/start/service_visit": 302, "POST /start/service_visit": 302,
                "/start/thematic_audit": 302, "/start/dip_sample": 302, "/start/practice_week": 302,
                "/start/annual_report": 302, "/start/multi_agency_audit": 302,
                "API /api/v1/processes/startable": 401, "API /api/v1/processes/service_visit/start-form": 401,
                "API POST /api/v1/processes/service_visit/instances": 401}
    starts = who in HEADS_OF_SERVICE
    return {
        "/start": 200,
        "/start/service_visit": 200 if starts else 403,
        # An empty start form: refused with its errors for a starter, forbidden for everyone else.
        "POST /start/service_visit": 422 if starts else 403,
        # The activities the product ships with: who commissions a thematic audit, who dip samples.
        "/start/thematic_audit": 200 if who in ("principal social worker", "assistant director") else 403,
        "/start/dip_sample": 200 if starts else 403,
        "/start/practice_week": 200 if who == "QA lead" else 403,
        "/start/annual_report": 200 if who == "QA lead" else 403,
        "/start/multi_agency_audit": 200 if who == "QA lead" else 403,
        "API /api/v1/processes/startable": 200,
        "API /api/v1/processes/service_visit/start-form": 200 if starts else 403,
        "API POST /api/v1/processes/service_visit/instances": 422 if starts else 403,
    }


@pytest.mark.parametrize("who", list(PEOPLE))
def test_start_routes_by_role(app, audit_setup, who):  # noqa: F811
    publish_visit_model(app)
    client, headers = signed_in(app, audit_setup["usernames"].get(who))
    api = app.test_client()  # no session cookie: the API must stand on the token alone
    wrong = {}
    for route, expected in expectations(who).items():
        through_api = route.startswith("API ")
        method, _, path = route.removeprefix("API ").rpartition(" ")
        caller = api if through_api else client
        if method == "POST":
            response = caller.post(path, json={}, headers=headers) if through_api else caller.post(path, data={})
        else:
            response = caller.get(path, headers=headers)
        if response.status_code != expected:
            wrong[route] = f"got {response.status_code}, expected {expected}"
    assert not wrong, f"{who}: {wrong}"
