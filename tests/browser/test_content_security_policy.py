"""The pages with the most script — the process editor, the diagram viewer and the report
charts — work under the app's Content-Security-Policy and make the browser report nothing.

Each page must arrive with the policy, draw what it draws (the editor's canvas, the marked
diagram, the charts at their heights) with the styles that moved out of the templates into
app.css, start GOV.UK Frontend from its bundle, and leave no `securitypolicyviolation`
event or console report behind. A last test shows the listener does catch a violation, so
an empty list means something.
"""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Case, Team
from engine.runtime.model_drafts import open_draft
from engine.runtime.registry import publish
from tests.browser.conftest import csp_violations, sign_in
from tests.browser.test_modeler import with_session
from tests.conftest import user_named
from tests.model_samples import observation_files

pytestmark = pytest.mark.browser

BLUE = "rgb(29, 112, 184)"


def open_under_policy(page, path: str) -> None:
    """Go to `path`; it must carry the policy and start GOV.UK Frontend from the bundle."""
    response = page.goto(path)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src-attr")[0]
    expect(page.locator("body.js-enabled.govuk-frontend-supported")).to_have_count(1)
    expect(page.locator("header[data-govuk-header-init]")).to_have_count(1)


def computed(locator, prop: str) -> str:
    return locator.evaluate("(node, prop) => getComputedStyle(node).getPropertyValue(prop)", prop)


def test_the_process_editor_works_under_the_policy(page, database_url):
    with_session(database_url, lambda s: (publish(s, observation_files()),
                                          open_draft(s, "observation", user_named(s, "process.owner"))))
    page.set_viewport_size({"width": 1400, "height": 1000})
    sign_in(page, "process.owner")
    open_under_policy(page, "/models/observation/draft/modeler")
    expect(page.locator('#modeler-canvas g.djs-element[data-element-id="observe"]')).to_be_visible()
    expect(page.locator("#modeler-properties .bio-properties-panel")).to_be_visible()
    assert computed(page.locator(".app-modeler__canvas"), "height") == "640px"  # app.css, not a <style> block
    assert csp_violations(page) == []


def test_the_diagram_viewer_works_under_the_policy(page, database_url):
    def allocate(session):
        case = session.scalar(select(Case).join(Team).where(Team.name == "Children in Care 1").order_by(Case.id))
        return allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                         user_named(session, "hos.disabled").id),
                              user_named(session, "qa.lead")).instance_id
    instance_id = with_session(database_url, allocate)
    sign_in(page, "qa.lead")
    open_under_policy(page, f"/instances/{instance_id}")
    expect(page.locator("#diagram")).to_have_attribute("data-ready", "true")
    active = page.locator("#diagram .app-step--active .djs-visual > :first-child").first
    assert computed(active, "stroke") == BLUE  # the marker styles are applied from app.css
    assert computed(page.locator(".app-diagram__key--active"), "border-top-color") == BLUE
    assert csp_violations(page) == []


def test_the_report_charts_work_under_the_policy(page):
    sign_in(page, "qa.lead")
    open_under_policy(page, "/reports")
    boxes = page.locator("[data-chart-box]")
    expect(boxes.first).to_be_visible()
    for index in range(boxes.count()):
        box = boxes.nth(index)
        expect(box).to_be_visible()
        assert computed(box, "height") == f"{box.get_attribute('data-chart-height')}px"
        assert box.locator("canvas").evaluate("canvas => canvas.width > 0 && canvas.height > 0")
    assert csp_violations(page) == []


def test_a_violation_would_be_reported(page):
    """The check above is not vacuous: a style attribute added to the page is refused and seen."""
    sign_in(page, "qa.lead")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">injected</p>')")
    expect(page.get_by_text("injected")).to_be_visible()
    page.wait_for_timeout(200)  # the event and the console report arrive asynchronously
    violations = csp_violations(page)
    assert violations and any("style-src" in line for line in violations)
    assert computed(page.get_by_text("injected"), "color") != "rgb(255, 0, 0)"
    violations.clear()  # expected here: the page fixture fails any test that leaves one behind
