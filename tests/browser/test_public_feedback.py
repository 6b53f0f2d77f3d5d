"""A feedback link answered in Chromium with the keyboard alone, on a phone-sized screen, and
the answer read on the audit by the auditor; every page on the way is axe-clean."""
import re

import pytest
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Case, Team
from tests.browser.conftest import assert_accessible, shows, sign_in
from tests.conftest import user_named

pytestmark = pytest.mark.browser


@pytest.fixture
def audit_id(database_url):
    session = make_session_factory(database_url)()
    case = session.scalar(select(Case).join(Team).where(Team.name == "Children in Care 1").order_by(Case.id))
    audit = allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                      user_named(session, "hos.disabled").id),
                           user_named(session, "qa.lead"))
    session.commit()
    found = audit.id
    session.close()
    session.bind.dispose()
    return found


def tab_to(page, name: str, limit: int = 40) -> None:
    """Press Tab until the control named `name` has the focus, as a keyboard user moves down a page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == name:
            return
    raise AssertionError(f"never reached {name} with the Tab key")


def test_a_parent_answers_with_the_keyboard_at_320px_and_the_auditor_reads_it(browser, live_server, audit_id):
    staff = browser.new_context(base_url=live_server, viewport={"width": 320, "height": 800})
    auditor = staff.new_page()
    sign_in(auditor, "tm.mash1")
    auditor.goto(f"/audits/{audit_id}/feedback-requests/new")
    assert_accessible(auditor)
    auditor.get_by_role("button", name="Send the request").click()
    shows(auditor, "Select who the feedback is from")
    assert_accessible(auditor)
    auditor.get_by_label("Parent or carer").check()
    auditor.get_by_label("By printed letter with a code").check()
    auditor.get_by_role("button", name="Send the request").click()
    code = auditor.inner_text(".app-letter__code")
    assert re.fullmatch(r"([A-Z2-7]{4} ){6}[A-Z2-7]{2}", code.strip())
    assert_accessible(auditor)

    public = browser.new_context(base_url=live_server, viewport={"width": 320, "height": 800})
    parent = public.new_page()
    parent.goto("/feedback")
    assert_accessible(parent)
    tab_to(parent, "code")
    parent.keyboard.type(code.lower())
    parent.keyboard.press("Enter")
    parent.wait_for_url(re.compile(r"/feedback/[A-Z2-7]{26}$"))
    shows(parent, "Were you treated with respect?")
    assert_accessible(parent)
    assert parent.evaluate("document.documentElement.scrollWidth") <= 320

    tab_to(parent, "consent")
    parent.keyboard.press("Space")
    for question in ("respect", "understood_why", "timely", "kept_informed", "improved_for_child", "rating"):
        tab_to(parent, question)
        parent.keyboard.press("Space")  # the first choice: Yes, or 1 for the rating
    parent.keyboard.press("ArrowDown")  # the rating moves to 2 – poor
    tab_to(parent, "comments")
    parent.keyboard.type("We would like meetings after school hours.")
    parent.keyboard.press("Tab")
    parent.keyboard.press("Enter")
    parent.wait_for_url("**/feedback/thank-you")
    shows(parent, "We have your answers")
    assert_accessible(parent)
    parent.go_back()
    parent.reload()
    shows(parent, "already been used")
    assert_accessible(parent)

    auditor.goto(f"/audits/{audit_id}")
    record = auditor.inner_text("main")
    assert "We would like meetings after school hours." in record and "2 – poor" in record
    assert_accessible(auditor)
    public.close()
    staff.close()


def test_the_page_for_too_many_wrong_codes_is_accessible_at_320px(browser, database_url):
    from tests.browser.conftest import serving
    with serving(database_url, FEEDBACK_LIMIT_PER_ADDRESS="2 per minute") as url:
        public = browser.new_context(base_url=url, viewport={"width": 320, "height": 800})
        guesser = public.new_page()
        for attempt in ("AAAA", "BBBB"):
            guesser.goto(f"/feedback/{attempt}")
            shows(guesser, "We cannot find that code")
        response = guesser.goto("/feedback/CCCC")
        assert response.status == 429 and "Too many codes tried" in guesser.inner_text("main")
        assert_accessible(guesser)
        assert guesser.evaluate("document.documentElement.scrollWidth") <= 320
        public.close()
