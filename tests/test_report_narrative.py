"""The QA lead's narrative on a report (issue 11, point 5): written on the report page,
shown there and in the PDF (read back with pypdf), every change an event in the trail."""
import io

from pypdf import PdfReader
from sqlalchemy import select

from engine.qa.narrative_models import ReportNarrative
from tests.test_reports_web import CYCLE_ONE, events_of, history, signed_in  # noqa: F401  (fixture)

SECTIONS = {"key_findings": "Children were seen alone in most audits & <b>chronologies</b> lagged.",
            "learning": "Supervision notes rarely recorded reflection.\nPlans were not SMART in MASH.",
            "recommendations": "Refresh the chronology guidance.",
            "do_differently": "Team managers check chronologies monthly.",
            "team_questions": "How do we record the child's words?"}


def narrative_url(service=""):
    return f"/reports/narrative?period={CYCLE_ONE}&service={service}&team=&audit_type="


def rows(app):
    from webapp.extensions import db
    with app.app_context():
        return [(n.period_key, n.scope_key, n.key_findings, n.learning) for n in db.session.scalars(select(ReportNarrative))]


def test_the_qa_lead_writes_the_narrative_and_it_is_on_the_page_in_the_pdf_and_in_the_trail(app, history):
    client = signed_in(app, "qa.lead")
    saved = client.post(narrative_url(), data=SECTIONS)
    assert saved.status_code == 302 and saved.location.endswith("#narrative")
    assert rows(app) == [(CYCLE_ONE, "council", SECTIONS["key_findings"], SECTIONS["learning"])]
    page = client.get(f"/reports?period={CYCLE_ONE}&service=").text
    assert "The narrative has been saved." in page
    assert "Children were seen alone in most audits &amp; &lt;b&gt;chronologies&lt;/b&gt; lagged." in page
    assert '<p class="govuk-body">Plans were not SMART in MASH.</p>' in page
    assert "What we will do differently" in page and "Team managers check chronologies monthly." in page
    saved_events = events_of(app, "report.narrative_saved")
    assert len(saved_events) == 1 and saved_events[0][1]["sections"]["recommendations"] == SECTIONS["recommendations"]

    pdf = client.get(f"/reports/report.pdf?period={CYCLE_ONE}&service=")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    for expected in ("The QA lead's narrative", "Key findings",
                     "Children were seen alone in most audits & <b>chronologies</b> lagged.",
                     "Plans were not SMART in MASH.", "Questions for team meetings", "How do we record the child's words?"):
        assert expected in text, expected


def test_a_change_is_recorded_with_who_made_it_and_a_second_click_records_nothing(app, history):
    signed_in(app, "qa.lead").post(narrative_url(), data=SECTIONS)
    officer = signed_in(app, "qa.officer1")
    changed = dict(SECTIONS, recommendations="Run a chronology workshop in June.")
    officer.post(narrative_url(), data=changed)
    again = officer.post(narrative_url(), data=changed, follow_redirects=True)
    assert "Nothing had changed: the narrative is as it was." in again.text
    assert "last changed by" in again.text and "Run a chronology workshop in June." in again.text
    saved = events_of(app, "report.narrative_saved")
    assert len(saved) == 2 and saved[1][1]["sections"] == {"recommendations": "Run a chronology workshop in June."}
    assert saved[0][0] != saved[1][0]


def test_each_scope_has_its_own_narrative(app, history):
    client = signed_in(app, "qa.lead")
    client.post(narrative_url(history["Children in Care"]), data={"key_findings": "Placement stability improved."})
    assert rows(app) == [(CYCLE_ONE, f"service:{history['Children in Care']}", "Placement stability improved.", "")]
    council = client.get(f"/reports?period={CYCLE_ONE}&service=").text
    assert "Placement stability improved." not in council
    assert "No narrative has been written for this report yet." in council
    assert "Placement stability improved." in client.get(f"/reports?period={CYCLE_ONE}&service={history['Children in Care']}").text


def test_bad_input_is_refused_and_changes_nothing(app, history):
    client = signed_in(app, "qa.lead")
    too_long = client.post(narrative_url(), data=dict(SECTIONS, learning="x" * 6001))
    assert too_long.status_code == 422 and "Learning must be 6000 characters or fewer" in too_long.text
    assert SECTIONS["recommendations"] in too_long.text  # what was typed is kept
    empty = client.post(narrative_url(), data={})
    assert empty.status_code == 422 and "Write at least one section" in empty.text
    bad_period = client.post(f"/reports/narrative?period=cycle:2025-04-02", data=SECTIONS)
    assert bad_period.status_code == 422 and "That period is not one of the reporting periods" in bad_period.text
    assert rows(app) == [] and events_of(app, "report.narrative_saved") == []


def test_only_the_qa_team_writes_the_narrative_others_read_it(app, history):
    signed_in(app, "qa.lead").post(narrative_url(), data=SECTIONS)
    director = signed_in(app, "director")
    assert director.post(narrative_url(), data={"key_findings": "Changed"}).status_code == 403
    page = director.get(f"/reports?period={CYCLE_ONE}&service=").text
    assert "Refresh the chronology guidance." in page and "Save the narrative" not in page
    assert rows(app)[0][2] == SECTIONS["key_findings"]
