"""The thematic audit pages, for every kind of person, against a table written by hand.

The thematic audit is commissioned by the principal social worker about the Children in
Care service (the service of the access matrix's audit) and its sample drawn: the QA team
and senior leaders, the commissioner and that service's head of service may read it;
nobody else. Only the QA lead (never the commissioner) may review the drawn sample."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import clock
from engine.qa.models import Service
from engine.qa.thematic_models import ThematicAudit, ThematicSampleCase
from engine.runtime.instances import complete_task
from engine.runtime.models import HumanTask
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
        thematic = session.scalar(select(ThematicAudit))
        draw = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == thematic.instance_id,
                                                         HumanTask.spec_name == "draw_sample"))
        complete_task(session, draw, user_named(session, "qa.lead"), {"seed": 11, "confirmed": True})
        session.commit()
        return thematic.id


def expectations(who: str) -> dict[str, int]:
    if who == "anonymous":
        return {"/thematic": 302, "/thematic/{id}": 302, "/thematic/{id}/report.pdf": 302, "/annual-reports": 302,
                "/thematic/{id}/review": 302, "/thematic/{id}/sample/{row}": 302}
    reads = 200 if who in READERS else 403
    return {"/thematic": 200, "/thematic/{id}": reads, "/thematic/{id}/report.pdf": reads,
            "/annual-reports": 200,  # a list of what each may read (tests/test_annual_report.py reads one)
            # Reviewing the draw: the QA lead's alone.
            "/thematic/{id}/review": 200 if who == "QA lead" else 403,
            "/thematic/{id}/sample/{row}": 200 if who == "QA lead" else 403}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_thematic_routes_by_role(app, audit_setup, thematic_id, who):  # noqa: F811
    client, _ = signed_in(app, audit_setup["usernames"].get(who))
    row = _first_row(app, thematic_id)
    wrong = {route: f"got {got}, expected {expected}" for route, expected in expectations(who).items()
             if (got := client.get(route.format(id=thematic_id, row=row)).status_code) != expected}
    assert not wrong, f"{who}: {wrong}"
    if who != "QA lead":  # the changes and the confirmation are refused too, and change nothing
        refused = {"remove": client.post(f"/thematic/{thematic_id}/sample/{row}",
                                         data={"action": "remove", "remove_reason": "Not mine to remove"}).status_code,
                   "confirm": client.post(f"/thematic/{thematic_id}/confirm").status_code}
        assert refused == ({"remove": 302, "confirm": 302} if who == "anonymous" else {"remove": 403, "confirm": 403})
        with app.app_context():
            from webapp.extensions import db
            assert db.session.get(ThematicSampleCase, row).status == "proposed"
            assert db.session.get(ThematicAudit, thematic_id).status == "in_review"


def _first_row(app, thematic_id: int) -> int:
    from webapp.extensions import db
    with app.app_context():
        return db.session.scalar(select(ThematicSampleCase.id).where(ThematicSampleCase.thematic_id == thematic_id)
                                 .order_by(ThematicSampleCase.id))


def test_the_list_shows_it_only_to_its_readers(app, audit_setup, thematic_id):  # noqa: F811
    for who in set(PEOPLE) - {"anonymous"}:
        client, _ = signed_in(app, audit_setup["usernames"][who])
        listed = f"/thematic/{thematic_id}" in client.get("/thematic").get_data(as_text=True)
        assert listed == (who in READERS), who
