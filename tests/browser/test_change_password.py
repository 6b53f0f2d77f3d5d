"""A person changes their password in the browser, is refused a weak one with the problem
shown at the field, and signs in with the new one; the page passes axe at phone width."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, shows, sign_in, sign_out

pytestmark = pytest.mark.browser

NEW_PASSWORD = "marmalade kettle lighthouse"


def fill(page, current, new, confirm):
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm new password").fill(confirm)
    page.get_by_role("button", name="Change password").click()


def test_change_password_then_sign_in_with_the_new_one_at_320_px(page):
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "sw.safeguarding1.1")
    page.get_by_role("link", name="Change password").click()
    page.wait_for_url("**/account/password")
    assert_accessible(page)

    fill(page, "demo-password", "password1234", "password1234")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    shows(page, "too common", "#new_password-error")
    assert_accessible(page)

    fill(page, "demo-password", NEW_PASSWORD, NEW_PASSWORD)
    page.wait_for_url("**/inbox")
    shows(page, "Your password has been changed", ".govuk-notification-banner")

    sign_out(page)
    page.get_by_label("Username").fill("sw.safeguarding1.1")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    shows(page, "Enter a correct username and password", ".govuk-error-summary")
    sign_in(page, "sw.safeguarding1.1", NEW_PASSWORD)
    assert page.url.endswith("/inbox")


def test_the_api_tokens_page_lists_and_revokes_at_320_px(page):
    page.set_viewport_size({"width": 320, "height": 800})
    issued = page.request.post("/api/v1/tokens", data={"username": "psw", "password": "demo-password"})
    assert issued.status == 201
    sign_in(page, "psw")
    page.goto("/account/password")
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/account/tokens")
    assert_accessible(page)
    page.get_by_role("button", name="Revoke").click()
    shows(page, "has been revoked", ".govuk-notification-banner")
    shows(page, "You have no API tokens that still work")
    assert_accessible(page)
