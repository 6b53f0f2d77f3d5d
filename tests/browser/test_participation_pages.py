"""The participation pages at phone width: record what a group said, read the board report; axe-clean."""
import pytest

from tests.browser.conftest import assert_accessible, shows, sign_in

pytestmark = pytest.mark.browser


def test_a_group_is_recorded_and_read_in_the_board_report_at_320px(page):
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "qa.lead")
    page.goto("/participation/new")
    assert_accessible(page)
    page.get_by_label("Date").fill("2026-11-10")
    page.get_by_label("Care leavers' forum").check()
    page.get_by_label("Care leavers", exact=True).check()
    page.get_by_label("How many children and young people took part?").fill("7")
    page.get_by_label("Money and housing").check()
    page.get_by_label("What they told us").fill("Setting-up-home grants arrive after we move in")
    page.get_by_role("button", name="Record").click()
    shows(page, "has been recorded")
    shows(page, "Setting-up-home grants arrive after we move in")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
