"""Feedback asked straight from children, families and professionals through single-use links:
the engine's rules, the public pages as the person meets them, and the audit and report
where the answers land."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.clock import clock
from engine.notification_models import OutboxEmail
from engine.qa import feedback_requests
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.feedback_request_models import FeedbackRequest, FeedbackResponse
from engine.qa.models import Audit, Case, Team
from engine.runtime.models import Event
from tests.conftest import sign_in, user_named

CHILD_ANSWERS = {"consent": True, "explains": "sometimes", "say_before_meetings": "yes", "got_better": "yes",
                 "got_better_detail": "I see my dad more <b>often</b>", "can_reach": "not_sure"}
CHILD_FORM = {"consent": "yes", "explains": "sometimes", "say_before_meetings": "yes", "got_better": "yes",
              "got_better_detail": "I see my dad more <b>often</b>", "can_reach": "not_sure"}


def _allocate(session) -> Audit:
    case = session.scalar(select(Case).join(Team).where(Team.name == "Children in Care 1").order_by(Case.id))
    audit = allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                      user_named(session, "hos.disabled").id),
                           user_named(session, "qa.lead"))
    session.commit()
    return audit


@pytest.fixture
def audit(app):
    from webapp.extensions import db
    with app.app_context():
        found = _allocate(db.session)
        return {"id": found.id, "reference": found.reference, "case": found.case.reference}


def _ask(session, audit_id, audience="age_8_to_12", channel="letter", email=None, by="tm.mash1"):
    issued = feedback_requests.create_request(session, session.get(Audit, audit_id), user_named(session, by),
                                              audience, channel, email)
    session.commit()
    return issued


# --- the engine's rules ---------------------------------------------------------------------------

def test_a_code_is_128_random_bits_kept_only_as_its_digest(session):
    audit = _allocate(session)
    issued = _ask(session, audit.id)
    stored = session.get(FeedbackRequest, issued.request.id)
    assert len(issued.code) == 26 and re.fullmatch(r"[A-Z2-7]{26}", issued.code)  # 16 random bytes in base32
    assert stored.token_digest != issued.code and issued.code not in stored.token_digest
    assert feedback_requests.open_request(session, issued.spaced_code.lower()).id == stored.id
    assert _ask(session, audit.id).code != issued.code


def test_an_answer_is_kept_once_and_the_link_then_refuses(session):
    audit = _allocate(session)
    issued = _ask(session, audit.id)
    response = feedback_requests.submit_response(session, issued.code, dict(CHILD_ANSWERS))
    session.commit()
    assert response.answers["got_better_detail"] == "I see my dad more <b>often</b>" and response.consent
    with pytest.raises(feedback_requests.FeedbackLinkClosed) as closed:
        feedback_requests.submit_response(session, issued.code, dict(CHILD_ANSWERS))
    assert closed.value.reason == "used"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(FeedbackResponse)) == 1
    kinds = session.scalars(select(Event.kind).where(Event.subject_id == str(audit.id))).all()
    assert "feedback_request.created" in kinds and "feedback_response.received" in kinds


def test_expired_withdrawn_and_unknown_links_say_why(session):
    audit = _allocate(session)
    expiring, withdrawn = _ask(session, audit.id), _ask(session, audit.id)
    feedback_requests.withdraw(session, session.get(Audit, audit.id), withdrawn.request.id, user_named(session, "tm.mash1"))
    session.commit()
    clock.set(clock.now() + timedelta(days=feedback_requests.DEFAULT_LINK_DAYS, minutes=1))
    for code, reason in ((expiring.code, "expired"), (withdrawn.code, "withdrawn"), ("A" * 26, "unknown")):
        with pytest.raises(feedback_requests.FeedbackLinkClosed) as closed:
            feedback_requests.open_request(session, code)
        assert closed.value.reason == reason


def test_bad_answers_and_bad_requests_change_nothing(session):
    audit = _allocate(session)
    issued = _ask(session, audit.id)
    with pytest.raises(ValueError) as invalid:
        feedback_requests.submit_response(session, issued.code, {"explains": "always"})
    assert set(invalid.value.args[0]) >= {"consent", "explains"}
    session.rollback()
    assert session.get(FeedbackRequest, issued.request.id).answered_at is None
    with pytest.raises(feedback_requests.FeedbackRequestError) as bad_email:
        _ask(session, audit.id, channel="email", email="not-an-address")
    assert bad_email.value.field == "email"
    session.rollback()
    with pytest.raises(PermissionError):
        _ask(session, audit.id, by="sw.safeguarding1.1")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(FeedbackRequest)) == 1


def test_an_emailed_link_leaves_no_address_or_link_once_sent(session, monkeypatch):
    from engine import email_delivery
    monkeypatch.setenv("QA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("QA_SMTP_SENDER", "qa@example.org")
    audit = _allocate(session)
    issued = _ask(session, audit.id, audience="parent_carer", channel="email", email="parent@example.org")
    email = session.scalar(select(OutboxEmail).where(OutboxEmail.notification_id.is_(None)))
    assert email.recipient_address == "parent@example.org" and issued.code in email.text_body
    assert "Children in Care" not in email.text_body and audit.case.reference not in email.text_body
    email_delivery._record_sent(session, email)
    session.commit()
    assert (email.recipient_address, email.text_body, email.html_body) == ("", "", "")


# --- over HTTP, as the auditor and as the person asked --------------------------------------------

def test_a_letter_is_answered_on_the_public_page_and_seen_on_the_audit_and_moderation(app, audit):
    auditor = app.test_client()
    sign_in(auditor, "tm.mash1")
    page = auditor.post(f"/audits/{audit['id']}/feedback-requests/new",
                        data={"audience": "age_8_to_12", "channel": "letter"}).get_data(as_text=True)
    code = re.search(r'app-letter__code">([A-Z2-7 ]+)<', page).group(1)

    family = app.test_client()
    form = family.get("/feedback").get_data(as_text=True)
    assert "Enter the code from your letter" in form
    answer_url = family.post("/feedback", data={"code": code.lower()}).headers["Location"]
    form = family.get(answer_url).get_data(as_text=True)
    assert "Does your social worker explain what is happening and why?" in form
    assert audit["case"] not in form and audit["reference"] not in form  # no case details on a public page
    refused = family.post(answer_url, data={"explains": "yes"})
    assert refused.status_code == 400 and "There is a problem" in refused.get_data(as_text=True)
    done = family.post(answer_url, data=CHILD_FORM)
    assert done.status_code == 302 and "thank-you" in done.headers["Location"]
    again = family.get(answer_url)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    assert "see my dad" not in again.get_data(as_text=True)

    record = auditor.get(f"/audits/{audit['id']}").get_data(as_text=True)
    assert "In their own words" in record and "Sometimes" in record and "Not sure" in record
    assert "I see my dad more &lt;b&gt;often&lt;/b&gt;" in record and "not_sure" not in record
    moderator = app.test_client()
    sign_in(moderator, "hos.disabled")
    assert "I see my dad more" in moderator.get(f"/audits/{audit['id']}").get_data(as_text=True)


def test_the_auditor_withdraws_a_link_and_it_stops_working(app, audit):
    auditor = app.test_client()
    sign_in(auditor, "tm.mash1")
    page = auditor.post(f"/audits/{audit['id']}/feedback-requests/new",
                        data={"audience": "professional", "channel": "letter"}).get_data(as_text=True)
    code = re.search(r'app-letter__code">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    from webapp.extensions import db
    with app.app_context():
        request_id = db.session.scalar(select(FeedbackRequest.id).where(FeedbackRequest.audit_id == audit["id"]))
    outsider = app.test_client()
    sign_in(outsider, "sw.safeguarding1.1")
    assert outsider.post(f"/audits/{audit['id']}/feedback-requests/{request_id}/withdraw").status_code == 403
    assert auditor.post(f"/audits/{audit['id']}/feedback-requests/{request_id}/withdraw").status_code == 302
    closed = app.test_client().get(f"/feedback/{code}")
    assert closed.status_code == 410 and "no longer in use" in closed.get_data(as_text=True)


def test_asking_with_missing_choices_names_each_problem(app, audit):
    auditor = app.test_client()
    sign_in(auditor, "tm.mash1")
    refused = auditor.post(f"/audits/{audit['id']}/feedback-requests/new", data={"channel": "email"})
    assert refused.status_code == 400 and "Select who the feedback is from" in refused.get_data(as_text=True)
    assert app.test_client().get("/feedback/NOTACODE").status_code == 404


def test_the_report_counts_links_sent_and_answered_and_what_was_said(app, audit):
    from webapp.extensions import db
    with app.app_context():
        session = db.session
        first, second = _ask(session, audit["id"]), _ask(session, audit["id"])
        _ask(session, audit["id"], audience="parent_carer")
        feedback_requests.submit_response(session, first.code, dict(CHILD_ANSWERS))
        feedback_requests.submit_response(session, second.code, dict(CHILD_ANSWERS, explains="no"))
        session.commit()
        summary = feedback_requests.response_summary(session, select(Audit.id).where(Audit.id == audit["id"]))
    rows = {row["audience"]: row for row in summary["audiences"]}
    assert (rows["Child aged 8 to 12"]["sent"], rows["Child aged 8 to 12"]["answered"], rows["Child aged 8 to 12"]["rate"]) == (2, 2, 100)
    assert (rows["Parent or carer"]["sent"], rows["Parent or carer"]["answered"], rows["Parent or carer"]["rate"]) == (1, 0, 0)
    explains = next(q for q in summary["questions"]
                    if q["question"] == "Does your social worker explain what is happening and why?")
    assert explains["answers"] == [("No", 1), ("Sometimes", 1)]

    lead = app.test_client()
    sign_in(lead, "qa.lead")
    page = lead.get("/reports").get_data(as_text=True)
    assert "Feedback links sent to children, families and professionals" in page
    assert "No: 1; Sometimes: 1" in page


def test_retention_blanks_what_people_wrote_but_keeps_their_choices(session):
    from engine.qa.retention import ANONYMISED
    audit = _allocate(session)
    issued = _ask(session, audit.id)
    feedback_requests.submit_response(session, issued.code, dict(CHILD_ANSWERS))
    session.commit()
    feedback_requests.anonymise_responses(session, FeedbackRequest.audit_id == audit.id, ANONYMISED)
    session.commit()
    kept = session.scalar(select(FeedbackResponse).where(FeedbackResponse.audit_id == audit.id))
    assert kept.answers["got_better_detail"] == ANONYMISED
    assert kept.answers["explains"] == "sometimes" and kept.answers["consent"] is True
