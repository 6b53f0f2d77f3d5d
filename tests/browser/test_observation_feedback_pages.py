"""A head of service asks a parent who was at their practice observation for feedback, in
Chromium with the keyboard alone on a phone-sized screen: from the observation's task page to
the send page, a refused empty form, the letter to print; the parent answers, the observer reads
it on the observation and the QA lead sees it counted on the practice week. Every page is
axe-clean and fits 320 px."""
import re

import pytest
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.demo_activities import run_practice_week_history
from engine.runtime.models import HumanTask
from engine.runtime.starting import child_instance_ids
from tests.browser.conftest import assert_accessible, shows, sign_in
from tests.browser.test_public_feedback import tab_to
from tests.conftest import user_named

pytestmark = pytest.mark.browser


@pytest.fixture
def observation(database_url):
    session = make_session_factory(database_url)()
    week_id = run_practice_week_history(session)
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id.in_(child_instance_ids(session, week_id)),
                                                  HumanTask.completed_by_id == user_named(session, "hos.cincp").id))
    found = {"week": week_id, "instance": task.instance_id, "task": task.id}
    session.close()
    session.bind.dispose()
    return found


def tab_to_text(page, text: str, limit: int = 80) -> None:
    """Press Tab until the focused link or button reads `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if (page.evaluate("document.activeElement && document.activeElement.innerText") or "").strip() == text:
            return
    raise AssertionError(f"never reached {text!r} with the Tab key")


def accessible_at_320(page) -> None:
    """axe finds nothing, and the page is no wider than a 320 px phone."""
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_the_observer_sends_a_letter_with_the_keyboard_and_reads_the_answer(browser, live_server, observation):
    staff = browser.new_context(base_url=live_server, viewport={"width": 320, "height": 800})
    observer = staff.new_page()
    sign_in(observer, "hos.cincp")
    observer.goto(f"/tasks/{observation['task']}")
    shows(observer, "Feedback from the people at the observation")
    accessible_at_320(observer)
    tab_to_text(observer, "Ask a family member, young person or professional who was there for feedback")
    observer.keyboard.press("Enter")
    observer.wait_for_url(f"**/observations/{observation['instance']}/feedback-requests/new")
    shows(observer, "Their answers are added to this observation.")
    accessible_at_320(observer)

    tab_to_text(observer, "Send the request")
    with observer.expect_navigation():  # the refusal comes back at the same address: wait for it, not the old page
        observer.keyboard.press("Enter")
    shows(observer, "Select who the feedback is from")
    accessible_at_320(observer)

    tab_to(observer, "audience")
    for _ in range(4):  # under 8, 8 to 12, 13 and over, care leaver, then parent or carer
        observer.keyboard.press("ArrowDown")
    assert observer.is_checked("input[name=audience][value=parent_carer]")
    tab_to(observer, "channel")
    observer.keyboard.press("ArrowDown")  # by email, then by printed letter
    assert observer.is_checked("input[name=channel][value=letter]")
    tab_to_text(observer, "Send the request")
    observer.keyboard.press("Enter")
    observer.wait_for_selector(".app-letter__code")
    code = observer.inner_text(".app-letter__code").strip()
    assert re.fullmatch(r"([A-Z2-7]{4} ){6}[A-Z2-7]{2}", code)
    shows(observer, "withdraw this request on the observation")
    accessible_at_320(observer)

    public = browser.new_context(base_url=live_server, viewport={"width": 320, "height": 800})
    parent = public.new_page()
    parent.goto(f"/feedback/{code.replace(' ', '')}")
    shows(parent, "Were you treated with respect?")
    tab_to(parent, "consent")
    parent.keyboard.press("Space")
    for question in ("respect", "understood_why", "timely", "kept_informed", "improved_for_child", "rating"):
        tab_to(parent, question)
        parent.keyboard.press("Space")
    tab_to(parent, "comments")
    parent.keyboard.type("The social worker explained the plan to us clearly.")
    parent.keyboard.press("Tab")
    parent.keyboard.press("Enter")
    parent.wait_for_url("**/feedback/thank-you")
    public.close()

    observer.goto(f"/tasks/{observation['task']}")
    section = observer.inner_text("#observation-feedback")
    assert "The social worker explained the plan to us clearly." in section and "Answered" in section
    accessible_at_320(observer)
    staff.close()

    leads = browser.new_context(base_url=live_server, viewport={"width": 320, "height": 800})
    lead = leads.new_page()
    sign_in(lead, "qa.lead")
    lead.goto(f"/instances/{observation['week']}")
    summary = lead.inner_text("#week-feedback")
    assert "1 of 1 feedback requests" in summary and "Yes: 1" in summary
    assert "The social worker explained the plan to us clearly." in summary
    assert_accessible(lead)
    leads.close()
