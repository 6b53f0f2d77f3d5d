"""Staff side of feedback links: the auditor asks a child, family member or professional
for feedback on an audit (by email or printed letter), and can withdraw the link."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.qa import feedback_requests
from engine.qa.models import Audit
from webapp.extensions import db

blueprint = Blueprint("feedback_requests", __name__)


@blueprint.route("/audits/<int:audit_id>/feedback-requests/new", methods=["GET", "POST"])
@login_required
def new(audit_id: int):
    """Ask for feedback; a letter is shown once to print, since only the code's digest is kept."""
    audit = _audit_they_may_ask_about(audit_id)
    if request.method == "GET":
        return _form(audit)
    try:
        issued = feedback_requests.create_request(
            db.session, audit, current_user, request.form.get("audience", ""), request.form.get("channel", ""),
            request.form.get("email"))
    except feedback_requests.FeedbackRequestError as problem:
        db.session.rollback()
        return _form(audit, errors={problem.field: str(problem)}, status=400)
    db.session.commit()
    if issued.request.channel == "letter":
        return render_template("feedback_letter.html", audit=audit, issued=issued,
                               audience=feedback_requests.AUDIENCES[issued.request.audience],
                               days=feedback_requests.link_lifetime().days)
    flash("The feedback request has been emailed. Its answers will appear on this audit.", "success")
    return redirect(url_for("audits.audit", audit_id=audit.id))


@blueprint.route("/audits/<int:audit_id>/feedback-requests/<int:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw(audit_id: int, request_id: int):
    audit = _audit_they_may_ask_about(audit_id)
    try:
        feedback_requests.withdraw(db.session, audit, request_id, current_user)
    except LookupError:
        abort(404)
    except feedback_requests.FeedbackRequestError as problem:
        db.session.rollback()
        flash(str(problem), "info")
        return redirect(url_for("audits.audit", audit_id=audit.id))
    db.session.commit()
    flash("The feedback link has been withdrawn: it no longer opens the form.", "success")
    return redirect(url_for("audits.audit", audit_id=audit.id))


def _audit_they_may_ask_about(audit_id: int) -> Audit:
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        abort(404)
    if not feedback_requests.can_request(current_user, audit):
        abort(403)
    return audit


def _form(audit: Audit, errors: dict | None = None, status: int = 200):
    return render_template("feedback_request_new.html", audit=audit, errors=errors or {}, form=request.form,
                           audiences=feedback_requests.AUDIENCES, channels=feedback_requests.CHANNELS), status
