"""The report page and its PDF, on the known history of tests/test_reports.py.

The PDF is rendered for real and read back with pypdf: the figures a head of
service would forward must be in it, not just a file of the right type.
"""
import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.qa.demo_history import write_history
from engine.qa.models import Service
from engine.runtime.models import Event
from tests.conftest import sign_in
from tests.test_reports import PLANS

CYCLE_ONE = "cycle:2025-04-01"


@pytest.fixture
def history(app):
    from webapp.extensions import db
    with app.app_context():
        write_history(db.session, PLANS)
        db.session.commit()
        services = dict(db.session.execute(select(Service.name, Service.id)).all())
    return services


def signed_in(app, username):
    client = app.test_client()
    sign_in(client, username)
    return client


def events_of(app, kind):
    from webapp.extensions import db
    with app.app_context():
        rows = db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)).all()
        return [(row.actor_id, json.loads(row.payload)) for row in rows]


def test_the_qa_lead_reads_a_cycle_report_for_the_council(app, history):
    page = signed_in(app, "qa.lead").get(f"/reports?period={CYCLE_ONE}")
    assert page.status_code == 200
    text = page.text
    assert "2025/26 cycle 1" in text and "All services" in text
    assert "60.0% – target at least 70.0% (not met)" in text
    assert "20.0% – target at most 10.0% (not met)" in text
    assert "50.0% of 4 moderated" in text
    assert "The moderator agreed with 2 (50.0%); 1 overall grades were raised and 1 lowered." in text
    assert "1 audits graded Inadequate by the auditor or the moderator; the head of service was told of 1, after 2.0 hours" in text
    assert 'data-chart="grade-bars"' in text and 'src="/static/build/charts.js"' in text
    data = json.loads(text.split('<script type="application/json" id="report-data">')[1].split("</script>")[0])
    assert data["cycles"][-1]["counts"] == {"outstanding": 1, "good": 2, "requires_improvement": 1, "inadequate": 1}
    assert data["moderation"]["requires_improvement"]["good"] == 1
    viewed = events_of(app, "report.viewed")
    assert viewed[-1][1]["period"] == CYCLE_ONE and len(viewed[-1][1]["inadequate_audits_listed"]) == 1


def test_a_head_of_service_starts_from_their_own_service_and_may_widen_it(app, history):
    client = signed_in(app, "hos.frontdoor")
    own = client.get(f"/reports?period={CYCLE_ONE}").text
    assert "Case file audit report – Front Door and Assessment" in own
    assert "Audits allocated</dt>\n    <dd class=\"govuk-summary-list__value\">3</dd>" in own
    council = client.get(f"/reports?period={CYCLE_ONE}&service=").text
    assert "Case file audit report – All services" in council
    assert "Audits allocated</dt>\n    <dd class=\"govuk-summary-list__value\">6</dd>" in council
    # The Inadequate audit is in Children in Care: counted, but not listed for this reader.
    assert "Inadequate audits you can open" not in council


def test_the_report_as_a_pdf_holds_the_figures_and_charts(app, history):
    client = signed_in(app, "director")
    response = client.get(f"/reports/report.pdf?period={CYCLE_ONE}&service={history['Children in Care']}"
                          "&target_good_or_better=50&target_inadequate=25")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="case-file-audit-report-2025-04-01.pdf"' in response.headers["Content-Disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for expected in ("Northbridge Council: case file audit report", "2025/26 cycle 1 (1 April 2025 to 12 May 2025)",
                     "Children in Care", "at least 50%", "at most 25%", "Grade mix per cycle",
                     "Area by team: share Good or better", "Children in Care 1",
                     "2 audits moderated; the moderator agreed with 1 (50%). Grades raised: 0; lowered: 1.",
                     "Recurring strengths", "Areas for development"):
        assert expected in text, expected
    assert "MASH 1" not in text  # narrowed to the service
    assert events_of(app, "report.pdf_generated")[-1][1]["service_id"] == history["Children in Care"]


def test_bad_choices_fall_back_with_a_message(app, history):
    page = signed_in(app, "qa.lead").get("/reports?period=cycle:2025-04-02&service=999&target_inadequate=abc")
    assert page.status_code == 200
    assert "That period is not one of the reporting periods: showing the current cycle." in page.text
    assert "There is no such service: showing all of them." in page.text
    assert "A target must be a percentage from 0 to 100: using 10%." in page.text


def test_the_report_is_filtered_by_activity(app, history):
    from engine.qa.models import Audit
    from engine.qa.reports import final_grade
    from webapp.extensions import db
    with app.app_context():
        thematic = db.session.scalars(select(Audit).where(final_grade() == "good").order_by(Audit.id)).first()
        thematic.audit_type = "thematic"
        db.session.commit()
    client = signed_in(app, "qa.lead")

    def counts(query):
        text = client.get(f"/reports?period={CYCLE_ONE}&{query}").text
        data = json.loads(text.split('<script type="application/json" id="report-data">')[1].split("</script>")[0])
        return data["cycles"][-1]["counts"], text
    only_thematic, page = counts("audit_type=thematic")
    assert only_thematic == {"outstanding": 0, "good": 1, "requires_improvement": 0, "inadequate": 0}
    assert '<option value="thematic" selected>' in page
    assert counts("audit_type=random")[0] == {"outstanding": 1, "good": 1, "requires_improvement": 1, "inadequate": 1}
    assert events_of(app, "report.viewed")[-1][1]["audit_type"] == "random"
    unknown, page = counts("audit_type=gossip")
    assert "There is no such activity: showing every kind of audit." in page and sum(unknown.values()) == 5
