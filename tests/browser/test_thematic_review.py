"""In Chromium on a 320 px wide screen: the QA lead reviews a thematic audit's drawn sample
(swaps a case, first without a reason), confirms it, and an auditor opens the focused tool
the commission wrote; every page is axe-clean and nothing scrolls sideways."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.qa.models import Audit, Case, Service
from engine.qa.thematic_models import ThematicAudit, ThematicSampleCase
from engine.runtime.instances import complete_task
from engine.runtime.models import HumanTask, InstanceStart
from engine.runtime.starting import start_process
from tests.browser.conftest import assert_accessible, shows, sign_in, sign_out
from tests.conftest import user_named

pytestmark = pytest.mark.browser
QUESTION = "Was the neglect named in the plan for the child?"


def drawn_focused_thematic(session) -> tuple[int, int]:
    service = session.scalar(select(Service).where(Service.name == "Child in Need and Child Protection"))
    start_process(session, user_named(session, "psw"), "thematic_audit", {
        "theme": "Neglect", "question": "Do neglect plans lead to change?", "why_now": "performance_data",
        "cohort": "any", "sample_size": 2, "tool": "focused",
        "focused_questions": [{"question": QUESTION}, {"question": "Did the plan measure change?"}],
        "deadline": (clock.today() + timedelta(days=90)).isoformat()}, service.id)
    thematic_id, instance_id = session.execute(select(ThematicAudit.id, ThematicAudit.instance_id)).one()
    draw = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.spec_name == "draw_sample"))
    complete_task(session, draw, user_named(session, "qa.lead"), {"seed": 8, "confirmed": True})
    session.commit()
    return thematic_id, instance_id


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)


def test_the_sample_review_and_the_focused_tool_are_accessible_at_320_px(page, session):
    thematic_id, instance_id = drawn_focused_thematic(session)
    first = session.scalar(select(Case.reference).join(ThematicSampleCase, ThematicSampleCase.case_id == Case.id)
                           .where(ThematicSampleCase.thematic_id == thematic_id).order_by(ThematicSampleCase.id))
    session.rollback()  # the app under test must be free to write
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "qa.lead")
    page.goto(f"/thematic/{thematic_id}")
    page.get_by_role("link", name="Review the sample before the audits start").click()
    page.wait_for_url(f"**/thematic/{thematic_id}/review")
    shows(page, "2 cases proposed", "#thematic-review caption")
    fits(page)

    page.get_by_role("link", name=f"Swap or remove case {first}").click()
    page.get_by_role("button", name=f"Swap case {first}").click()  # no reason: the error is shown
    shows(page, "Say why this case is swapped.", ".govuk-error-summary")
    fits(page)
    page.get_by_label("Why is it swapped?").fill("The family moved out of the area.")
    page.get_by_role("button", name=f"Swap case {first}").click()
    page.wait_for_url(f"**/thematic/{thematic_id}/review")
    shows(page, f"Case {first} swapped for case", ".govuk-notification-banner")
    assert "The family moved out of the area." in page.locator(f'[data-case="{first}"]').inner_text()
    fits(page)

    page.get_by_role("button", name="Confirm and start 2 audits").click()
    page.wait_for_url(f"**/thematic/{thematic_id}")
    shows(page, "Sample confirmed: 2 audits started", ".govuk-notification-banner")
    fits(page)
    sign_out(page)

    children = select(InstanceStart.instance_id).where(InstanceStart.parent_instance_id == instance_id)
    audit = session.scalar(select(Audit).where(Audit.instance_id.in_(children)).order_by(Audit.id))
    auditor = session.get(User, audit.auditor_id).username
    task = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == audit.instance_id,
                                                     HumanTask.spec_name == "complete_focused_tool"))
    session.rollback()
    sign_in(page, auditor)
    page.goto(f"/tasks/{task}")
    shows(page, QUESTION)
    fits(page)
    page.get_by_role("button", name="Complete task").click()  # nothing answered: every question is required
    shows(page, QUESTION, ".govuk-error-summary")
    fits(page)


def test_the_moderators_check_and_both_views_on_the_report_are_accessible_at_320_px(page, session):
    thematic_id, instance_id = drawn_focused_thematic(session)
    lead = user_named(session, "qa.lead")
    review = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.spec_name == "review_sample"))
    complete_task(session, review, lead, {"confirmed": True})
    children = select(InstanceStart.instance_id).where(InstanceStart.parent_instance_id == instance_id)
    audit = session.scalar(select(Audit).where(Audit.instance_id.in_(children)).order_by(Audit.id))
    tool = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == audit.instance_id,
                                                     HumanTask.spec_name == "complete_focused_tool"))
    complete_task(session, tool, session.get(User, audit.auditor_id),
                  {"focused": {"q1": "yes", "q2": "partly", "notes": "Plan of 3 March read."}})
    session.commit()
    check = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == audit.instance_id,
                                                      HumanTask.spec_name == "check_answers"))
    moderator, reference = session.get(User, audit.moderator_id).username, audit.reference
    session.rollback()

    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, moderator)
    page.goto(f"/tasks/{check}")
    shows(page, "The auditor answered: Yes.")
    fits(page)
    page.locator('input[name="moderator_check.q1_view"][value="disagree"]').check()
    page.locator('input[name="moderator_check.q2_view"][value="agree"]').check()
    page.get_by_role("button", name="Complete task").click()  # disagreeing without an answer or why
    shows(page, "You disagree: say why", ".govuk-error-summary")
    fits(page)
    page.locator('input[name="moderator_check.q1_answer"][value="no"]').check()
    page.get_by_label("Why you disagree on question 1").fill("Neglect is not named in the plan itself.")
    page.get_by_role("button", name="Complete task").click()
    page.wait_for_load_state()
    sign_out(page)

    sign_in(page, "qa.lead")
    page.goto(f"/thematic/{thematic_id}")
    row = page.locator(f'#moderator-views tr[data-audit="{reference}"][data-question="q1"]').inner_text()
    assert "Yes" in row and "No" in row and "Neglect is not named in the plan itself." in row
    fits(page)
