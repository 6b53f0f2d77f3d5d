"""The QA lead writes a report's narrative and submits it for sign-off, the principal social
worker signs it off (after trying to return it without a comment), and the QA lead publishes
the report, in Chromium: the forms (open and with an error), the written sections, the
sign-off list and page (with its error) and the published page are axe-clean (WCAG 2.2
A/AA) at 320 px and never scroll sideways."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_the_narrative_is_written_signed_off_and_published_at_320_px(page):
    page.set_viewport_size({"width": 320, "height": 900})
    sign_in(page, "qa.lead")
    page.goto("/reports?period=cycle:2025-04-01&service=")
    page.get_by_text("Write the narrative").click()
    page.get_by_label("Learning").fill("x" * 6001)
    page.get_by_role("button", name="Save the narrative").click()
    expect(page.get_by_role("alert")).to_contain_text("Learning must be 6000 characters or fewer")
    assert_accessible(page)
    page.get_by_label("Learning").fill("Chronologies were out of date in half the audits.")
    page.get_by_label("Questions for team meetings").fill("When did you last update the chronology?")
    page.get_by_role("button", name="Save the narrative").click()
    expect(page.get_by_text("The narrative has been saved.")).to_be_visible()
    narrative = page.get_by_role("region", name="The QA lead's narrative")
    expect(narrative).to_contain_text("Chronologies were out of date in half the audits.")
    expect(narrative).to_contain_text("When did you last update the chronology?")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    expect(page.get_by_text("The report can be published to services and teams once its narrative is signed off."
                            )).to_be_visible()
    page.get_by_role("button", name="Submit for sign-off").click()
    expect(page.get_by_text("The narrative has been submitted for sign-off.")).to_be_visible()
    expect(page.get_by_text("Draft awaiting sign-off: submitted by")).to_be_visible()
    assert_accessible(page)
    sign_out(page)

    sign_in(page, "psw")
    page.get_by_role("link", name="1 report narrative awaits your sign-off").click()
    expect(page.get_by_role("heading", name="Report narratives to sign off", level=1)).to_be_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("link", name="2025/26 cycle 1: All services").first.click()
    expect(page.get_by_role("heading", name="2025/26 cycle 1: All services", level=1)).to_be_visible()
    expect(page.get_by_text("Chronologies were out of date in half the audits.")).to_be_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("button", name="Return with this comment").click()
    expect(page.get_by_role("alert")).to_contain_text("Say what needs to change before returning the narrative")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("button", name="Sign off and publish").click()
    expect(page.get_by_text("It is published.")).to_be_visible()
    expect(page.get_by_text("Nothing awaits your sign-off.")).to_be_visible()
    sign_out(page)

    sign_in(page, "qa.lead")
    page.goto("/reports?period=cycle:2025-04-01&service=")
    expect(page.get_by_text("Signed off by")).to_be_visible()
    page.get_by_text("Publish to services or teams").click()
    page.get_by_role("button", name="Publish the report").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one service or team to publish to")
    assert_accessible(page)
    page.get_by_label("MASH 1", exact=True).check()
    page.get_by_role("button", name="Publish the report").click()
    expect(page.get_by_text("The report has been published.")).to_be_visible()
    expect(page.get_by_role("heading", name="2025/26 cycle 1: All services")).to_be_visible()
    expect(page.locator("#signed-off")).to_contain_text("Signed off by")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
