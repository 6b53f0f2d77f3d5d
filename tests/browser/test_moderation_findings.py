"""Moderation walked in a real browser with the findings in view, at a phone's width:
the moderator finds the task, reads each area's answers and evidence beside the grade,
agrees, and the audit page then shows the findings to the practitioner. The moderator of a
child in care's audit is offered that cohort's questions (and no other cohort's) to answer
differently, and their answer is shown beside the auditor's. axe-core (WCAG 2.2 A/AA) runs on
every page on the way, at 320 px and at desktop width."""
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.accounts import User
from engine.database import make_session_factory
from engine.runtime.models import HumanTask
from tests import answers
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.test_engine_lifecycle import _allocate, _do

pytestmark = pytest.mark.browser


def audit_awaiting_moderation(database_url, cohort: str | None = None) -> dict:
    """An audit (of a case of `cohort`, if given) graded and reflected on through the engine,
    before the browser starts (SQLite would otherwise hold the lock the app needs)."""
    session = make_session_factory(database_url)()
    try:
        audit = _allocate(session, auditor="tm.mash1", moderator="psw", cohort=cohort)
        _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
        _do(session, audit, "complete_audit_tool", audit.auditor_id, answers.audit_tool("requires_improvement"))
        _do(session, audit, "record_feedback", audit.auditor_id, answers.FEEDBACK)
        _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("requires_improvement", actions=1))
        _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                      HumanTask.spec_name == "moderate_audit"))
        return {"audit_id": audit.id, "task_id": task.id, "worker": session.get(User, audit.worker_id).username}
    finally:
        session.close()
        session.bind.dispose()


def agree_then_open_the_audit_as_the_worker(page, known: dict, rationale: str) -> None:
    """The moderator agrees with `rationale` and completes the task; the worker opens the audit."""
    page.get_by_role("radio", name="Agree", exact=True).check()
    page.get_by_label("Rationale for your decision").fill(rationale)
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_url("**/inbox")
    sign_out(page)
    sign_in(page, known["worker"])
    page.goto(f"/audits/{known['audit_id']}")


@pytest.mark.parametrize("width", [320, 1280])
def test_the_moderator_moderates_with_the_findings_in_view(page, database_url, width):
    known = audit_awaiting_moderation(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "psw")
    page.goto("/inbox")
    page.locator(f'a[href="/tasks/{known["task_id"]}"]').first.click()
    expect(page.get_by_role("heading", name="What the auditor found")).to_be_visible()
    planning = page.get_by_role("region", name="Quality of planning: answers and evidence")
    expect(planning.get_by_role("row", name="Does the plan flow from the assessment?")).to_contain_text("Yes")
    expect(page.get_by_role("region", name="The child's voice: answers and evidence")).to_contain_text(
        f"Case note, {date.fromisoformat(answers.days_ago(12)):%-d %B %Y}: Case note showing seen in line with plan")
    expect(page.locator("#impact")).to_contain_text("School attendance up from 60% to 92%")
    assert_accessible(page)
    if width == 320:  # the page itself never scrolls sideways; wide tables scroll in their own box
        assert page.evaluate("document.documentElement.scrollWidth") <= 320

    agree_then_open_the_audit_as_the_worker(page, known, "The grades follow from the evidence on the file.")
    expect(page.get_by_role("heading", name="What the auditor found")).to_be_visible()
    expect(page.get_by_role("region", name="Quality of planning: answers and evidence")).to_contain_text(
        "Moderator's answer")
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320


COHORT_LIST = "Children in care: answers you would give differently"


@pytest.mark.parametrize("width", [320, 1280])
def test_the_moderator_answers_a_children_in_care_question_differently(page, database_url, width):
    known = audit_awaiting_moderation(database_url, cohort="child_in_care")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "psw")
    page.goto(f"/tasks/{known['task_id']}")
    expect(page.get_by_role("group", name=COHORT_LIST)).to_be_visible()
    expect(page.get_by_role("group", name="Care leavers: answers you would give differently")).to_have_count(0)
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320

    page.get_by_role("group", name=COHORT_LIST).get_by_role("button", name="Add another answer").click()
    first = page.get_by_role("group", name=COHORT_LIST).get_by_role("group", name="Answer 1")  # the second, blank, is dropped
    first.get_by_role("radio", name="Children in care: Is there a permanence plan", exact=False).check()
    first.get_by_role("radio", name="No", exact=True).check()
    first.get_by_label("Why").fill("No permanence plan was agreed at the second review.")
    agree_then_open_the_audit_as_the_worker(page, known, "The grades stand; one answer differs.")
    in_care = page.get_by_role("region", name="Children in care: answers and evidence")
    expect(in_care).to_contain_text("No permanence plan was agreed at the second review.")
    expect(in_care).to_contain_text("Moderator's answer")
    assert_accessible(page)
