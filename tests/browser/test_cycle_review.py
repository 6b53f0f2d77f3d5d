"""The QA lead's review of a cycle's draw, clicked through in a real browser.

Start a cycle from the Cycles page, swap the auditor of one case, remove another
with a reason, confirm, and find the audits on the cycle's allocation tracker,
the swapped auditor beside their case and the removed case nowhere.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.cycle_models import CycleAllocation
from engine.qa.models import Audit
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def audits_of_the_cycle(database_url) -> dict[str, str]:
    """Case reference -> auditor's name, for the audits the cycle started (read after the browser is done)."""
    from engine.accounts import User
    session = make_session_factory(database_url)()
    try:
        return {audit.case.reference: session.get(User, audit.auditor_id).display_name
                for audit in session.scalars(select(Audit).where(Audit.cycle_id.is_not(None)))}
    finally:
        session.close()
        session.bind.dispose()


def removal_reasons(database_url) -> list[str]:
    session = make_session_factory(database_url)()
    try:
        return [a.removal_reason for a in session.scalars(select(CycleAllocation).where(CycleAllocation.status == "removed"))]
    finally:
        session.close()
        session.bind.dispose()


def test_swap_an_auditor_remove_a_case_and_confirm(page, database_url):
    sign_in(page, "qa.lead")
    page.get_by_role("link", name="Cycles", exact=True).click()
    page.get_by_role("button", name="Start a cycle").click()
    page.get_by_label("Sample size").fill("1")
    page.get_by_role("button", name="Draw the sample").click()

    page.wait_for_url(re.compile(r"/cycles/\d+/review$"))
    expect(page.get_by_text("Cycle 1 drawn: review its allocations")).to_be_visible()
    expect(page.get_by_role("heading", name="Review the allocations")).to_be_visible()
    rows = page.locator("#allocations tbody tr")
    total = rows.count()
    assert total > 2
    expect(page.get_by_role("button", name=f"Confirm and start {total} audits")).to_be_visible()

    first_case = rows.nth(0).get_by_role("rowheader").inner_text().split()[0]
    rows.nth(0).get_by_role("link", name=re.compile("Change")).click()
    expect(page.get_by_role("heading", name=f"Change case {first_case}")).to_be_visible()
    auditor = page.get_by_label("Auditor", exact=True)
    current = auditor.input_value()
    choice = next(value for value in auditor.locator("option").evaluate_all("os => os.map(o => o.value)")
                  if value and value != current)
    auditor.select_option(value=choice)
    new_auditor = auditor.locator(f"option[value='{choice}']").inner_text().rsplit(" (", 1)[0]
    page.get_by_role("button", name="Save the auditor and moderator").click()
    page.wait_for_url(re.compile(r"/review$"))
    expect(page.get_by_text(f"Case {first_case} updated.")).to_be_visible()
    expect(page.locator("#allocations tbody tr").nth(0)).to_contain_text(new_auditor)

    second_case = rows.nth(1).get_by_role("rowheader").inner_text().split()[0]
    rows.nth(1).get_by_role("link", name=re.compile("Change")).click()
    page.get_by_role("button", name=f"Remove case {second_case}").click()
    expect(page.get_by_text("Say why this case is removed from the cycle.").first).to_be_visible()
    page.get_by_label("Why is it removed?").fill("Case closing this week")
    page.get_by_role("button", name=f"Remove case {second_case}").click()
    page.wait_for_url(re.compile(r"/review$"))
    expect(page.locator("#allocations tbody tr").nth(1)).to_contain_text("Removed")
    page.get_by_role("button", name=f"Confirm and start {total - 1} audits").click()

    page.wait_for_url(re.compile(r"/cycles/\d+/tracker$"))
    expect(page.get_by_text(f"Cycle 1 confirmed: {total - 1} audits started")).to_be_visible()
    expect(page.get_by_role("heading", name="Audit allocation tracker")).to_be_visible()
    tracker = page.locator("#tracker tbody tr")
    expect(tracker).to_have_count(total - 1)
    expect(tracker.filter(has_text=first_case)).to_contain_text(new_auditor)
    expect(tracker.filter(has_text=second_case)).to_have_count(0)

    started = audits_of_the_cycle(database_url)
    assert len(started) == total - 1 and second_case not in started
    assert started[first_case] == new_auditor
    assert removal_reasons(database_url) == ["Case closing this week"]
