"""Reports, the audit trail and retention: every route for every kind of user.

The people are those of tests/test_access_matrix.py (one audit where every
relationship is distinct). Expected outcomes are written out by hand.
"""
import pytest

from engine.qa import narratives
from tests.conftest import sign_in, user_named
from tests.test_access_matrix import PEOPLE, audit_setup  # noqa: F401  (fixture)

READS_REPORTS = {"the case's head of service", "the moderator (head of service)", "another head of service",
                 "principal social worker", "QA lead", "QA officer", "assistant director", "director"}
EXPORTS = {"QA lead", "director"}
WRITES_NARRATIVE = {"QA lead", "QA officer"}
SIGNS_OFF = {"principal social worker", "assistant director"}
ROUTES = ("/reports", "/reports/report.pdf", "POST /reports/narrative", "POST /reports/narrative/submit",
          "/reports/sign-off", "/reports/narratives/{narrative}", "POST /reports/narratives/{narrative}/return",
          "POST /reports/narratives/{narrative}/sign-off", "/trail", "POST /trail/verify", "POST /trail/exports",
          "/retention", "POST /retention/apply")


@pytest.fixture
def narrative(app, audit_setup):  # noqa: F811
    """A council narrative of the current cycle, written and submitted by the QA lead."""
    from engine.clock import clock
    from engine.qa.reports import cycle_containing
    from webapp.extensions import db
    with app.app_context():
        lead = user_named(db.session, "qa.lead")
        period = cycle_containing(clock.today()).key
        narratives.save(db.session, period, "council", {"key_findings": "Chronologies lag."}, lead)
        found = narratives.narrative_for(db.session, period, "council")
        assert narratives.submit(db.session, found, lead) is None
        db.session.commit()
        return found.id


def _expected(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {route: 302 for route in ROUTES}
    reports = 200 if who in READS_REPORTS else 403
    trail = 200 if who in EXPORTS else 403
    return {"/reports": reports, "/reports/report.pdf": reports,
            # The narrative awaits sign-off: a change is refused for the QA team, forbidden for everyone else.
            "POST /reports/narrative": 409 if who in WRITES_NARRATIVE else 403,
            # Submitting again: refused as awaiting sign-off for the QA team.
            "POST /reports/narrative/submit": 422 if who in WRITES_NARRATIVE else 403,
            "/reports/sign-off": 200 if who in WRITES_NARRATIVE | SIGNS_OFF else 403,
            "/reports/narratives/{narrative}": 200 if who in WRITES_NARRATIVE | SIGNS_OFF else 403,
            # An empty comment is refused for signers; signing off is tried last, and succeeds.
            "POST /reports/narratives/{narrative}/return": 422 if who in SIGNS_OFF else 403,
            "POST /reports/narratives/{narrative}/sign-off": 302 if who in SIGNS_OFF else 403,
            "/trail": trail, "POST /trail/verify": trail,
            # An empty export request: refused as incomplete for exporters, forbidden for everyone else.
            "POST /trail/exports": 422 if who in EXPORTS else 403,
            "/retention": trail,
            # Only the QA lead changes retention; the director reads it.
            "POST /retention/apply": 302 if who == "QA lead" else 403}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_role_by_route(app, audit_setup, narrative, who):  # noqa: F811
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, audit_setup["usernames"][who])
    outcomes = {}
    for route, expected in _expected(who).items():
        method, _, path = route.partition(" ") if route.startswith("POST ") else ("GET", "", route)
        path = path.format(narrative=narrative)
        response = client.post(path, data={}) if method == "POST" else client.get(path)
        outcomes[route] = (response.status_code, expected)
    wrong = {route: f"got {got}, expected {expected}" for route, (got, expected) in outcomes.items() if got != expected}
    assert not wrong, f"{who}: {wrong}"


def test_the_header_links_show_only_to_those_who_may_follow_them(app, audit_setup):  # noqa: F811
    for who in set(PEOPLE) - {"anonymous"}:
        client = app.test_client()
        sign_in(client, audit_setup["usernames"][who])
        inbox = client.get("/inbox").text
        assert ('href="/reports"' in inbox) == (who in READS_REPORTS), who
        assert ('href="/trail"' in inbox) == ('href="/retention"' in inbox) == (who in EXPORTS), who
