"""The public feedback pages are slowed for someone guessing codes, per address, without
holding up a person whose link works."""
from sqlalchemy import func, select

from engine.qa.feedback_request_models import FeedbackResponse
from tests.test_feedback_requests import CHILD_FORM, _allocate, _ask

GUESSER = {"REMOTE_ADDR": "203.0.113.9"}
FAMILY = {"REMOTE_ADDR": "198.51.100.20"}


def _issue_code(app) -> str:
    from webapp.extensions import db
    with app.app_context():
        return _ask(db.session, _allocate(db.session).id).code


def test_repeated_wrong_codes_are_refused_with_a_wait_page_but_a_working_link_is_not(make_app):
    app = make_app(FEEDBACK_LIMIT_PER_ADDRESS="3 per minute")
    code = _issue_code(app)
    guesser, family = app.test_client(), app.test_client()

    wrong = [guesser.get(f"/feedback/WRONGCODE{n}", environ_base=GUESSER).status_code for n in range(3)]
    assert wrong == [404] * 3
    held = guesser.get("/feedback/WRONGCODE9", environ_base=GUESSER)
    page = held.get_data(as_text=True)
    assert held.status_code == 429 and "Too many codes tried" in page and "Wait 1 minute, then try again" in page
    assert "sign-in" not in page and "Retry-After" in held.headers
    # the code entry page shares the count, and a real code from that address waits too
    assert guesser.post("/feedback", data={"code": "ABCD"}, environ_base=GUESSER).status_code == 429
    assert guesser.get(f"/feedback/{code}", environ_base=GUESSER).status_code == 429

    assert family.get(f"/feedback/{code}", environ_base=FAMILY).status_code == 200
    done = family.post(f"/feedback/{code}", data=CHILD_FORM, environ_base=FAMILY)
    assert done.status_code == 302 and "thank-you" in done.headers["Location"]
    from webapp.extensions import db
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedbackResponse)) == 1


def test_opening_a_working_link_and_correcting_mistakes_never_count(make_app):
    app = make_app(FEEDBACK_LIMIT_PER_ADDRESS="2 per minute")
    code = _issue_code(app)
    family = app.test_client()
    assert [family.get(f"/feedback/{code}", environ_base=FAMILY).status_code for _ in range(4)] == [200] * 4
    assert [family.post(f"/feedback/{code}", data={"explains": "yes"}, environ_base=FAMILY).status_code
            for _ in range(3)] == [400] * 3  # a form sent back with errors is not a failed look-up
    assert family.post("/feedback", data={"code": code}, environ_base=FAMILY).status_code == 302
    assert family.post(f"/feedback/{code}", data=CHILD_FORM, environ_base=FAMILY).status_code == 302
    # once used, the link is closed: looking it up again now counts
    assert [family.get(f"/feedback/{code}", environ_base=FAMILY).status_code for _ in range(3)] == [410, 410, 429]
