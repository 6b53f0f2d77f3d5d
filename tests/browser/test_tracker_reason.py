"""The actions tracker and an action's page, with the reason an action is not completed,
in Chromium: recorded through the form, shown in the list, axe-clean (WCAG 2.2 A/AA) at
320 px and desktop width, the page never scrolling sideways."""
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.demo_history import ActionPlan, AuditPlan, write_history
from engine.qa.models import Audit
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def audit_with_an_open_action(database_url) -> str:
    session = make_session_factory(database_url)()
    try:
        write_history(session, [AuditPlan("MASH 1", date(2025, 4, 2), "requires_improvement",
                                          moderated_grade="requires_improvement", actions=[ActionPlan("planning", 20)])])
        session.commit()
        return session.scalar(select(Audit.reference))
    finally:
        session.close()
        session.bind.dispose()


@pytest.mark.parametrize("width", [320, 1280])
def test_a_reason_is_recorded_and_shown_in_the_tracker(page, database_url, width):
    reference = audit_with_an_open_action(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "qa.lead")
    page.goto(f"/tracker?q={reference}")
    page.get_by_role("link", name=f"{reference} A1").click()
    expect(page.get_by_role("heading", name="Action A1")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("In progress").check()
    page.get_by_label("Why it is not completed").fill("Waiting for the health visitor's report.")
    page.get_by_role("button", name="Save the update").click()
    expect(page.get_by_role("region", name="Actions")).to_contain_text(
        "Not completed: Waiting for the health visitor's report.")
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
