"""The report page with its findings sections, in Chromium: axe-clean (WCAG 2.2 A/AA) at
320 px and desktop width, the page never scrolling sideways (wide tables scroll in their
own box), and "fewer than 5" for a head of service who cannot open every audit."""
from datetime import date

import pytest
from playwright.sync_api import expect

from engine.database import make_session_factory
from engine.qa.demo_history import AuditPlan, write_history
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def write_cycle(database_url) -> None:
    session = make_session_factory(database_url)()
    try:
        write_history(session, [AuditPlan(team, date(2025, 4, 2 + n), "good", moderated_grade="good",
                                          answers={"child_voice.seen_in_line_with_plan": "partly"} if n % 2 else {})
                                for n, team in enumerate(["MASH 1", "Children in Care 1"] * 3)])
        session.commit()
    finally:
        session.close()
        session.bind.dispose()


@pytest.mark.parametrize("width", [320, 1280])
def test_the_report_with_findings_is_accessible_and_fits(page, database_url, width):
    write_cycle(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "hos.cic")
    page.goto("/reports?period=cycle:2025-04-01&service=")
    expect(page.get_by_role("heading", name="Compliance with practice standards")).to_be_visible()
    expect(page.get_by_role("heading", name="What has changed for the child")).to_be_visible()
    expect(page.get_by_role("region", name="Impact for the child by team")).to_contain_text("fewer than 5")
    expect(page.get_by_role("region", name="Answers to every question")).to_contain_text("3 (50.0%)")
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
