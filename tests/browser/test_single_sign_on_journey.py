"""Signing in through the council's OpenID Connect provider in Chromium.

The provider (oidc-provider-mock, a real OpenID Connect server) runs on 127.0.0.1 next to
the app; the browser follows the real redirects both ways, and the pages on our side are
checked with axe-core at phone and desktop widths.
"""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, serving
from tests.oidc_provider import Provider

pytestmark = pytest.mark.browser


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider serves plain HTTP in tests
    started = Provider()
    yield started
    started.stop()


@pytest.fixture
def live_server(database_url, provider):
    """The app as tests/browser/conftest.py serves it, with single sign-on configured."""
    with serving(database_url, OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID="case-file-audit",
                 OIDC_CLIENT_SECRET="browser-secret") as url:
        yield url


@pytest.mark.parametrize("width", [320, 1280])
def test_a_team_manager_signs_in_with_the_council_account_and_sees_the_inbox(page, provider, width):
    page.set_viewport_size({"width": width, "height": 800})
    provider.set_person("entra-browser", oid="7d3f9a2e-browser", email="tm.safeguarding1@example.invalid")
    page.goto("/sign-in")
    assert_accessible(page)
    page.get_by_role("button", name="Sign in with Northbridge Council account").click()
    page.wait_for_url(f"{provider.issuer}/**")
    page.locator("input[name=sub]").fill("entra-browser")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url("**/inbox")
    assert "Signed in as" in page.content()
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{provider.issuer}/oauth2/end_session**")


def test_an_unknown_person_is_told_they_cannot_sign_in(page, provider):
    provider.set_person("stranger", oid="stranger-oid", email="stranger@example.invalid")
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with Northbridge Council account").click()
    page.locator("input[name=sub]").fill("stranger")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url("**/sign-in/oidc/callback**")
    expect(page.get_by_role("heading", name="You cannot sign in")).to_be_visible()
    assert_accessible(page)
