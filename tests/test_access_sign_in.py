"""The sign-in steps and the two-factor account page for every kind of user, against an
explicit allow/deny table.

Everyone signed in may set up two-factor sign-in for themselves (and nobody else: the
page has no person in its address). The second sign-in step and forced set-up are open
only to a browser half way through signing in, which nobody here is, so each is sent
back to the sign-in page. Single sign-on routes do not exist (404) unless an issuer is
configured; with one (the second test), starting is open to all and a callback that
did not start here is refused.
"""
import pytest

from tests.conftest import sign_in
from tests.test_access_matrix import PEOPLE, audit_setup  # noqa: F401  (fixture)

ROUTES = ("/account/two-factor", "POST /account/two-factor", "/sign-in/two-factor", "POST /sign-in/two-factor",
          "/sign-in/two-factor/set-up", "POST /sign-in/two-factor/set-up", "/sign-in/oidc",
          "/sign-in/oidc/callback")


def _expected(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {route: 404 if "/oidc" in route else 302 for route in ROUTES}  # 302: to the sign-in page
    return {
        "/account/two-factor": 200,
        "POST /account/two-factor": 400,  # confirming without a code: refused, nothing changed
        "/sign-in/two-factor": 302,
        "POST /sign-in/two-factor": 302,
        "/sign-in/two-factor/set-up": 302,
        "POST /sign-in/two-factor/set-up": 302,
        "/sign-in/oidc": 404,
        "/sign-in/oidc/callback": 404,
    }


def _outcomes(client, expectations: dict[str, int]) -> dict:
    outcomes = {}
    for route, expected in expectations.items():
        method, _, path = route.partition(" ") if route.startswith("POST ") else ("GET", "", route)
        response = client.post(path, data={"action": "confirm"}) if method == "POST" else client.get(path)
        if response.status_code == 302 and "/oidc" not in route:
            assert response.location.endswith("/sign-in") or "/sign-in?next=" in response.location, route
        outcomes[route] = (response.status_code, expected)
    return {route: f"got {got}, expected {expected}" for route, (got, expected) in outcomes.items() if got != expected}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_sign_in_routes_by_role(app, audit_setup, who):  # noqa: F811
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, audit_setup["usernames"][who])
    wrong = _outcomes(client, _expected(who))
    assert not wrong, f"{who}: {wrong}"


@pytest.mark.parametrize("who", ["anonymous", "QA lead", "the case's worker"])
def test_single_sign_on_routes_when_configured(make_app, audit_setup, who):  # noqa: F811
    # Nothing listens on port 9: a forged callback is refused before any network, and
    # starting says the provider cannot be reached.
    app = make_app(OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="a", OIDC_CLIENT_SECRET="b")
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, audit_setup["usernames"][who])
    assert client.get("/sign-in/oidc/callback?code=x&state=forged").status_code == 403
    unreachable = client.get("/sign-in/oidc")
    assert unreachable.status_code == 503 and "cannot be reached" in unreachable.get_data(as_text=True)
