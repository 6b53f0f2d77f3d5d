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
    bad_period = client.post("/reports/narrative?period=cycle:2025-04-02", data=SECTIONS)
    assert bad_period.status_code == 422 and "That period is not one of the reporting periods" in bad_period.text
    assert rows(app) == [] and events_of(app, "report.narrative_saved") == []


def test_only_the_qa_team_writes_the_narrative_others_read_it(app, history):
    signed_in(app, "qa.lead").post(narrative_url(), data=SECTIONS)
    director = signed_in(app, "director")
    assert director.post(narrative_url(), data={"key_findings": "Changed"}).status_code == 403
    page = director.get(f"/reports?period={CYCLE_ONE}&service=").text
    assert "Refresh the chronology guidance." in page and "Save the narrative" not in page
    assert rows(app)[0][2] == SECTIONS["key_findings"]


# Sign-off (issue 11, point 5): submitted by the QA team, signed off or returned by the
# principal social worker or an assistant director, then published read-only.

def submit_url(service=""):
    return f"/reports/narrative/submit?period={CYCLE_ONE}&service={service}&team=&audit_type="


def the_narrative(app):
    from webapp.extensions import db
    with app.app_context():
        narrative = db.session.scalar(select(ReportNarrative))
        db.session.expunge(narrative)
        return narrative


def sign_off_narrative(app, writer, signer="psw"):
    """Write (if need be), submit and sign off the council narrative of cycle one."""
    if not rows(app):
        writer.post(narrative_url(), data=SECTIONS)
    assert writer.post(submit_url()).status_code == 302
    narrative_id = the_narrative(app).id
    assert signed_in(app, signer).post(f"/reports/narratives/{narrative_id}/sign-off").status_code == 302
    return narrative_id


def add_role(app, username, role):
    from engine.accounts import UserRole
    from tests.conftest import user_named
    from webapp.extensions import db
    with app.app_context():
        db.session.add(UserRole(user_id=user_named(db.session, username).id, role=role))
        db.session.commit()


def display_name(app, username):
    from tests.conftest import user_named
    from webapp.extensions import db
    with app.app_context():
        return user_named(db.session, username).display_name


def notifications_of(app, username):
    from engine.notifications import Notification
    from tests.conftest import user_named
    from webapp.extensions import db
    with app.app_context():
        return [(n.kind, n.subject, n.link) for n in db.session.scalars(select(Notification).where(
            Notification.recipient_id == user_named(db.session, username).id).order_by(Notification.id))]


def test_submitted_signed_off_by_the_psw_published_read_only_and_in_the_pdf_with_the_signer(app, history):
    lead = signed_in(app, "qa.lead")
    lead.post(narrative_url(), data=SECTIONS)
    draft_page = lead.get(f"/reports?period={CYCLE_ONE}&service=").text
    assert "Draft: not yet signed off." in draft_page and "Submit for sign-off" in draft_page
    submitted = lead.post(submit_url(), follow_redirects=True).text
    assert "The narrative has been submitted for sign-off." in submitted
    assert "Draft awaiting sign-off: submitted by" in submitted and "Save the narrative" not in submitted
    narrative = the_narrative(app)
    assert narrative.status == "awaiting_sign_off"
    assert ("narrative_sign_off", "A report narrative awaits your sign-off: 2025/26 cycle 1: All services",
            f"/reports/narratives/{narrative.id}") in notifications_of(app, "psw")

    psw = signed_in(app, "psw")
    inbox = psw.get("/inbox").text
    assert "1 report narrative awaits your sign-off" in inbox and 'href="/reports/sign-off"' in inbox
    listing = psw.get("/reports/sign-off").text
    assert f'href="/reports/narratives/{narrative.id}">2025/26 cycle 1: All services</a>' in listing
    page = psw.get(f"/reports/narratives/{narrative.id}").text
    assert "Refresh the chronology guidance." in page and "Sign off and publish" in page
    signed = psw.post(f"/reports/narratives/{narrative.id}/sign-off", follow_redirects=True).text
    assert "You have signed off the narrative of 2025/26 cycle 1: All services. It is published." in signed
    assert "Nothing awaits your sign-off." in signed
    assert the_narrative(app).status == "published"
    assert [kind for kind, *_ in notifications_of(app, "qa.lead")] == ["narrative_signed_off"]

    report_page = lead.get(f"/reports?period={CYCLE_ONE}&service=").text
    signer = display_name(app, "psw")
    assert f"Signed off by {signer} on " in report_page and "Change the narrative" not in report_page
    assert "Submit for sign-off" not in report_page
    for editor in (lead, signed_in(app, "qa.officer1")):
        refused = editor.post(narrative_url(), data=dict(SECTIONS, learning="Rewritten after sign-off."))
        assert refused.status_code == 409
        assert "is published: it can no longer be changed." in refused.text
    assert rows(app) == [(CYCLE_ONE, "council", SECTIONS["key_findings"], SECTIONS["learning"])]
    again = psw.post(f"/reports/narratives/{narrative.id}/sign-off")
    assert again.status_code == 409 and "This narrative is already signed off and published." in again.text

    pdf = lead.get(f"/reports/report.pdf?period={CYCLE_ONE}&service=")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Refresh the chronology guidance." in text and f"Signed off by {signer} on " in text
    assert [payload["narrative_id"] for _, payload in events_of(app, "report.narrative_submitted")] == [narrative.id]
    [(signer_id, signed_payload)] = events_of(app, "report.narrative_signed_off")
    assert signed_payload == {"period": CYCLE_ONE, "scope": "council", "narrative_id": narrative.id}
    assert len(events_of(app, "report.narrative_saved")) == 1  # the refused edits left no trace as saves


def test_nobody_signs_off_a_narrative_they_wrote_changed_or_submitted(app, history):
    lead = signed_in(app, "qa.lead")
    lead.post(narrative_url(), data=SECTIONS)
    lead.post(submit_url())
    narrative_id = the_narrative(app).id
    assert lead.post(f"/reports/narratives/{narrative_id}/sign-off").status_code == 403  # not a signer
    add_role(app, "qa.lead", "principal_social_worker")  # a QA lead who is also the principal social worker
    lead = signed_in(app, "qa.lead")
    own = lead.post(f"/reports/narratives/{narrative_id}/sign-off")
    assert own.status_code == 409 and "You wrote, changed or submitted this narrative" in own.text
    assert "awaits your sign-off" not in lead.get("/inbox").text
    assert "Sign off and publish" not in lead.get(f"/reports/narratives/{narrative_id}").text
    # An assistant director who changed an earlier draft (as a QA officer too) may not either.
    signed_in(app, "ad.safeguarding").post(f"/reports/narratives/{narrative_id}/return", data={"comment": "Shorter."})
    add_role(app, "ad.safeguarding", "qa_officer")
    director = signed_in(app, "ad.safeguarding")
    director.post(narrative_url(), data=dict(SECTIONS, learning="Shorter."))
    lead.post(narrative_url(), data=dict(SECTIONS, learning="Shorter still."))
    signed_in(app, "qa.officer1").post(submit_url())
    refused = director.post(f"/reports/narratives/{narrative_id}/sign-off")
    assert refused.status_code == 409 and "someone else must sign it off" in refused.text
    assert the_narrative(app).status == "awaiting_sign_off" and events_of(app, "report.narrative_signed_off") == []
    assert signed_in(app, "psw").post(f"/reports/narratives/{narrative_id}/sign-off").status_code == 302


def test_a_signer_returns_the_narrative_with_a_comment_and_it_can_be_changed_again(app, history):
    lead = signed_in(app, "qa.lead")
    lead.post(narrative_url(), data=SECTIONS)
    lead.post(submit_url())
    narrative_id = the_narrative(app).id
    waiting = lead.post(narrative_url(), data=dict(SECTIONS, learning="Changed while waiting."))
    assert waiting.status_code == 409 and "awaiting sign-off and cannot be changed" in waiting.text
    director = signed_in(app, "ad.safeguarding")
    empty = director.post(f"/reports/narratives/{narrative_id}/return", data={"comment": "  "})
    assert empty.status_code == 422 and "Say what needs to change before returning the narrative" in empty.text
    assert the_narrative(app).status == "awaiting_sign_off"
    returned = director.post(f"/reports/narratives/{narrative_id}/return",
                             data={"comment": "Name the teams behind the chronology finding."}, follow_redirects=True)
    assert "You have returned the narrative of 2025/26 cycle 1: All services to the QA team." in returned.text
    narrative = the_narrative(app)
    assert (narrative.status, narrative.return_comment) == ("draft", "Name the teams behind the chronology finding.")
    assert "narrative_returned" in [kind for kind, *_ in notifications_of(app, "qa.lead")]
    page = lead.get(f"/reports?period={CYCLE_ONE}&service=").text
    assert f"Returned by {display_name(app, 'ad.safeguarding')} on" in page
    assert "Name the teams behind the chronology finding." in page and "Change the narrative" in page
    assert lead.post(narrative_url(), data=dict(SECTIONS, learning="MASH 1 and MASH 2 lagged.")).status_code == 302
    assert rows(app)[0][3] == "MASH 1 and MASH 2 lagged."
    [(_, payload)] = events_of(app, "report.narrative_returned")
    assert payload["comment"] == "Name the teams behind the chronology finding."
    assert "Returned with a comment" in director.get("/reports/sign-off").text
