"""The notification pages for every kind of user, against an explicit allow/deny table.

The audit of tests/test_access_matrix.py is allocated, which sends its auditor a
new-task notification. Everyone may list their own notifications and mark them
read; only the auditor may open that notification.
"""
import pytest
from sqlalchemy import select

from engine.notification_models import Notification
from tests.conftest import sign_in
from tests.test_access_matrix import PEOPLE, audit_setup  # noqa: F401  (fixture)

ROUTES = ("/notifications", "/notifications/{notification}", "POST /notifications/read")


def _expected(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {route: 302 for route in ROUTES}  # to the sign-in page
    return {
        "/notifications": 200,
        "/notifications/{notification}": 200 if who == "the auditor (team manager)" else 403,
        "POST /notifications/read": 302,  # back to their own list
    }


@pytest.fixture
def auditor_notification(app, audit_setup):  # noqa: F811
    from webapp.extensions import db
    from engine.qa.models import Audit
    with app.app_context():
        auditor_id = db.session.get(Audit, audit_setup["audit"]).auditor_id
        return db.session.scalar(select(Notification.id).where(Notification.recipient_id == auditor_id,
                                                               Notification.kind == "new_task"))


@pytest.mark.parametrize("who", list(PEOPLE))
def test_notification_routes_by_role(app, audit_setup, auditor_notification, who):  # noqa: F811
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, audit_setup["usernames"][who])
    outcomes = {}
    for route, expected in _expected(who).items():
        method, _, path = route.partition(" ") if route.startswith("POST ") else ("GET", "", route)
        path = path.format(notification=auditor_notification)
        response = client.post(path) if method == "POST" else client.get(path)
        if who == "anonymous":
            assert "/sign-in" in response.location, route
        outcomes[route] = (response.status_code, expected)
    wrong = {route: f"got {got}, expected {expected}" for route, (got, expected) in outcomes.items() if got != expected}
    assert not wrong, f"{who}: {wrong}"
