"""The inbox's filters and tabs in a real browser: accessible (axe, WCAG 2.2 A/AA) and usable
at 320 px wide as on a desktop, a search narrowing every tab's count."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Case, Team
from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import user_named

pytestmark = pytest.mark.browser

AUDITOR = "tm.mash1"


def two_audits(database_url) -> list[str]:
    """Two audits for the auditor, allocated before the browser starts; returns their case references."""
    session = make_session_factory(database_url)()
    try:
        auditor, moderator = user_named(session, AUDITOR), user_named(session, "hos.cincp")
        cases = session.scalars(select(Case).join(Team).where(Team.manager_id != auditor.id, Case.status == "open")
                                .order_by(Case.id).limit(2)).all()
        references = [case.reference for case in cases]
        for reference in references:
            allocate_audit(session, AllocationRequest(reference, auditor.id, moderator.id), user_named(session, "qa.lead"))
        session.commit()
        return references
    finally:
        session.close()
        session.bind.dispose()


def tab(page, label: str):
    """A tab of the inbox: a link at 320 px, a tab where GOV.UK Frontend makes tabs (wider)."""
    return page.locator(".govuk-tabs__tab", has_text=label)


@pytest.mark.parametrize("width", [320, 1280])
def test_searching_the_inbox_narrows_every_tab_and_the_page_stays_accessible(page, database_url, width):
    first, second = two_audits(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, AUDITOR)
    page.goto("/inbox")
    expect(tab(page, "Assigned to you")).to_have_text("Assigned to you (2)")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_label("Case or audit reference").fill(second)
    page.get_by_role("button", name="Apply filters").click()
    expect(tab(page, "Assigned to you")).to_have_text("Assigned to you (1)")
    assigned = page.locator("table[aria-labelledby='assigned']")
    expect(assigned.get_by_role("row").filter(has_text=second)).to_have_count(1)
    expect(assigned.get_by_role("row").filter(has_text=first)).to_have_count(0)
    assert_accessible(page)

    tab(page, "Completed").click()
    expect(page.get_by_text("No task here matches these filters.").last).to_be_visible()
    page.get_by_role("link", name="Clear filters").click()
    expect(tab(page, "Assigned to you")).to_have_text("Assigned to you (2)")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_bad_filter_value_is_shown_in_an_accessible_error_summary(page, database_url):
    two_audits(database_url)
    page.set_viewport_size({"width": 320, "height": 900})
    sign_in(page, AUDITOR)
    page.goto("/inbox?team=abc&due=someday")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Team must be chosen from the list")
    expect(page.get_by_label("Team")).to_be_visible()  # the filters open to show what was wrong
    expect(tab(page, "Assigned to you")).to_have_text("Assigned to you (2)")
    assert_accessible(page)
