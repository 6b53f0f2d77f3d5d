"""The practitioner survey in Chromium at phone width: the principal social worker opens a round,
a social worker answers it, and the results page; each page axe-clean."""
import pytest

from tests.browser.conftest import assert_accessible, shows, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_a_round_is_opened_answered_and_read_at_320px(page):
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "psw")
    page.goto("/surveys")
    page.get_by_role("button", name="Open this period's round now").click()
    shows(page, "people have been invited")
    assert_accessible(page)
    sign_out(page)

    sign_in(page, "sw.safeguarding1.1")
    page.goto("/survey")
    assert_accessible(page)
    page.get_by_role("button", name="Send my answers").click()
    shows(page, "Is your caseload manageable?", ".govuk-error-summary")
    assert_accessible(page)
    page.get_by_role("group", name="How would you rate your wellbeing").get_by_label("4 – good").check()
    page.get_by_role("group", name="Is your caseload manageable?").get_by_label("Mostly").check()
    page.get_by_role("group", name="How good is the supervision").get_by_label("3 – okay").check()
    page.get_by_role("group", name="Do you get supervision").get_by_label("Yes").check()
    page.get_by_role("group", name="Has the learning").get_by_label("Partly").check()
    page.get_by_role("button", name="Send my answers").click()
    shows(page, "added anonymously")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    sign_out(page)

    sign_in(page, "psw")
    page.goto("/surveys")
    page.get_by_role("link", name="Round starting").click()
    shows(page, "Fewer than 5 responses")
    assert_accessible(page)
