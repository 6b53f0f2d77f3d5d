"""The report page once a council has moved to a new grading scale, in Chromium: the grade
tables on the current scale with the judgement areas, the audits on the old scale reported
separately, "fewer than 5" for a head of service who cannot open every audit; and the instance
list's grade filter on the current scale, the old scale's grades named with it; the dashboard's
open escalating-grade number named as the current scale names it, counting both scales. Axe-clean
(WCAG 2.2 A/AA) and never scrolling sideways at 320 px."""
import json
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.demo_history import AuditPlan, write_history
from engine.runtime.models import ProcessVersion
from engine.runtime.registry import PROCESSES_DIR, publish, read_model_from_disk
from tests.browser.conftest import assert_accessible, sign_in
from tests.test_grading_scales import THREE_POINT

pytestmark = pytest.mark.browser


def write_mixed_cycle(database_url, with_escalating: bool = False) -> None:
    """The mixed cycle; `with_escalating` adds an open Serious concern audit on the three-point
    scale and an open Inadequate one on the seed's."""
    session = make_session_factory(database_url)()
    try:
        seed = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "case_file_audit")
                              .order_by(ProcessVersion.version))
        files = {**read_model_from_disk(PROCESSES_DIR / "case_file_audit"),
                 "grading_scale.json": json.dumps(THREE_POINT)}
        three_point = publish(session, files, note="Moving to the three-point scale")
        write_history(session, [
            AuditPlan("MASH 1", date(2025, 4, 2), "strong", cohort="child_protection", version=three_point),
            AuditPlan("Children in Care 1", date(2025, 4, 3), "developing", cohort="child_in_care",
                      version=three_point),
            AuditPlan("Children in Care 1", date(2025, 4, 4), "strong", cohort="care_leaver", version=three_point),
            AuditPlan("MASH 1", date(2025, 4, 7), "good", cohort="child_in_need", version=seed),
        ] + ([AuditPlan("MASH 1", date(2025, 4, 8), "serious_concern", cohort="child_in_need", version=three_point),
              AuditPlan("Children in Care 1", date(2025, 4, 9), "inadequate", cohort="child_in_care", version=seed)]
             if with_escalating else []))
        session.commit()
    finally:
        session.close()
        session.bind.dispose()


@pytest.mark.parametrize("username,width", [("hos.cic", 320), ("qa.lead", 1280)])
def test_the_report_on_a_new_scale_is_accessible_and_fits(page, database_url, username, width):
    write_mixed_cycle(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, username)
    page.goto("/reports?period=cycle:2025-04-01&service=")
    expect(page.get_by_role("heading", name="Grading scale")).to_be_visible()
    expect(page.get_by_text("Audits graded on a different scale (1) are reported separately")).to_be_visible()
    old_scale = page.get_by_role("region", name="Audits graded on the Ofsted four-point scale")
    by_area = page.get_by_role("region", name="By inspection judgement area")
    expect(by_area).to_contain_text("The experiences and progress of care leavers")
    expect(by_area).to_contain_text("Strong practice")
    if username == "hos.cic":
        expect(old_scale).to_contain_text("fewer than 5")
        expect(by_area).to_contain_text("fewer than 5")
    else:
        expect(old_scale.get_by_role("row", name="Good 1", exact=True)).to_be_visible()
        expect(by_area).not_to_contain_text("fewer than 5")
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("width", [320, 1280])
def test_the_instance_lists_grade_filter_offers_the_current_scale_and_names_the_old_one(page, database_url, width):
    write_mixed_cycle(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "qa.lead")
    page.goto("/instances")
    grade = page.get_by_label("Grade (moderated if moderated)")
    expect(grade.locator("option")).to_contain_text(["Strong practice", "Developing practice", "Serious concern",
                                                     "Good (Ofsted four-point scale)"])
    grade.select_option(label="Developing practice")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**grade=developing**")
    expect(page.locator("tbody tr")).to_have_count(1)
    assert_accessible(page)
    if width == 320:  # the list's table scrolls in its own box
        assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("width", [320, 1280])
def test_the_dashboard_counts_open_audits_at_each_scales_escalating_grade(page, database_url, width):
    write_mixed_cycle(database_url, with_escalating=True)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "qa.lead")
    page.goto("/monitoring")
    row = page.locator(".govuk-summary-list__row", has_text="Open Serious concern audits")
    expect(row.locator('[data-count="open_escalating"]')).to_have_text("2")
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    row.locator('[data-count="open_escalating"]').click()
    page.wait_for_url("**grade=any-escalating**")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_label("Grade (moderated if moderated)")).to_have_value("any-escalating")
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
