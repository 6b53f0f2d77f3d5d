"""The instance list past its count, in Chromium: a council's list longer than it counts says
"more than" and pages on with Next and Previous, with no last page to jump to; axe-clean (WCAG 2.2
A/AA) and never scrolling sideways at 320 px. Here the count stops at 2 and a page holds 2, so
the mixed cycle's audits are enough to go past it."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, shows, sign_in
from tests.browser.test_report_scales import write_mixed_cycle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [320, 1280])
def test_a_list_longer_than_its_count_pages_on_with_next(page, database_url, width, monkeypatch):
    from engine.runtime import monitoring
    monkeypatch.setattr(monitoring, "LIST_COUNTED_UP_TO", 2)
    monkeypatch.setattr(monitoring, "PAGE_SIZE", 2)
    write_mixed_cycle(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "qa.lead")
    page.goto("/instances")
    shows(page, "More than 2 processes found, page 1.")
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages.get_by_role("link", name="Page 2")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(2)
    first_page = set(page.locator("tbody tr").evaluate_all("rows => rows.map(row => row.dataset.instance)"))
    assert_accessible(page)
    if width == 320:  # the list's table scrolls in its own box
        assert page.evaluate("document.documentElement.scrollWidth") <= 320

    pages.get_by_role("link", name="Next page").click()
    page.wait_for_url("**page=2**")
    shows(page, "More than 2 processes found, page 2.")
    second_page = set(page.locator("tbody tr").evaluate_all("rows => rows.map(row => row.dataset.instance)"))
    assert second_page and not second_page & first_page
    expect(page.get_by_role("navigation", name="Pages").get_by_role("link", name="Previous page")).to_be_visible()
    assert_accessible(page)
