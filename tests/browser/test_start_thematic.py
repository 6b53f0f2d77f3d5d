"""A principal social worker commissions a thematic audit from the Start page in Chromium, on
a 320 px wide screen: the list, the form with its errors and the result are axe-clean; and the
QA lead records a thematic recommendation done in the actions tracker and reads an annual QA report being written
(with its survey, complaints and participation figures)."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.qa.demo_activities import run_thematic_history
from engine.qa.reports import reporting_year
from engine.runtime.starting import start_process
from tests.browser.conftest import assert_accessible, shows, sign_in
from tests.test_annual_report_sources import seed_sources

pytestmark = pytest.mark.browser


def test_a_thematic_audit_is_commissioned_from_the_start_page_at_320_px(page):
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "psw")
    page.goto("/start")
    assert_accessible(page)
    page.get_by_role("link", name="Thematic audit", exact=True).click()
    page.wait_for_url("**/start/thematic_audit")
    assert_accessible(page)

    page.get_by_role("button", name="Start", exact=True).click()  # nothing answered: every error shown
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    shows(page, "Choose the service this is about", ".govuk-error-summary")
    assert_accessible(page)

    deadline = clock.today() + timedelta(days=90)
    page.get_by_label("Service", exact=True).select_option(label="Child in Need and Child Protection")
    page.get_by_label("Theme").fill("Neglect")
    page.get_by_label("The question the audit answers").fill("Do neglect plans lead to change?")
    page.get_by_label("Performance data").check()
    page.get_by_label("Cohort of cases").select_option(label="Any cohort")
    page.get_by_label("Number of cases to sample").fill("2")
    page.get_by_label("The case file audit tool").check()
    page.locator("#deadline-day").fill(str(deadline.day))
    page.locator("#deadline-month").fill(str(deadline.month))
    page.locator("#deadline-year").fill(str(deadline.year))
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_url("**/start")
    shows(page, "Thematic audit started: THM-", ".govuk-notification-banner")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)

    page.goto("/thematic")
    page.get_by_role("link", name="THM-").first.click()
    shows(page, "Neglect", "h1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)


def test_a_recommendation_in_the_tracker_and_a_published_report_are_accessible_at_320_px(page, session):
    thematic = run_thematic_history(session, sample_size=1, seed=3)
    session.commit()
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "qa.lead")
    page.goto("/recommendations")  # the old list's address: the tracker, filtered to thematic audits
    page.wait_for_url("**/tracker?source=thematic")
    row = page.locator('[data-source="thematic"]')
    expect(row).to_contain_text("Add permanence to the second-review template")
    expect(row).to_contain_text("Thematic audit")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
    page.get_by_role("link", name=f"{thematic.reference} R1").click()
    expect(page.get_by_role("heading", name="Action R1")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Completed", exact=True).check()
    page.get_by_role("button", name="Save the update").click()  # no evidence nor date: the errors are shown
    shows(page, "Enter the evidence", ".govuk-error-summary")
    assert_accessible(page)
    page.get_by_label("Completed", exact=True).check()
    page.get_by_label("Evidence", exact=True).fill("Template v3 issued")
    today = clock.today()
    page.locator("#completed_on-day").fill(str(today.day))
    page.locator("#completed_on-month").fill(str(today.month))
    page.locator("#completed_on-year").fill(str(today.year))
    page.get_by_role("button", name="Save the update").click()
    expect(page.locator('[data-source="thematic"] .govuk-tag')).to_have_text(["Completed", "Awaiting QA lead"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
    page.goto(f"/thematic/{thematic.id}")  # published: the sample, its grades, findings and sign-off
    shows(page, "Published", "#thematic-status")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)


def test_an_annual_report_being_written_is_accessible_at_320_px(page, session):
    seed_sources(session, survey_answers=5)  # the survey, complaints and participation tables are drawn
    lead = session.scalar(select(User).where(User.username == "qa.lead"))
    start_process(session, lead, "annual_report", {"year": reporting_year(clock.today()),
                                                   "due_on": (clock.today() + timedelta(days=20)).isoformat()})
    session.commit()
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "qa.lead")
    page.goto("/annual-reports")
    assert_accessible(page)
    page.get_by_role("link", name="AQR-").first.click()
    shows(page, "Drafting", "#annual-status")
    shows(page, "Being listened to", "#complaints")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)


def test_the_trail_export_form_with_its_activity_filter_is_accessible_at_320_px(page):
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "qa.lead")
    page.goto("/trail")
    page.get_by_label("Activity").select_option("thematic_audit")
    page.get_by_label("Type of audit").select_option("random")
    page.get_by_role("button", name="Make the export").click()
    shows(page, "choose the case file audit as the activity", ".govuk-error-message")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
