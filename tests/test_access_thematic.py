"""The thematic audit pages, for every kind of person, against a table written by hand.

The thematic audit is commissioned by the principal social worker about the Children in
Care service (the service of the access matrix's audit): the QA team and senior leaders,
the commissioner and that service's head of service may read it; nobody else."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import clock
from engine.qa.models import Service
from engine.qa.thematic_models import ThematicAudit
from engine.runtime.starting import start_process
from tests.conftest import user_named
from tests.test_access_matrix import PEOPLE, audit_setup, signed_in  # noqa: F401  (audit_setup: the fixture)

READERS = {"the case's head of service", "principal social worker", "QA lead", "QA officer", "assistant director",
           "director"}


@pytest.fixture
def thematic_id(app, audit_setup):  # noqa: F811
    from webapp.extensions import db
    with app.app_context():
        session = db.session
        service = session.scalar(select(Service).where(Service.name == "Children in Care"))
        start_process(session, user_named(session, "psw"), "thematic_audit", {
            "theme": "Permanence", "question": "Is permanence planned early enough?", "why_now": "review",
            "cohort": "child_in_care", "sample_size": 2, "tool": "case_file_audit",
            "deadline": (clock.today() + timedelta(days=90)).isoformat()}, service.id)
        session.commit()
        return session.scalar(select(ThematicAudit.id))


def expectations(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {"/thematic": 302, "/thematic/{id}": 302, "/thematic/{id}/report.pdf": 302, "/annual-reports": 302}
    reads = 200 if who in READERS else 403
    return {"/thematic": 200, "/thematic/{id}": reads, "/thematic/{id}/report.pdf": reads,
            "/annual-reports": 200}  # a list of what each may read (tests/test_annual_report.py reads one)


@pytest.mark.parametrize("who", list(PEOPLE))
def test_thematic_routes_by_role(app, audit_setup, thematic_id, who):  # noqa: F811
    client, _ = signed_in(app, audit_setup["usernames"].get(who))
    wrong = {route: f"got {got}, expected {expected}" for route, expected in expectations(who).items()
             if (got := client.get(route.format(id=thematic_id)).status_code) != expected}
    assert not wrong, f"{who}: {wrong}"


def test_the_list_shows_it_only_to_its_readers(app, audit_setup, thematic_id):  # noqa: F811
    for who in set(PEOPLE) - {"anonymous"}:
        client, _ = signed_in(app, audit_setup["usernames"][who])
        listed = f"/thematic/{thematic_id}" in client.get("/thematic").get_data(as_text=True)
        assert listed == (who in READERS), who
