"""The participation team's record of what children and young people said outside audits, and
the Corporate Parenting Board report built from it and from the children's own audit feedback."""
import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.clock import clock
from engine.qa import feedback_requests, participation
from engine.qa.models import Audit
from engine.qa.participation_models import ParticipationRecord
from engine.runtime.models import Event
from tests.conftest import sign_in, user_named
from tests.test_feedback_requests import CHILD_ANSWERS, _allocate

FORUM_VIEWS = {"gathered_on": "2026-11-10", "forum": "children_in_care_council", "cohort": "children_in_care",
               "participants": "12", "theme": "worker_changes",
               "what_they_said": "We have to tell our story again & again <every> time a worker leaves",
               "what_we_did": "Handover visits with the new worker are now expected"}


def test_views_are_checked_and_recorded(session):
    lead = user_named(session, "qa.lead")
    for field_name, wrong, message in (("gathered_on", "2099-01-01", "future"), ("forum", "pub", "where the views"),
                                       ("participants", "a dozen", "as a number"), ("what_they_said", "", "what they told")):
        with pytest.raises(participation.ParticipationError) as problem:
            participation.record_views(session, lead, dict(FORUM_VIEWS, **{field_name: wrong}))
        assert problem.value.field == field_name and message in str(problem.value)
    with pytest.raises(PermissionError):
        participation.record_views(session, user_named(session, "sw.safeguarding1.1"), FORUM_VIEWS)
    record = participation.record_views(session, lead, FORUM_VIEWS)
    session.commit()
    assert (record.participants, record.theme) == (12, "worker_changes")
    assert session.scalar(select(Event.kind).where(Event.subject_type == "participation", Event.subject_id == str(record.id))) == "participation.recorded"


def test_the_board_report_sets_forums_beside_the_childrens_own_audit_feedback(session):
    clock.set(None)
    lead = user_named(session, "qa.lead")
    participation.record_views(session, lead, FORUM_VIEWS)
    participation.record_views(session, lead, dict(FORUM_VIEWS, forum="care_leavers_forum", cohort="care_leavers",
                                                   participants="5", what_they_said="Our PA changed twice",
                                                   what_we_did=""))
    participation.record_views(session, lead, dict(FORUM_VIEWS, theme="education", participants="3",
                                                   gathered_on="2025-01-01"))  # outside the period
    audit = _allocate(session)
    issued = feedback_requests.create_request(session, session.get(Audit, audit.id), user_named(session, "tm.mash1"),
                                              "age_8_to_12", "letter")
    feedback_requests.create_request(session, session.get(Audit, audit.id), user_named(session, "tm.mash1"),
                                     "parent_carer", "letter")
    feedback_requests.submit_response(session, issued.code, dict(CHILD_ANSWERS))
    session.commit()
    today = clock.today()
    report = participation.board_report(session, participation.BoardPeriod(date(2026, 6, 1), today), lead)
    assert (report["sessions"], report["participants"]) == (2, 17)
    assert [theme["label"] for theme in report["themes"]] == ["Changes of worker"]
    assert [voice["said"] for voice in report["themes"][0]["voices"]] == [FORUM_VIEWS["what_they_said"], "Our PA changed twice"]
    children = {row["audience"]: row for row in report["child_links"]["audiences"]}
    assert (children["Child aged 8 to 12"]["sent"], children["Child aged 8 to 12"]["answered"]) == (1, 1)
    assert "Parent or carer" not in children  # the board report is about children's own voices

    from engine.qa.participation_pdf import board_report_pdf
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(board_report_pdf(report, "Northbridge Council"))).pages)
    text = re.sub(r"\s+", " ", text)
    assert "You said: We have to tell our story again & again <every> time a worker leaves" in text
    assert "We did: Handover visits" in text and "Does your social worker explain what is happening and why?" in text


def test_the_participation_pages_for_the_qa_lead_and_nobody_else(app):
    lead = app.test_client()
    sign_in(lead, "qa.lead")
    refused = lead.post("/participation/new", data=dict(FORUM_VIEWS, theme=""))
    assert refused.status_code == 400 and "Select the theme" in refused.get_data(as_text=True)
    assert lead.post("/participation/new", data=FORUM_VIEWS).status_code == 302
    page = lead.get("/participation?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert "again &amp; again &lt;every&gt; time" in page and "12 children and young people" in page
    assert "Enter a start date" in lead.get("/participation?start=2026-12-01&end=2026-01-01").get_data(as_text=True)
    pdf = lead.get("/participation/board-report.pdf?start=2026-11-01&end=2026-11-30")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "Handover visits" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    officer = app.test_client()
    sign_in(officer, "participation.officer")
    assert officer.post("/participation/new", data=dict(FORUM_VIEWS, theme="education")).status_code == 302
    assert "School, college and work" in officer.get("/participation?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    worker = app.test_client()
    sign_in(worker, "sw.safeguarding1.1")
    assert worker.get("/participation").status_code == 403
    assert worker.get("/participation/new").status_code == 403
