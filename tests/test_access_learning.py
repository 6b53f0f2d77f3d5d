"""The Learning pages and report publishing: every route for every kind of user.

The people are those of tests/test_access_matrix.py. One briefing is published to
Children in Care 1, the case's team: its worker, team manager and the head of its service
open it, team managers, practitioners and heads of other teams and services do not (not
found), the QA team open everything, and nobody else has a Learning page. The training needs are for the QA team and the
principal social worker only. Expected outcomes are written out by hand.
"""
import pytest
from sqlalchemy import select

from engine.qa import learning
from engine.qa.models import Team
from tests.conftest import sign_in, user_named
from tests.test_access_matrix import PEOPLE, audit_setup  # noqa: F401  (fixture)

IN_THE_TEAM = {"the case's worker", "the case's team manager", "the case's head of service"}
IN_OTHER_TEAMS = {"another practitioner", "the auditor (team manager)", "another team manager",
                  "the moderator (head of service)", "another head of service"}
QA_TEAM = {"QA lead", "QA officer"}
READS_TRAINING_NEEDS = {"QA lead", "QA officer", "principal social worker"}
ROUTES = ("/learning", "/learning/{publication}", "/learning/briefings/new", "POST /learning/briefings/new",
          "POST /reports/publish", "/training-needs", "/training-needs/export.csv", "/training-needs/export.xlsx")


@pytest.fixture
def publication(app, audit_setup):  # noqa: F811
    from webapp.extensions import db
    with app.app_context():
        team = db.session.scalar(select(Team.id).where(Team.name == "Children in Care 1"))
        found, _ = learning.publish(db.session, "briefing", "Seen alone", learning.briefing_body(
            {key: "Text" for key in learning.BRIEFING_SECTIONS}), learning.Audience(frozenset(), frozenset({team})),
            user_named(db.session, "qa.lead"))
        db.session.commit()
        return found.id


def _expected(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {route: 302 for route in ROUTES}
    opens = who in QA_TEAM | IN_THE_TEAM | IN_OTHER_TEAMS
    return {"/learning": 200 if opens else 403,
            "/learning/{publication}": 200 if who in QA_TEAM | IN_THE_TEAM else (404 if opens else 403),
            "/learning/briefings/new": 200 if who == "QA lead" else 403,
            # Empty forms: refused as incomplete for the QA lead, forbidden for everyone else.
            "POST /learning/briefings/new": 422 if who == "QA lead" else 403,
            "POST /reports/publish": 422 if who == "QA lead" else 403,
            **{route: 200 if who in READS_TRAINING_NEEDS else 403
               for route in ("/training-needs", "/training-needs/export.csv", "/training-needs/export.xlsx")}}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_role_by_route(app, audit_setup, publication, who):  # noqa: F811
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, audit_setup["usernames"][who])
    wrong = {}
    for route, expected in _expected(who).items():
        method, _, path = route.partition(" ") if route.startswith("POST ") else ("GET", "", route)
        path = path.format(publication=publication)
        got = (client.post(path, data={}) if method == "POST" else client.get(path)).status_code
        if got != expected:
            wrong[route] = f"got {got}, expected {expected}"
    assert not wrong, f"{who}: {wrong}"


def test_the_header_link_shows_only_to_those_who_may_follow_it(app, audit_setup):  # noqa: F811
    for who in set(PEOPLE) - {"anonymous"}:
        client = app.test_client()
        sign_in(client, audit_setup["usernames"][who])
        inbox = client.get("/inbox").text
        assert ('href="/learning"' in inbox) == (who in QA_TEAM | IN_THE_TEAM | IN_OTHER_TEAMS), who
        assert ('href="/training-needs"' in inbox) == (who in READS_TRAINING_NEEDS), who
