"""axe-core (WCAG 2.2 A/AA) on the pages every person meets first: sign-in and the inbox."""
import pytest

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_the_sign_in_page_has_no_accessibility_violations(page):
    page.goto("/sign-in")
    assert_accessible(page)


@pytest.mark.parametrize("width", [320, 1280])
def test_the_inbox_has_no_accessibility_violations_at_phone_and_desktop_widths(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, "tm.safeguarding1")
    page.goto("/inbox")
    assert_accessible(page)
