"""Retention periods and legal holds: the QA lead sets them, the director can read them.

Every change, and every run of retention, is recorded in the audit trail; the
engine (engine/qa/retention.py) decides what may be changed and does the work.
"""
import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from engine.qa import retention
from engine.qa.models import Case
from engine.qa.retention_models import LegalHold, RetainedRecord
from engine.runtime.models import Event
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.navigation import add_item

blueprint = Blueprint("retention", __name__)
add_item("retention.overview", "Retention", retention.can_view)


@blueprint.before_request
@login_required
def _only_governance():
    if not retention.can_view(current_user):
        abort(403)
    if request.method == "POST" and not retention.can_manage(current_user):
        abort(403)


@blueprint.route("/retention")
def overview():
    return _page({}, {})


@blueprint.route("/retention/rules", methods=["POST"])
def change_rules():
    """Save every period that changed; none is saved if any is wrong."""
    errors, current = {}, retention.rules(db.session)
    for record_type in retention.RECORD_TYPES:
        days = whole_number(request.form.get(record_type, ""))
        if days is None:
            errors[record_type] = "Enter a whole number of days"
            continue
        if days != current[record_type]:
            try:
                retention.set_rule(db.session, current_user._get_current_object(), record_type, days)
            except retention.RetentionError as refused:
                errors[refused.field] = str(refused)
    return _commit_or_show(errors, "Retention periods saved.")


@blueprint.route("/retention/holds", methods=["POST"])
def place_hold():
    try:
        hold = retention.place_hold(db.session, current_user._get_current_object(),
                                    request.form.get("case_reference", ""), request.form.get("reason", ""))
    except retention.RetentionError as refused:
        return _commit_or_show({refused.field: str(refused)}, "")
    return _commit_or_show({}, f"Legal hold placed on case {db.session.get(Case, hold.case_id).reference}.")


@blueprint.route("/retention/holds/<int:hold_id>/release", methods=["POST"])
def release_hold(hold_id: int):
    try:
        retention.release_hold(db.session, current_user._get_current_object(), hold_id,
                               request.form.get("release_reason", ""))
    except retention.RetentionError as refused:
        return _commit_or_show({f"release_reason-{hold_id}": str(refused)}, "")
    return _commit_or_show({}, "Legal hold released.")


@blueprint.route("/retention/apply", methods=["POST"])
def apply_now():
    """Run retention now rather than waiting for the scheduler."""
    counts = retention.apply_retention(db.session, actor_id=current_user.id)
    return _commit_or_show({}, f"Retention applied: {counts['audits_anonymised']} audits and "
                               f"{counts['activities_anonymised']} activities anonymised, "
                               f"{counts['drafts_deleted']} drafts and {counts['export_files_deleted']} export files deleted.")


def _commit_or_show(errors: dict[str, str], done: str):
    if errors:
        db.session.rollback()
        return _page(request.form, errors), 422
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("retention.overview"))


def _page(values, errors: dict[str, str]):
    holds = db.session.execute(select(LegalHold, Case.reference).join(Case, Case.id == LegalHold.case_id)
                               .order_by(LegalHold.released_at.is_not(None), LegalHold.placed_at.desc()).limit(100)).all()
    runs = db.session.scalars(select(Event).where(Event.kind == "retention.applied").order_by(Event.seq.desc()).limit(10)).all()
    anonymised = db.session.scalar(select(func.count()).select_from(RetainedRecord)
                                   .where(RetainedRecord.record_type == "audit"))
    return render_template("retention.html", kinds=retention.RECORD_TYPES, rules=retention.rules(db.session),
                           holds=holds, runs=[(run, json.loads(run.payload)) for run in runs], anonymised=anonymised,
                           can_manage=retention.can_manage(current_user), values=values, errors=errors)
