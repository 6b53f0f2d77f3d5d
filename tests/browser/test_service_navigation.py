"""The header menu is GOV.UK's service navigation: at a phone's width the QA lead's many
links fold behind a Menu button instead of filling half the screen; axe-clean either way."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_the_menu_folds_away_at_375_px(page):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "qa.lead")
    page.goto("/inbox")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(page.get_by_role("link", name="Reports", exact=True)).to_be_hidden()
    header = page.locator(".govuk-header").bounding_box()["height"] + \
        page.locator(".govuk-service-navigation").bounding_box()["height"]
    assert header < 200, header
    assert_accessible(page)
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url("**/reports")
    assert_accessible(page)


def test_the_menu_is_open_on_a_desktop(page):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "qa.lead")
    page.goto("/inbox")
    expect(page.get_by_role("link", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
