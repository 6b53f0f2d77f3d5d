"""The system administrator's journey in Chromium: add a team and a person, the person signs
in with their one-time password and sees their inbox, and a leaver's tasks are reassigned.
Every page on the way is checked with axe-core (WCAG 2.2 A/AA), the lists at 320 px too."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.models import Audit
from engine.runtime.models import HumanTask
from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.conftest import user_named
from tests.test_monitoring import allocate

pytestmark = pytest.mark.browser


def test_an_administrator_adds_a_team_and_a_person_who_signs_in_and_a_leavers_work_is_reassigned(page, database_url):
    session = make_session_factory(database_url)()
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    audit_id, instance_id = audit.id, audit.instance_id
    new_auditor = user_named(session, "tm.mash2").display_name
    session.close()

    sign_in(page, "sysadmin")
    page.get_by_role("link", name="Organisation").click()
    page.get_by_role("link", name="Teams", exact=True).click()
    page.get_by_role("link", name="Add a team").click()
    page.get_by_role("button", name="Save the team").click()  # nothing filled in: told, nothing made
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose a service")
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("Fostering 1")
    page.get_by_label("Service", exact=True).select_option(label="Children in Care")
    page.get_by_label("Kind of team").select_option(label="Fostering and adoption")
    page.get_by_role("button", name="Save the team").click()
    page.wait_for_url("**/organisation/teams")
    expect(page.get_by_role("link", name="Fostering 1")).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 800})
    assert_accessible(page)

    page.goto("/organisation/people")
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("Full name").fill("Robin Newstarter")
    page.get_by_label("Username").fill("robin.newstarter")
    page.get_by_label("Work email address").fill("robin.newstarter@example.invalid")
    page.get_by_label("Team (optional)").select_option(label="Fostering 1")
    page.get_by_label("Practitioner (social worker)").check()
    assert_accessible(page)
    page.get_by_role("button", name="Add the person").click()
    one_time = page.locator("#one-time-password").inner_text().strip()
    assert_accessible(page)
    sign_out(page)

    sign_in(page, "robin.newstarter", one_time)
    # A one-time password: the first thing they can do is choose their own.
    expect(page).to_have_url(re.compile(r"/account/password$"))
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/account/password$"))
    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password", exact=True).fill("granite harbour lantern 42")
    page.get_by_label("Confirm new password").fill("granite harbour lantern 42")
    page.get_by_role("button", name="Change password").click()
    page.goto("/inbox")
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    sign_out(page)

    sign_in(page, "sysadmin")
    page.goto("/organisation/people?q=tm.mash1")
    page.locator('[data-person="tm.mash1"] a').click()
    assert_accessible(page)
    page.get_by_role("link", name="Deactivate (they have left)").click()
    expect(page.locator("main")).to_contain_text("still holds open work")
    assert_accessible(page)
    page.get_by_label("Reason").fill("Left the council")
    page.get_by_role("button", name="Deactivate").click()
    page.get_by_role("link", name="Reassign their work").click()
    assert_accessible(page)
    for chooser in page.locator("select").all():
        chooser.select_option(label=next(option for option in chooser.locator("option").all_inner_texts()
                                         if option.startswith(new_auditor)))
    page.get_by_label("Reason").fill("Left the council")
    page.get_by_role("button", name="Reassign").click()
    expect(page.locator("#open-work")).to_contain_text("No open tasks")

    session = make_session_factory(database_url)()
    try:
        holder = user_named(session, "tm.mash2").id
        assert session.get(Audit, audit_id).auditor_id == holder
        assert session.scalar(select(HumanTask.assignee_id).where(HumanTask.instance_id == instance_id,
                                                                  HumanTask.state == "ready")) == holder
    finally:
        session.close()


@pytest.mark.parametrize("path", ["/organisation/services", "/organisation/import", "/people/{me}/absence"])
def test_the_other_organisation_pages_have_no_accessibility_violations_at_320px(page, database_url, path):
    session = make_session_factory(database_url)()
    me = user_named(session, "sysadmin").id
    session.close()
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "sysadmin")
    page.goto(path.format(me=me))
    assert_accessible(page)
