"""The compliments and complaints log at phone width: the QA lead adds one, with a mistake
first, and reads it in the log; each page axe-clean and no wider than the screen."""
import pytest

from tests.browser.conftest import assert_accessible, shows, sign_in

pytestmark = pytest.mark.browser


def test_the_qa_lead_adds_a_complaint_and_reads_the_log_at_320px(page):
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "qa.lead")
    page.goto("/complaints/new")
    assert_accessible(page)
    page.get_by_label("Reference in the complaints system").fill("CMP-77")
    page.get_by_label("Type").select_option("complaint")
    page.get_by_label("Date received").fill("2026-11-20")
    page.get_by_label("Service", exact=True).select_option("Children in Care")
    page.get_by_label("Theme").select_option("family_time")
    page.get_by_role("button", name="Add to the log").click()
    shows(page, "A complaint needs its stage", ".govuk-error-summary")
    assert_accessible(page)
    page.get_by_label("Stage (complaints only)").select_option("stage_1")
    page.get_by_role("button", name="Add to the log").click()
    shows(page, "CMP-77 has been added to the log")
    shows(page, "Contact and family time")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.goto("/complaints/import")
    assert_accessible(page)


def test_the_psw_follows_a_theme_to_a_prefilled_thematic_audit_at_320px(database_url, page):
    from engine.database import make_session_factory
    from tests.test_complaints_log import GOOD_ROWS, HEADER, _import
    session = make_session_factory(database_url)()
    _import(session, HEADER + GOOD_ROWS)
    session.close()
    session.bind.dispose()

    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "psw")
    page.goto("/complaints")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("link", name="Commission a thematic audit on Changes of worker").click()
    page.wait_for_url("**/start/thematic_audit?**")
    assert page.get_by_label("Theme").input_value() == "Changes of worker"
    assert "Complaints: 2 in 12 months" in page.get_by_label("What prompted it").input_value()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
