"""Setting up two-factor sign-in in Chromium, then signing in with a recovery code,
each page checked with axe-core (the set-up page at 320 px too: the key must wrap)."""
import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_a_person_sets_up_two_factor_and_signs_in_with_a_recovery_code(page):
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, "tm.safeguarding1")
    page.goto("/account/two-factor")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert_accessible(page)
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 8
    page.get_by_role("button", name="Continue").click()
    sign_out(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/sign-in")
    page.get_by_label("Username").fill("tm.safeguarding1")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sign-in/two-factor")
    page.get_by_role("textbox", name="Code").fill("not-a-code")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name=re.compile("Enter a correct code"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("textbox", name="Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/inbox")
    assert "Signed in as" in page.content()
