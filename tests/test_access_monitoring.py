"""Every monitoring, administration and tracker route, for every kind of user, against
an explicit allow/deny table (the style and the people of tests/test_access_matrix.py).

The audit of that matrix's `audit_setup` is in Children in Care 1, audited by the
MASH 1 team manager and moderated by the head of service for Disabled Children.
Expected outcomes are written out by hand, not derived from the code under test.
"""
import pytest
from sqlalchemy import select

from engine.runtime.models import ProcessVersion
from tests.conftest import sign_in
from tests.test_access_matrix import PEOPLE, audit_setup  # noqa: F401  (the fixture)

HEADS_OF_SERVICE = {"the case's head of service", "the moderator (head of service)", "another head of service"}
MONITORS = {"QA lead", "QA officer"} | HEADS_OF_SERVICE
# Heads of service see the instances of audits they may see: their service's, and those they moderate.
SEES_THE_INSTANCE = {"QA lead", "QA officer", "the case's head of service", "the moderator (head of service)"}
SEES_VERSIONS = {"QA lead", "QA officer", "process owner"}
# Partner agency auditors see the tracker's actions of the multi-agency audits they are invited to;
# reviewing officers, added to audits, own actions and see theirs.
SEES_THE_TRACKER = set(PEOPLE) - {"anonymous", "process owner"}
QA_LEAD = {"QA lead"}
ROUTES = ("/monitoring", "/instances", "/instances/{instance}", "/instances/{instance}/diagram",
          "/instances/versions/{version}", "/instances/versions/{version}/diagram",
          "/instances/{instance}/suspend", "POST /instances/{instance}/suspend", "/instances/{instance}/retry",
          "/instances/{instance}/tasks/{task}/reassign", "POST /instances/{instance}/tasks/{task}/due-date",
          "/instances/{instance}/tasks/{task}/complete", "POST /saved-filters",
          "/tracker", "/recommendations", "/tracker/export.csv", "/tracker/export.xlsx", "/tracker/distribute", "POST /tracker/distribute")


def _expectations(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {route: 302 for route in ROUTES}
    def allowed(group, code=200):
        return code if who in group else 403
    return {
        "/monitoring": allowed(MONITORS),
        "/instances": allowed(MONITORS),
        "/instances/{instance}": allowed(SEES_THE_INSTANCE),
        "/instances/{instance}/diagram": allowed(SEES_THE_INSTANCE),
        "/instances/versions/{version}": allowed(SEES_VERSIONS),
        "/instances/versions/{version}/diagram": allowed(SEES_VERSIONS),
        "/instances/{instance}/suspend": allowed(QA_LEAD),
        # Posted without a reason: refused with a message for the QA lead, forbidden for everyone else.
        "POST /instances/{instance}/suspend": allowed(QA_LEAD, 422),
        "/instances/{instance}/retry": allowed(QA_LEAD),
        "/instances/{instance}/tasks/{task}/reassign": allowed(QA_LEAD),
        "POST /instances/{instance}/tasks/{task}/due-date": allowed(QA_LEAD, 422),
        "/instances/{instance}/tasks/{task}/complete": allowed(QA_LEAD),
        # Saving a filter on the instance list: whoever may use that list.
        "POST /saved-filters": allowed(MONITORS, 302),
        "/tracker": allowed(SEES_THE_TRACKER),
        # The old list of recommendations opens the tracker filtered to them.
        "/recommendations": allowed(SEES_THE_TRACKER, 302),
        "/tracker/export.csv": allowed(SEES_THE_TRACKER),
        "/tracker/export.xlsx": allowed(SEES_THE_TRACKER),
        "/tracker/distribute": allowed(QA_LEAD),
        # A cycle that is not a number: refused with a message for the QA lead.
        "POST /tracker/distribute": allowed(QA_LEAD, 422),
    }


def _call(client, route: str, ids: dict):
    method, _, path = route.partition(" ") if route.startswith("POST ") else ("GET", "", route)
    path = path.format(**ids)
    if method == "GET":
        return client.get(path)
    data = {"reason": "", "cycle": "nine", "page": "instances", "name": "Mine", "query": "status=error"}
    return client.post(path, data=data)


@pytest.mark.parametrize("who", list(PEOPLE))
def test_role_by_route(app, audit_setup, who):  # noqa: F811
    from webapp.extensions import db
    with app.app_context():
        version = db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "case_file_audit"))
        db.session.remove()
    ids = {**audit_setup, "version": version}
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, audit_setup["usernames"][who])
    outcomes = {route: (_call(client, route, ids).status_code, expected)
                for route, expected in _expectations(who).items()}
    wrong = {route: f"got {got}, expected {expected}" for route, (got, expected) in outcomes.items() if got != expected}
    assert not wrong, f"{who}: {wrong}"


def test_lists_show_a_head_of_service_only_the_instances_they_may_see(app, audit_setup):  # noqa: F811
    for who in HEADS_OF_SERVICE:
        client = app.test_client()
        sign_in(client, audit_setup["usernames"][who])
        listed = f'data-instance="{audit_setup["instance"]}"' in client.get("/instances").text
        assert listed == (who in SEES_THE_INSTANCE), who
        if listed:  # pages link only where the person may go: no version page, no administration
            page = client.get(f"/instances/{audit_setup['instance']}").text
            assert "/instances/versions/" not in page and "/suspend" not in page and "/reassign" not in page
