"""The collaborative audit in a real browser, at a phone's width and at desktop width: the
auditor adds the independent reviewing officer on the "Practitioners on the audit" page
(a refusal first, then the addition), and the worker adds a record of evidence to their own
evidence task and completes it. axe-core (WCAG 2.2 A/AA) runs on each page on the way, and at
320 px the pages never scroll sideways."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.qa.finding_models import AuditEvidence
from engine.runtime.models import HumanTask
from tests import answers
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.test_engine_lifecycle import _allocate, _do

pytestmark = pytest.mark.browser


def audit_begun(database_url) -> dict:
    """An audit whose auditor has prepared it, so the worker has their evidence task (made
    through the engine before the browser starts: SQLite would hold the lock the app needs)."""
    session = make_session_factory(database_url)()
    try:
        audit = _allocate(session, auditor="tm.mash1", moderator="psw")
        _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
        task = session.scalar(select(HumanTask).where(HumanTask.spec_name == "add_contribution",
                                                      HumanTask.assignee_id == audit.worker_id))
        return {"audit_id": audit.id, "task_id": task.id, "worker": session.get(User, audit.worker_id).username,
                "officer": session.scalar(select(User.display_name).where(User.username == "iro1"))}
    finally:
        session.close()
        session.bind.dispose()


def fits(page, width: int) -> None:
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("width", [320, 1280])
def test_the_auditor_adds_a_practitioner_and_the_worker_gives_their_evidence(page, database_url, width):
    known = audit_begun(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "tm.mash1")
    page.goto(f"/audits/{known['audit_id']}")
    page.get_by_role("link", name="Add or remove practitioners on the case").click()
    expect(page.get_by_role("heading", name="Practitioners on the audit")).to_be_visible()
    assert_accessible(page)
    fits(page, width)

    page.get_by_role("button", name="Add the practitioner").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the practitioner to add from the directory")
    assert_accessible(page)
    fits(page, width)

    page.get_by_label("Practitioner", exact=True).select_option(label=page.locator(
        "#user_id option", has_text=known["officer"]).first.inner_text())
    page.get_by_role("radio", name="Independent reviewing officer").check()
    page.get_by_label("Why are they being added?").fill("Chairs the child's reviews and knows the plan")
    page.get_by_role("button", name="Add the practitioner").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("They have been asked for their evidence")
    expect(page.get_by_role("heading", name=f"{known['officer']}: Independent reviewing officer")).to_be_visible()
    assert_accessible(page)
    fits(page, width)
    sign_out(page)

    sign_in(page, known["worker"])
    page.goto("/inbox")
    page.locator(f'a[href="/tasks/{known["task_id"]}"]').first.click()
    expect(page.get_by_role("heading", name="Add your evidence to the audit tool")).to_be_visible()
    assert_accessible(page)
    fits(page, width)

    page.locator('input[name="child_voice.evidence.0.record_type"][value="direct_work"]').check()
    worked = clock.today() - timedelta(days=5)
    page.locator('input[name="child_voice.evidence.0.record_date-day"]').fill(str(worked.day))
    page.locator('input[name="child_voice.evidence.0.record_date-month"]').fill(str(worked.month))
    page.locator('input[name="child_voice.evidence.0.record_date-year"]').fill(str(worked.year))
    page.locator('textarea[name="child_voice.evidence.0.comment"]').fill("Three houses exercise at school")
    page.locator('textarea[name="difference_for_child"]').fill("She says she feels listened to.")
    assert_accessible(page)
    fits(page, width)
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_url("**/inbox")

    session = make_session_factory(database_url)()
    try:
        stored = session.scalars(select(AuditEvidence.comment).where(AuditEvidence.audit_id == known["audit_id"])).all()
    finally:
        session.close()
        session.bind.dispose()
    assert stored == ["Three houses exercise at school", "She says she feels listened to."]
