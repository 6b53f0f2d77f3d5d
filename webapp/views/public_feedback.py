"""Public, account-free feedback pages reached by a single-use link or a letter's code.

They show no case details and never echo what was typed once it is sent: holding the
link gives no way to read an answer back. Every answer is validated on the server
against the audience's form; a closed link gets a page saying what to do instead.
"""
from flask import Blueprint, redirect, render_template, request, url_for

from engine.qa import feedback_requests
from webapp.extensions import db
from webapp.form_rendering import describe_form, parse_submission

blueprint = Blueprint("public_feedback", __name__)

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
def enter_code():
    """Where a letter sends people: type the code, go to the form."""
    if request.method == "POST":
        code = feedback_requests.normalise(request.form.get("code", ""))
        if not code:
            return render_template("public_feedback_code.html", error="Enter the code from your letter"), 400
        return redirect(url_for("public_feedback.answer", code=code))
    return render_template("public_feedback_code.html", error=None)


@blueprint.route("/feedback/<code>", methods=["GET", "POST"])
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


def _form_page(audience: str, code: str, form, status: int = 200):
    return render_template("public_feedback_form.html", audience=audience, form=form, code=code,
                           young=audience in ("under_8", "age_8_to_12")), status


def _closed(reason: str):
    title, advice = CLOSED_MESSAGES[reason]
    return render_template("public_feedback_closed.html", title=title, advice=advice), 410 if reason != "unknown" else 404
