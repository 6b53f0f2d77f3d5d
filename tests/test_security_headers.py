"""Security headers on every page and API answer of the role-by-route matrices.

Rather than copy their route lists, this runs the matrices' own tests (every module
tests/test_access_*.py) for a few kinds of person with a test client that checks each
response it receives: the Content-Security-Policy, frame-ancestors and X-Frame-Options,
nosniff, Referrer-Policy and `Cache-Control: no-store`. A matrix route added later is
covered without touching this file. HSTS is checked apart: sent over HTTPS only, and
behind a proxy only when QA_TRUST_PROXY says to believe its X-Forwarded-Proto.
"""
import pytest
from flask.testing import FlaskClient

from tests import (test_access_cycles, test_access_matrix, test_access_models, test_access_monitoring,
                   test_access_notifications, test_access_reports)
from tests.test_access_cycles import cycle_setup  # noqa: F401  (fixtures the matrices use)
from tests.test_access_matrix import audit_setup  # noqa: F401
from tests.test_access_models import models_setup  # noqa: F401
from tests.test_access_notifications import auditor_notification  # noqa: F401
from tests.test_access_reports import narrative  # noqa: F401

REQUIRED_POLICY = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                   "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'")
# The only loosening, on the process editor alone: style attributes for bpmn-js-properties-panel.
EDITOR_ONLY = "style-src-attr 'unsafe-inline'"

# Each matrix test, the fixtures it takes, and the people to run it for (covering 200, 302, 403, 404, 422).
MATRICES = {
    "pages and API": (test_access_matrix.test_role_by_route, ("audit_setup",),
                      ("anonymous", "the case's worker", "QA lead", "process owner")),
    "models": (test_access_models.test_role_by_route, ("models_setup",), ("anonymous", "QA lead", "process owner")),
    "monitoring": (test_access_monitoring.test_role_by_route, ("audit_setup",), ("anonymous", "QA lead", "the case's worker")),
    "cycles": (test_access_cycles.test_role_by_route, ("cycle_setup",), ("anonymous", "QA lead", "practitioner")),
    "notifications": (test_access_notifications.test_notification_routes_by_role, ("audit_setup", "auditor_notification"),
                      ("anonymous", "the auditor (team manager)", "QA lead")),
    "reports": (test_access_reports.test_role_by_route, ("audit_setup", "narrative"),
                ("anonymous", "QA lead", "director")),
}


def problems_with_headers(response, path: str, https: bool = False) -> list[str]:
    """What is missing or wrong in `response`'s security headers (empty when all is well)."""
    headers, problems = response.headers, []
    policy = headers.get("Content-Security-Policy", "")
    problems += [f"CSP lacks {part}" for part in REQUIRED_POLICY if part not in policy]
    loosened = policy.replace("; " + EDITOR_ONLY, "") if path.endswith("/draft/modeler") else policy
    if "unsafe-inline" in loosened or "unsafe-eval" in loosened:
        problems.append(f"CSP allows inline code: {policy}")
    expected = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    problems += [f"{name} is {headers.get(name)!r}" for name, value in expected.items() if headers.get(name) != value]
    is_static = path.startswith("/static/")
    if not is_static and headers.get("Cache-Control") != "no-store":
        problems.append(f"Cache-Control is {headers.get('Cache-Control')!r}")
    if is_static and "no-store" in headers.get("Cache-Control", ""):
        problems.append("a static file is not cacheable")
    if ("Strict-Transport-Security" in headers) != https:
        problems.append(f"HSTS {'missing over HTTPS' if https else 'sent over plain HTTP'}")
    return problems


class HeaderCheckingClient(FlaskClient):
    """A test client that records every response whose security headers are not right."""
    seen: list[str]
    wrong: dict[str, list[str]]

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        path = response.request.path
        self.seen.append(path)
        if problems := problems_with_headers(response, path, https=response.request.scheme == "https"):
            self.wrong[f"{response.request.method} {path} ({response.status_code})"] = problems
        return response


@pytest.fixture
def checked(app):
    """Every client the app makes checks headers; yields what was seen and what was wrong."""
    record = {"seen": [], "wrong": {}}

    class Recording(HeaderCheckingClient):
        seen, wrong = record["seen"], record["wrong"]

    app.test_client_class = Recording
    yield record
    app.test_client_class = FlaskClient


@pytest.mark.parametrize(("matrix", "who"), [(matrix, who) for matrix, (_, _, people) in MATRICES.items()
                                             for who in people])
def test_every_matrix_route_carries_the_security_headers(app, checked, request, matrix, who):
    run, fixtures, _ = MATRICES[matrix]
    run(app, *(request.getfixturevalue(name) for name in fixtures), who)
    assert len(checked["seen"]) >= 3, "the matrix made no requests through the checking client"
    assert not checked["wrong"], f"{matrix}, {who}: {checked['wrong']}"


def test_error_pages_static_files_and_the_api_description_carry_them_too(client):
    for path in ("/no-such-page", "/audits/99999999999999999999999", "/api/v1/no-such-thing",
                 "/api/v1/openapi.json", "/sign-in", "/static/build/app.css"):
        response = client.get(path)
        assert not problems_with_headers(response, path), (path, problems_with_headers(response, path))


def test_hsts_only_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
    secure = client.get("/sign-in", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # Without QA_TRUST_PROXY a client cannot claim HTTPS by sending the header itself.
    assert "Strict-Transport-Security" not in client.get("/sign-in", headers={"X-Forwarded-Proto": "https"}).headers


def test_behind_a_trusted_proxy_its_forwarded_scheme_counts(database_url, monkeypatch):
    from webapp import create_app
    monkeypatch.setenv("QA_TRUST_PROXY", "1")
    behind_proxy = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "test"})
    client = behind_proxy.test_client()
    assert "Strict-Transport-Security" in client.get("/sign-in", headers={"X-Forwarded-Proto": "https"}).headers
    assert "Strict-Transport-Security" not in client.get("/sign-in", headers={"X-Forwarded-Proto": "http"}).headers


def test_forms_may_post_to_the_councils_openid_provider_only_when_single_sign_on_is_on():
    from webapp.security_headers import content_security_policy
    assert "form-action 'self';" in content_security_policy("") + ";"
    with_sso = content_security_policy("https://login.example.org/tenant-id/v2.0")
    assert "form-action 'self' https://login.example.org" in with_sso and "tenant-id" not in with_sso
