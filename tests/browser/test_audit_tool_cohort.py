"""The audit tool of a child in care, in a real browser at a phone's width and at desktop
width: the case profile and the cohort read-only at the top, the children in care section
with its own questions and evidence, answered and kept in a draft; then the profile on the
audit page and the register page naming the profile columns. axe-core (WCAG 2.2 A/AA) runs
on each page."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Case, Team
from engine.runtime.models import HumanTask
from tests import answers
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.conftest import user_named
from tests.test_engine_lifecycle import _do

pytestmark = pytest.mark.browser


def child_in_care_audit_tool(database_url) -> tuple[int, int]:
    """The audit tool task of a child in care's audit, prepared through the engine before the
    browser starts (SQLite would otherwise hold the lock the app needs)."""
    session = make_session_factory(database_url)()
    try:
        auditor, moderator = user_named(session, "tm.mash1"), user_named(session, "psw")
        case = session.scalars(select(Case).join(Team).where(Case.cohort == "child_in_care",
                                                             Team.manager_id != auditor.id).order_by(Case.id)).first()
        case.legal_status, case.placement_moves_12_months, case.first_language = "section_20", 2, "Somali"
        audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id),
                               user_named(session, "qa.lead"))
        session.commit()
        _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
        return audit.id, session.scalar(select(HumanTask.id).where(HumanTask.instance_id == audit.instance_id,
                                                                   HumanTask.spec_name == "complete_audit_tool"))
    finally:
        session.close()
        session.bind.dispose()


@pytest.mark.parametrize("width", [320, 1280])
def test_the_audit_tool_asks_a_child_in_cares_own_questions(page, database_url, width):
    audit_id, task_id = child_in_care_audit_tool(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "tm.mash1")
    page.goto(f"/tasks/{task_id}")
    expect(page.locator("#case-profile")).to_contain_text("Accommodated by agreement (section 20)")
    expect(page.locator("#case-profile")).to_contain_text("Somali")
    expect(page.locator("#cohort")).to_contain_text("Child in care")
    section = page.get_by_role("group", name="Children in care", exact=True)
    expect(section).to_be_visible()
    placement = section.get_by_role("group", name="Is the placement stable and meeting the child's needs", exact=False)
    expect(placement.get_by_role("radio", name="Partly")).to_be_visible()
    expect(page.get_by_role("group", name="Care leavers", exact=True)).to_have_count(0)
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320

    placement.get_by_role("radio", name="Partly").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved").first).to_be_visible()
    expect(page.get_by_role("group", name="Children in care", exact=True).get_by_role(
        "group", name="Is the placement stable and meeting the child's needs", exact=False).get_by_role(
        "radio", name="Partly")).to_be_checked()

    sign_out(page)

    sign_in(page, "qa.lead")
    page.goto(f"/audits/{audit_id}")
    expect(page.locator("#case-profile")).to_contain_text("Placement moves in the last 12 months")
    expect(page.locator("#case-profile")).to_contain_text("Accommodated by agreement (section 20)")
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.goto("/register")
    expect(page.get_by_text("Never a name or date of birth", exact=False)).to_be_visible()
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
