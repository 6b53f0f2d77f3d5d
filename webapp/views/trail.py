"""The audit trail for inspectors: prove the chain is intact, and export the evidence.

Only the QA lead and the director use these pages (every export gathers every audit
in its scope). Verifying, asking for an export and downloading one are recorded.
"""
import json
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.qa.activity_export import activity_names
from engine.qa.allocation import AUDIT_TYPES
from engine.qa.models import Service, Team
from engine.qa.retention_models import TrailExport
from engine.qa.trail_export import (ExportError, ExportFilters, can_export, export_directory, request_export,
                                    start_in_background)
from engine.runtime import events
from engine.runtime.events import verify_chain
from engine.runtime.submissions import verify_submissions
from engine.runtime.models import Event
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.form_rendering import read_date
from webapp.formatting import long_date
from webapp.navigation import add_item

blueprint = Blueprint("trail", __name__)
add_item("trail.trail", "Audit trail", can_export)
PERIODS = {"6": "The last 6 months", "12": "The last 12 months", "custom": "Dates I choose"}


@blueprint.before_request
@login_required
def _only_exporters():
    if not can_export(current_user):
        abort(403)


@blueprint.route("/trail")
def trail():
    """The last verification, the export form and the exports made so far."""
    return _page({}, {})


@blueprint.route("/trail/verify", methods=["POST"])
def verify():
    """Recompute every link of the chain now; name the first broken one if any."""
    report = verify_chain(db.session)
    submissions = verify_submissions(db.session)
    db.session.rollback()
    events.record(db.session, "trail.verified", actor_id=current_user.id, subject=("trail", "chain"),
                  payload={"ok": report.ok, "checked": report.checked, "head_hash": report.head_hash,
                           "first_broken_seq": report.first_broken_seq, "problem": report.problem,
                           "submissions_checked": submissions.checked,
                           "submissions_mismatched": submissions.mismatched})
    db.session.commit()
    intact = report.ok and not submissions.mismatched
    return render_template("trail_verify.html", report=report, submissions=submissions), 200 if intact else 409


@blueprint.route("/trail/exports", methods=["POST"])
def new_export():
    """Queue an export and start it in the background; its page shows the progress."""
    errors: dict[str, str] = {}
    filters = _read_filters(request.form, errors)
    if filters is not None:
        try:
            export = request_export(db.session, current_user._get_current_object(), filters)
            db.session.commit()
        except ExportError as refused:
            db.session.rollback()
            errors[refused.field or "period"] = str(refused)
        else:
            factory = make_session_factory(current_app.config["SQLALCHEMY_DATABASE_URI"])
            start_in_background(factory, export.id, export_directory())
            return redirect(url_for("trail.export", export_id=export.id))
    return _page(request.form, errors), 422


@blueprint.route("/trail/exports/<int:export_id>")
def export(export_id: int):
    found = db.session.get(TrailExport, export_id) or abort(404)
    requested_by = db.session.get(User, found.requested_by_id)
    return render_template("trail_export.html", export=found, requested_by=requested_by,
                           filters=_describe(found.filters), running=found.status in ("queued", "running"))


@blueprint.route("/trail/exports/<int:export_id>/download")
def download(export_id: int):
    found = db.session.get(TrailExport, export_id) or abort(404)
    if found.status != "done" or found.removed_at is not None:
        flash("This export has no file to download: it is not finished, or retention has removed it.", "info")
        return redirect(url_for("trail.export", export_id=export_id))
    events.record(db.session, "trail.export_downloaded", actor_id=current_user.id, subject=("trail_export", found.id),
                  payload={"zip_sha256": found.sha256})
    db.session.commit()
    return send_file(export_directory() / found.file_name, mimetype="application/zip", as_attachment=True,
                     download_name=found.file_name)


def _page(values, errors: dict[str, str]):
    last = db.session.scalar(select(Event).where(Event.kind == "trail.verified").order_by(Event.seq.desc()).limit(1))
    exports = db.session.scalars(select(TrailExport).order_by(TrailExport.id.desc()).limit(20)).all()
    return render_template(
        "trail.html", last_check=(last, json.loads(last.payload)) if last else None, exports=exports,
        describe=_describe, values=values, errors=errors, periods=PERIODS, audit_types=AUDIT_TYPES,
        activities=activity_names(db.session),
        service_options=db.session.execute(select(Service.id, Service.name).order_by(Service.name)).all(),
        team_options=db.session.execute(select(Team.id, Team.name).order_by(Team.name)).all())


def _read_filters(form, errors: dict[str, str]) -> ExportFilters | None:
    """The posted choices as filters; anything unreadable becomes a message for its field."""
    choices = {}
    for key in ("service_id", "team_id"):
        text = form.get(key, "")
        choices[key] = whole_number(text, minimum=1)
        if text and choices[key] is None:
            errors[key] = "Choose from the list."
    choices["audit_type"] = form.get("audit_type") or None
    choices["activity"] = form.get("activity") or None
    period = form.get("period", "")
    if period in ("6", "12"):
        return None if errors else ExportFilters.last_months(int(period), clock.today(), **choices)
    if period != "custom":
        errors["period"] = "Choose the period to export."
        return None
    dates = {}
    for key, label in (("start", "Start date"), ("end", "End date")):
        text = read_date(form, key)
        try:
            dates[key] = date.fromisoformat(text) if text else None
        except ValueError:
            dates[key] = None
        if dates[key] is None:
            errors[key] = f"{label} must be a real date, for example 1 4 2026"
    return None if errors else ExportFilters(dates["start"], dates["end"], **choices)


def _describe(filters: dict) -> str:
    """'1 April 2025 to 31 March 2026, MASH 1, random audits', for lists and headings."""
    parts = [f"{long_date(filters['start'])} to {long_date(filters['end'])}"]
    if filters.get("service_id"):
        parts.append(getattr(db.session.get(Service, filters["service_id"]), "name", "unknown service"))
    if filters.get("team_id"):
        parts.append(getattr(db.session.get(Team, filters["team_id"]), "name", "unknown team"))
    parts.append(f"{AUDIT_TYPES[filters['audit_type']].lower()} audits" if filters.get("audit_type") else "all audit types")
    if filters.get("activity"):
        parts.append(activity_names(db.session).get(filters["activity"], filters["activity"]).lower() + " only")
    return ", ".join(parts)

