"""Adding the other practitioners on a case to its audit, and taking them off again.

The auditor and the QA lead pick people from the organisation directory and say their role
on the case and why; each is asked for their evidence (engine/qa/contributions.py). The
page shows a child's case reference and who works with them, so reading it is recorded.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.accounts import User
from engine.qa import contributions
from engine.qa.access import can_view_audit
from engine.qa.models import Audit
from engine.runtime import events
from webapp.extensions import db

blueprint = Blueprint("audit_participants", __name__)


@blueprint.route("/audits/<int:audit_id>/practitioners")
@login_required
def participants(audit_id: int):
    """Who is on the audit besides its allocated worker, and the form to add someone."""
    audit = _audit_they_may_change(audit_id)
    events.record(db.session, "audit.participants_viewed", actor_id=current_user.id, instance_id=audit.instance_id,
                  subject=("audit", audit.id), payload={"audit": audit.reference})
    db.session.commit()
    return _page(audit)


@blueprint.route("/audits/<int:audit_id>/practitioners", methods=["POST"])
@login_required
def add(audit_id: int):
    audit = _audit_they_may_change(audit_id)
    chosen = request.form.get("user_id", "")
    try:
        added = contributions.add_participant(db.session, audit, current_user._get_current_object(),
                                              int(chosen) if chosen.isdigit() else None,
                                              request.form.get("case_role", ""), request.form.get("reason", ""))
    except contributions.ParticipantError as refused:
        db.session.rollback()
        return _page(audit, errors=refused.errors, form=request.form, status=400)
    db.session.commit()
    asked = " They have been asked for their evidence." if added.contribution_instance_id else \
        " They will be asked for their evidence when the auditor begins the audit tool."
    flash(f"{db.session.get(User, added.user_id).display_name} has been added to the audit.{asked}", "success")
    return redirect(url_for("audit_participants.participants", audit_id=audit.id))


@blueprint.route("/audits/<int:audit_id>/practitioners/<int:participant_id>/remove", methods=["POST"])
@login_required
def remove(audit_id: int, participant_id: int):
    audit = _audit_they_may_change(audit_id)
    try:
        contributions.remove_participant(db.session, audit, current_user._get_current_object(), participant_id,
                                         request.form.get("reason", ""))
    except contributions.ParticipantError as refused:
        db.session.rollback()
        errors = {f"reason-{participant_id}" if key == "reason" else key: message
                  for key, message in refused.errors.items()}
        return _page(audit, errors=errors, form=request.form, status=400)
    db.session.commit()
    flash("The practitioner has been taken off the audit. Evidence they already gave stays on it.", "success")
    return redirect(url_for("audit_participants.participants", audit_id=audit.id))


def _page(audit: Audit, *, errors: dict | None = None, form=None, status: int = 200):
    return render_template("audit_participants.html", audit=audit, errors=errors or {}, form=form or {},
                           participants=contributions.participants_of(db.session, audit),
                           people=contributions.people_to_add(db.session, audit), case_roles=contributions.CASE_ROLES,
                           open=audit.status in contributions.OPEN_FOR_PARTICIPANTS), status


def _audit_they_may_change(audit_id: int) -> Audit:
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        abort(404)
    user = current_user._get_current_object()
    if not can_view_audit(db.session, user, audit_id) or not contributions.may_manage_participants(user, audit):
        abort(403)
    return audit
