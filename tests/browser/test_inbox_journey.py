"""The first steps of an audit, clicked through in a real browser.

The HTTP tests prove each page on its own; this proves the pages join up for a
person with a browser: the QA lead allocates through the form, the first task
reaches the auditor's inbox, the auditor fills in the form (a checkbox, a GOV.UK
date input, radios) and completes it, and the process moves on.
"""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.clock import clock
from engine.database import make_session_factory
from engine.qa.models import Case
from tests.browser.conftest import sign_in, sign_out
from tests.conftest import user_named

pytestmark = pytest.mark.browser

AUDITOR = "tm.safeguarding1"
MODERATOR = "psw"


def journey_people_and_case(database_url) -> dict:
    """Who allocates to whom, and an open case from outside the auditor's team (so they
    judge work that is not their own), read before the browser starts: on SQLite an
    open transaction here would hold the lock the app needs to write."""
    session = make_session_factory(database_url)()
    try:
        auditor = user_named(session, AUDITOR)
        case = session.scalar(select(Case).where(Case.status == "open", Case.team_id != auditor.team_id)
                              .order_by(Case.reference).limit(1))
        return {"auditor_id": str(auditor.id), "auditor_name": auditor.display_name,
                "moderator_id": str(user_named(session, MODERATOR).id), "case_reference": case.reference}
    finally:
        session.close()
        session.bind.dispose()


def test_allocate_then_prepare_the_audit(page, database_url):
    known = journey_people_and_case(database_url)
    meeting = clock.today() - timedelta(days=1)  # the meeting has been held: a future date is refused

    sign_in(page, "qa.lead")
    page.get_by_role("link", name="Allocate", exact=True).click()
    expect(page.get_by_role("heading", name="Allocate a case for audit")).to_be_visible()
    page.get_by_label("Case reference").fill(known["case_reference"])
    page.get_by_label("Auditor").select_option(value=known["auditor_id"])
    page.get_by_label("Moderator").select_option(value=known["moderator_id"])
    page.get_by_role("button", name="Allocate the audit").click()

    page.wait_for_url(re.compile(r"/audits/\d+$"))
    expect(page.get_by_text(f"{known['auditor_name']} has the first task in their inbox")).to_be_visible()
    audit_url = page.url
    reference = page.get_by_role("heading", level=1).inner_text().split()[0]
    assert reference.startswith("AUD-")
    sign_out(page)

    sign_in(page, AUDITOR)
    page.get_by_role("link", name="Inbox", exact=True).click()
    assigned = page.get_by_role("table").filter(has=page.get_by_role("cell", name=reference))
    assigned.get_by_role("link", name="Prepare the audit").click()
    expect(page.get_by_role("heading", name="Prepare the audit", level=1)).to_be_visible()

    page.get_by_label("I have read the last 12 months of the child's file").check()
    meeting_date = page.get_by_role("group", name="Date of the audit meeting with the allocated worker")
    meeting_date.get_by_label("Day").fill(str(meeting.day))
    meeting_date.get_by_label("Month").fill(str(meeting.month))
    meeting_date.get_by_label("Year").fill(str(meeting.year))
    page.get_by_role("group", name="Will you observe practice as part of this audit?").get_by_label("Yes").check()
    page.get_by_label("Preparation notes").fill("Check the chronology against the last review.")
    page.get_by_role("button", name="Complete task").click()

    page.wait_for_url("**/inbox")
    expect(page.get_by_text("Task completed: Prepare the audit")).to_be_visible()
    mine = page.locator("table[aria-labelledby='assigned']")
    expect(mine.get_by_role("row").filter(has_text=reference)
           .get_by_role("link", name="Complete the audit tool with the worker")).to_be_visible()
    expect(mine.get_by_role("link", name="Prepare the audit")).to_have_count(0)

    page.goto(audit_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Audit in progress")
