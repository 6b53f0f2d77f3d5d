"""Public, account-free feedback pages reached by a single-use link or a letter's code.

They show no case details and never echo what was typed once it is sent: holding the
link gives no way to read an answer back. Every answer is validated on the server
against the audience's form; a closed link gets a page saying what to do instead.
Codes cannot be guessed (128 bits), and guessing is slowed anyway: each address may look up
only `FEEDBACK_LIMIT_PER_ADDRESS` unknown or closed codes, across both pages; a working
link never counts, so a family on a shared connection is not held up.
"""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded

from engine.qa import feedback_requests
from webapp.extensions import db
from webapp.extensions import limiter
from webapp.form_rendering import describe_form, parse_submission
from webapp.sign_in_limits import address_key, minutes_to_wait

blueprint = Blueprint("public_feedback", __name__)


def _failed_look_up(response) -> bool:
    return response.status_code in (404, 410)


def _limit_look_ups(methods: list[str]):
    """Limit a public page per address, counting only codes that did not open a form."""
    return limiter.shared_limit(lambda: current_app.config["FEEDBACK_LIMIT_PER_ADDRESS"], scope="public-feedback",
                                key_func=address_key, methods=methods, deduct_when=_failed_look_up)

CLOSED_MESSAGES = {
    "unknown": ("We cannot find that code", "Check the code in your letter or email and try again. "
                "If it still does not work, ask your social worker or the person who asked you for feedback."),
    "expired": ("This link has expired", "Links work for a limited time. If you would still like to tell us "
                "what you think, ask your social worker or the person who asked you for a new link."),
    "used": ("This link has already been used", "Thank you: an answer has already been sent with this link, "
             "and each link can be used once. If you want to add something, ask for a new link."),
    "withdrawn": ("This link is no longer in use", "The person who sent it has withdrawn it. "
                  "If you think this is a mistake, ask them for a new link."),
}


@blueprint.route("/feedback", methods=["GET", "POST"])
@_limit_look_ups(["POST"])
def enter_code():
    """Where a letter sends people: type the code, go to the form."""
    if request.method == "POST":
        code = feedback_requests.normalise(request.form.get("code", ""))
        if not code:
            return render_template("public_feedback_code.html", error="Enter the code from your letter"), 400
        return redirect(url_for("public_feedback.answer", code=code))
    return render_template("public_feedback_code.html", error=None)


@blueprint.route("/feedback/<code>", methods=["GET", "POST"])
@_limit_look_ups(["GET", "POST"])
def answer(code: str):
    try:
        found = feedback_requests.open_request(db.session, code)
    except feedback_requests.FeedbackLinkClosed as closed:
        return _closed(closed.reason)
    schema, ui = feedback_requests.form_schema(found.audience), feedback_requests.form_ui(found.audience)
    if request.method == "GET":
        return _form_page(found.audience, code, describe_form(schema, ui, {}, {}))
    answers = parse_submission(schema, request.form)
    try:
        feedback_requests.submit_response(db.session, code, answers)
    except feedback_requests.FeedbackLinkClosed as closed:
        db.session.rollback()
        return _closed(closed.reason)
    except ValueError as invalid:
        db.session.rollback()
        return _form_page(found.audience, code, describe_form(schema, ui, answers, invalid.args[0]), status=400)
    db.session.commit()
    return redirect(url_for("public_feedback.thank_you"))


@blueprint.route("/feedback/thank-you")
def thank_you():
    return render_template("public_feedback_done.html")


@blueprint.errorhandler(429)
def too_many_codes(error: RateLimitExceeded):
    """Too many codes that did not work from one address: say how long to wait, and nothing else."""
    db.session.rollback()
    return render_template("public_feedback_closed.html", title="Too many codes tried",
                           advice=f"Codes that did not work have been tried too many times from this connection. "
                                  f"Wait {minutes_to_wait()}, then try again. If your code still does not work, "
                                  "ask your social worker or the person who asked you for feedback."), 429


def _form_page(audience: str, code: str, form, status: int = 200):
    return render_template("public_feedback_form.html", audience=audience, form=form, code=code,
                           young=audience in ("under_8", "age_8_to_12")), status


def _closed(reason: str):
    title, advice = CLOSED_MESSAGES[reason]
    return render_template("public_feedback_closed.html", title=title, advice=advice), 410 if reason != "unknown" else 404
