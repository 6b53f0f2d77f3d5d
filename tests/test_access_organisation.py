"""Every organisation page and API route, for every kind of user (the people of
tests/test_access_matrix.py plus the system administrator), against a hand-written table:
only system administrators manage; the QA lead reads; nobody changes their own roles.

Posts carry nothing valid, so a manager gets 422 (refused with a message) and nobody else
gets past 403; the expected outcomes are written out by hand, not derived from the code.
"""
import pytest
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.organisation.absence import set_absence
from engine.qa.models import Service, Team
from tests.conftest import sign_in
from tests.test_access_matrix import PEOPLE, audit_setup  # noqa: F401  (the fixture)

WHO = {**PEOPLE, "system administrator": "sysadmin"}
MANAGERS = {"system administrator"}
READERS = {"system administrator", "QA lead"}
HANDOVER = {"system administrator", "QA lead"}
EVERYONE = set(WHO) - {"anonymous"}
PAGES = {
    "/organisation/services": READERS, "/organisation/services/new": MANAGERS,
    "/organisation/services/{service}": READERS, "POST /organisation/services/{service}": (MANAGERS, 422),
    "/organisation/teams": READERS, "/organisation/teams/new": MANAGERS, "/organisation/teams/{team}": READERS,
    "POST /organisation/teams/new": (MANAGERS, 422),
    "/organisation/people": READERS, "/organisation/people/new": MANAGERS,
    "POST /organisation/people/new": (MANAGERS, 422), "/organisation/people/{person}": READERS,
    "/organisation/people/{person}/edit": MANAGERS, "POST /organisation/people/{person}/edit": (MANAGERS, 422),
    "/organisation/people/{person}/roles": MANAGERS, "POST /organisation/people/{person}/roles": (MANAGERS, 422),
    # Asking to change one's own roles: refused with a message for the administrator, forbidden for others.
    "POST /organisation/people/{me}/roles": (MANAGERS, 422),
    "/organisation/people/{person}/move": MANAGERS, "POST /organisation/people/{person}/move": (MANAGERS, 422),
    "/organisation/people/{person}/deactivate": MANAGERS,
    "POST /organisation/people/{person}/deactivate": (MANAGERS, 422),
    "/organisation/people/{person}/reactivate": MANAGERS, "/organisation/people/{person}/password": MANAGERS,
    "POST /organisation/people/{person}/password": (MANAGERS, 422),
    "/organisation/people/{person}/work": HANDOVER, "POST /organisation/people/{person}/work": (HANDOVER, 422),
    "/organisation/import": MANAGERS, "POST /organisation/import": (MANAGERS, 422),
    # Absence: the person, their line manager (nobody in the demo has one) or a system administrator.
    "/people/{me}/absence": EVERYONE, "/people/{person}/absence": MANAGERS,
    "POST /people/{person}/absence": (MANAGERS, 422), "POST /absences/{absence}/end": (MANAGERS, 302),
}
API = {
    "/api/v1/organisation/services": READERS, "POST /api/v1/organisation/services": (MANAGERS, 422),
    "PUT /api/v1/organisation/services/{service}": (MANAGERS, 422),
    "/api/v1/organisation/teams": READERS, "POST /api/v1/organisation/teams": (MANAGERS, 422),
    "PUT /api/v1/organisation/teams/{team}": (MANAGERS, 422),
    "/api/v1/organisation/people": READERS, "POST /api/v1/organisation/people": (MANAGERS, 422),
    "/api/v1/organisation/people/{person}": READERS, "PUT /api/v1/organisation/people/{person}": (MANAGERS, 422),
    "POST /api/v1/organisation/people/{person}/roles": (MANAGERS, 422),
    "POST /api/v1/organisation/people/{person}/move": (MANAGERS, 422),
    "POST /api/v1/organisation/people/{person}/deactivate": (MANAGERS, 422),
    "/api/v1/organisation/people/{person}/open-work": HANDOVER,
    "POST /api/v1/organisation/people/{person}/open-work": (HANDOVER, 422),
}
# The API's own-roles refusal: a well-formed grant to oneself is refused (403) even for the administrator.
OWN_ROLES_API = "POST /api/v1/organisation/people/{me}/roles"


def _expected(table: dict, who: str, signed_out: int) -> dict[str, int]:
    outcomes = {}
    for route, rule in table.items():
        group, code = rule if isinstance(rule, tuple) else (rule, 200)
        outcomes[route] = signed_out if who == "anonymous" else (code if who in group else 403)
    return outcomes


def _call(client, route: str, ids: dict, headers=None, body=None):
    method, _, path = route.partition(" ") if route.startswith(("POST ", "PUT ")) else ("GET", "", route)
    path = path.format(**ids)
    if method == "GET":
        return client.get(path, headers=headers)
    if path.startswith("/api/"):
        return client.open(path, method=method, json=body if body is not None else {}, headers=headers)
    return client.post(path, data={"name": "", "reason": "", "change": "remove", "role": "qa_lead"})


@pytest.fixture
def ids(app, audit_setup):  # noqa: F811
    from webapp.extensions import db
    with app.app_context():
        found = {"service": db.session.scalar(select(Service.id).where(Service.name == "Children in Care")),
                 "team": db.session.scalar(select(Team.id).where(Team.name == "MASH 1")),
                 "person": db.session.scalar(select(User.id).where(User.username == "sw.mash1.2"))}
        admin = db.session.scalar(select(User).where(User.username == "sysadmin"))
        cover = db.session.scalar(select(User.id).where(User.username == "sw.mash1.3"))
        found["absence"] = set_absence(db.session, admin, found["person"], cover, clock.today(), clock.today()).id
        db.session.commit()
        found["usernames"] = {**audit_setup["usernames"], "system administrator": "sysadmin"}
        db.session.remove()
    return found


@pytest.mark.parametrize("who", list(WHO))
def test_role_by_route(app, ids, who):
    client, api_client, headers = app.test_client(), app.test_client(), None
    if who != "anonymous":
        username = ids["usernames"][who]
        sign_in(client, username)
        issued = api_client.post("/api/v1/tokens", json={"username": username, "password": "demo-password"})
        headers = {"Authorization": f"Bearer {issued.get_json()['token']}"}
        from webapp.extensions import db
        with app.app_context():
            ids = {**ids, "me": db.session.scalar(select(User.id).where(User.username == username))}
            db.session.remove()
    else:
        ids = {**ids, "me": ids["person"]}
    outcomes = {route: (_call(client, route, ids).status_code, expected)
                for route, expected in _expected(PAGES, who, 302).items()}
    outcomes |= {route: (_call(api_client, route, ids, headers).status_code, expected)
                 for route, expected in _expected(API, who, 401).items()}
    own = _call(api_client, OWN_ROLES_API, ids, headers, {"change": "grant", "role": "qa_lead", "version": 1})
    outcomes[OWN_ROLES_API] = (own.status_code, 401 if who == "anonymous" else 403)
    wrong = {route: f"got {got}, expected {expected}" for route, (got, expected) in outcomes.items() if got != expected}
    assert not wrong, f"{who}: {wrong}"
    if who != "anonymous":
        from webapp.extensions import db
        with app.app_context():
            me = db.session.scalar(select(User).where(User.username == ids["usernames"][who]))
            assert "qa_lead" not in me.roles or who == "QA lead"  # nobody granted themselves anything
            db.session.remove()
