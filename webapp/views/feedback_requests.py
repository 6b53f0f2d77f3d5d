"""Staff side of feedback links: the auditor asks a child, family member or professional
for feedback on an audit, and the observer asks someone who was at a practice observation
(by email or printed letter); either can withdraw the link."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.qa import feedback_requests, observation_feedback
from engine.qa.models import Audit
from engine.runtime.models import ProcessInstance
from engine.runtime.monitoring import can_view_instance
from webapp.extensions import db

blueprint = Blueprint("feedback_requests", __name__)


@blueprint.route("/audits/<int:audit_id>/feedback-requests/new", methods=["GET", "POST"])
@login_required
def new(audit_id: int):
    """Ask for feedback; a letter is shown once to print, since only the code's digest is kept."""
    audit = _audit_they_may_ask_about(audit_id)
    subject = {"caption": f"{audit.reference} – case {audit.case.reference}", "name": "audit",
               "back": url_for("audits.audit", audit_id=audit.id), "back_label": f"Back to the audit {audit.reference}"}
    return _ask(subject, lambda *answers: feedback_requests.create_request(db.session, audit, current_user, *answers))


@blueprint.route("/observations/<int:instance_id>/feedback-requests/new", methods=["GET", "POST"])
@login_required
def new_for_observation(instance_id: int):
    """Ask someone who was at a practice observation (a family member, young person or professional)."""
    observation = _observation_they_may_ask_about(instance_id)
    subject = {"caption": f"Observation of practice {observation.business_key}", "name": "observation",
               "back": _observation_page(observation),
               "back_label": f"Back to the observation {observation.business_key}"}
    return _ask(subject, lambda *answers: observation_feedback.create_request(db.session, observation, current_user,
                                                                              *answers))


def _ask(subject: dict, create):
    """The request form, and on a good answer the letter to print (shown once) or the email queued."""
    if request.method == "GET":
        return _form(subject)
    try:
        issued = create(request.form.get("audience", ""), request.form.get("channel", ""), request.form.get("email"))
    except feedback_requests.FeedbackRequestError as problem:
        db.session.rollback()
        return _form(subject, errors={problem.field: str(problem)}, status=400)
    db.session.commit()
    if issued.request.channel == "letter":
        return render_template("feedback_letter.html", subject=subject, issued=issued,
                               audience=feedback_requests.AUDIENCES[issued.request.audience],
                               days=feedback_requests.link_lifetime().days)
    flash(f"The feedback request has been emailed. Its answers will appear on this {subject['name']}.", "success")
    return redirect(subject["back"])


@blueprint.route("/audits/<int:audit_id>/feedback-requests/<int:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw(audit_id: int, request_id: int):
    audit = _audit_they_may_ask_about(audit_id)
    return _withdraw(lambda: feedback_requests.withdraw(db.session, audit, request_id, current_user),
                     url_for("audits.audit", audit_id=audit.id))


@blueprint.route("/observations/<int:instance_id>/feedback-requests/<int:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw_for_observation(instance_id: int, request_id: int):
    observation = _observation_they_may_ask_about(instance_id)
    return _withdraw(lambda: observation_feedback.withdraw(db.session, observation, request_id, current_user),
                     _observation_page(observation))


def _withdraw(withdraw, back: str):
    """Withdraw a link (404 when it is not the subject's); an answered one stays, with a message."""
    try:
        withdraw()
    except LookupError:
        abort(404)
    except feedback_requests.FeedbackRequestError as problem:
        db.session.rollback()
        flash(str(problem), "info")
        return redirect(back)
    db.session.commit()
    flash("The feedback link has been withdrawn: it no longer opens the form.", "success")
    return redirect(back)


def _observation_they_may_ask_about(instance_id: int) -> ProcessInstance:
    observation = db.session.get(ProcessInstance, instance_id)
    if observation is None or observation.process_key != observation_feedback.OBSERVATION_PROCESS:
        abort(404)
    if not observation_feedback.may_use_feedback(db.session, current_user, observation):
        abort(403)
    return observation


def _observation_page(observation: ProcessInstance) -> str:
    """The instance page for those who may open it (the QA lead), else the observer's task page."""
    if can_view_instance(db.session, current_user, observation.id):
        return url_for("monitoring.instance", instance_id=observation.id)
    return url_for("tasks.task", task_id=observation_feedback.observation_task_id(db.session, observation))


def _audit_they_may_ask_about(audit_id: int) -> Audit:
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        abort(404)
    if not feedback_requests.can_request(current_user, audit):
        abort(403)
    return audit


def _form(subject: dict, errors: dict | None = None, status: int = 200):
    return render_template("feedback_request_new.html", subject=subject, errors=errors or {}, form=request.form,
                           audiences=feedback_requests.AUDIENCES, channels=feedback_requests.CHANNELS), status
