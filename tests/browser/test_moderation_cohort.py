"""The moderator of a child in care's audit gives their own answer to a children in care
question in a real browser, at a phone's width and at desktop width: the cohort's list is
offered beside the six areas' (and no other cohort's), the answer is given in the list's first row (a
second row added and left blank is dropped), and the audit page then shows it beside the auditor's. axe-core
(WCAG 2.2 A/AA) runs on each page."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.accounts import User
from engine.database import make_session_factory
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Case, Team
from engine.runtime.models import HumanTask
from tests import answers
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.conftest import user_named
from tests.test_engine_lifecycle import _do

pytestmark = pytest.mark.browser
COHORT_LIST = "Children in care: answers you would give differently"


def child_in_care_awaiting_moderation(database_url) -> dict:
    """A child in care's audit graded and reflected on through the engine, before the browser
    starts (SQLite would otherwise hold the lock the app needs)."""
    session = make_session_factory(database_url)()
    try:
        auditor, moderator = user_named(session, "tm.mash1"), user_named(session, "psw")
        case = session.scalars(select(Case).join(Team).where(Case.cohort == "child_in_care",
                                                             Team.manager_id != auditor.id).order_by(Case.id)).first()
        audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id),
                               user_named(session, "qa.lead"))
        session.commit()
        _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
        _do(session, audit, "complete_audit_tool", audit.auditor_id, answers.audit_tool("good"))
        _do(session, audit, "record_feedback", audit.auditor_id, answers.FEEDBACK)
        _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("good", actions=1))
        _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                      HumanTask.spec_name == "moderate_audit"))
        return {"audit_id": audit.id, "task_id": task.id, "worker": session.get(User, audit.worker_id).username}
    finally:
        session.close()
        session.bind.dispose()


def fits(page, width: int) -> None:
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("width", [320, 1280])
def test_the_moderator_answers_a_children_in_care_question_differently(page, database_url, width):
    known = child_in_care_awaiting_moderation(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "psw")
    page.goto(f"/tasks/{known['task_id']}")
    cohort_list = page.get_by_role("group", name=COHORT_LIST)
    expect(cohort_list).to_be_visible()
    expect(page.get_by_role("group", name="Care leavers: answers you would give differently")).to_have_count(0)
    fits(page, width)

    cohort_list.get_by_role("button", name="Add another answer").click()  # a second row, left blank: dropped
    first = page.get_by_role("group", name=COHORT_LIST).get_by_role("group", name="Answer 1")
    first.get_by_role("radio", name="Children in care: Is there a permanence plan", exact=False).check()
    first.get_by_role("radio", name="No", exact=True).check()
    first.get_by_label("Why").fill("No permanence plan was agreed at the second review.")
    fits(page, width)
    page.get_by_role("radio", name="Agree", exact=True).check()
    page.get_by_label("Rationale for your decision").fill("The grades stand; one answer differs.")
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_url("**/inbox")
    sign_out(page)

    sign_in(page, known["worker"])
    page.goto(f"/audits/{known['audit_id']}")
    in_care = page.get_by_role("region", name="Children in care: answers and evidence")
    expect(in_care).to_contain_text("No permanence plan was agreed at the second review.")
    expect(in_care).to_contain_text("Moderator's answer")
    fits(page, width)
