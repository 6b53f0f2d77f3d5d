"""The single allocation's register look-up in Chromium: search, choose a case, and the
case reference is filled in; axe-clean (WCAG 2.2 A/AA) at 320 px and desktop width."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.models import Case
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def an_open_case(database_url) -> str:
    session = make_session_factory(database_url)()
    try:
        return session.scalar(select(Case.reference).where(Case.status == "open").order_by(Case.reference))
    finally:
        session.close()
        session.bind.dispose()


@pytest.mark.parametrize("width", [320, 1280])
def test_look_up_a_case_and_choose_it(page, database_url, width):
    reference = an_open_case(database_url)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "qa.lead")
    page.goto("/audits/allocate")
    page.get_by_label("Find a case in the open register").fill(reference[:-2])
    page.get_by_role("button", name="Search the register").click()
    expect(page.get_by_role("link", name=f"Choose {reference}")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=f"Choose {reference}").click()
    expect(page.get_by_label("Case reference")).to_have_value(reference)
    assert_accessible(page)
    if width == 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
