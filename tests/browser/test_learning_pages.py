"""The Learning pages in Chromium at 320 px: the QA lead writes and publishes a 7-minute
briefing to one team (the form, with its errors, and the published page are axe-clean),
a practitioner in that team reads it, and the QA lead sees who has; and the learning and
training needs page."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in, sign_out
from tests.browser.test_report_findings import write_cycle

pytestmark = pytest.mark.browser


def fits(page):
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_a_briefing_is_written_published_read_and_its_readers_seen(page):
    page.set_viewport_size({"width": 320, "height": 900})
    sign_in(page, "qa.lead")
    page.goto("/learning")
    page.get_by_role("link", name="Write a 7-minute briefing").click()
    page.get_by_label("Title").fill("Seeing children alone")
    page.get_by_role("button", name="Publish the briefing").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one service or team to publish to")
    fits(page)
    for label, text in (("What happened", "Children were not always seen alone."),
                        ("Why it matters", "Children tell us more when seen alone."),
                        ("What to do differently", "Record whether the child was seen alone, and why not."),
                        ("Questions for team meetings", "What gets in the way of seeing children alone?")):
        page.get_by_label(label).fill(text)
    page.get_by_label("MASH 1", exact=True).check()
    page.get_by_role("button", name="Publish the briefing").click()
    expect(page.get_by_text("The briefing has been published.")).to_be_visible()
    expect(page.get_by_role("heading", name="Seeing children alone")).to_be_visible()
    fits(page)
    sign_out(page)

    sign_in(page, "sw.mash1.1")
    page.goto("/learning")
    fits(page)
    page.get_by_role("link", name="Seeing children alone").click()
    expect(page.get_by_text("What gets in the way of seeing children alone?")).to_be_visible()
    fits(page)
    sign_out(page)

    sign_in(page, "qa.lead")
    page.goto("/learning")
    page.get_by_role("link", name="Seeing children alone").click()
    expect(page.get_by_role("region", name="Who has read it")).to_contain_text("MASH 1")
    fits(page)


def test_the_training_needs_page_is_accessible_at_320_px(page, database_url):
    write_cycle(database_url)
    page.set_viewport_size({"width": 320, "height": 900})
    sign_in(page, "psw")
    page.goto("/training-needs?period=year:2025-04-01")
    expect(page.get_by_role("region", name="Needs by team")).to_contain_text("MASH 1")
    expect(page.get_by_role("region", name="Every need")).to_contain_text("Chronology analysis.")
    fits(page)
