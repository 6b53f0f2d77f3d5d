"""Compliments and complaints: the QA team enters or imports them; leaders read the log and
its themes (heads of service their own service's), beside the audit findings in reports."""
from datetime import timedelta
from pathlib import PurePath

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.clock import clock
from engine.qa import complaints_log
from engine.spreadsheet_rows import SpreadsheetFormatError
from engine.qa.models import Service, Team
from engine.runtime.starting import startable
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.navigation import add_item
from webapp.request_limits import accepts_upload

blueprint = Blueprint("complaints_log", __name__)
add_item("complaints_log.log", "Compliments and complaints", complaints_log.can_read)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
FILTERS = ("kind", "theme", "service")


@blueprint.route("/complaints")
@login_required
def log():
    """The log with its filters, and the last twelve months by theme."""
    if not complaints_log.can_read(current_user):
        abort(403)
    chosen = {key: request.args.get(key) or None for key in FILTERS}
    service_id = _service_id(chosen["service"])
    today = clock.today()
    found = complaints_log.read_entries(db.session, current_user, chosen["kind"], chosen["theme"], service_id)
    db.session.commit()
    themes = complaints_log.themes_summary(db.session, today - timedelta(days=365), today, service_id,
                                           reader=current_user)
    may_start = {item.key for item in startable(db.session, current_user)}
    return render_template(
        "complaints_log.html", chosen=chosen, choices=_choices(), entries=found, themes=themes,
        commissions=[complaints_log.commission_links(row, may_start) for row in themes],
        names=_names(), can_record=complaints_log.can_record(current_user))


@blueprint.route("/complaints/new", methods=["GET", "POST"])
@login_required
def new():
    _require_recorder()
    errors = {}
    if request.method == "POST":
        try:
            entry = complaints_log.record_entry(db.session, current_user, request.form.to_dict())
        except complaints_log.LogEntryError as problem:
            db.session.rollback()
            errors = {problem.field: str(problem)}
        else:
            db.session.commit()
            flash(f"{entry.reference} has been added to the log.", "success")
            return redirect(url_for("complaints_log.log"))
    return render_template("complaints_new.html", errors=errors, form=request.form, choices=_choices()), \
        400 if errors else 200


@blueprint.route("/complaints/import", methods=["GET", "POST"])
@login_required
@accepts_upload()
def import_file():
    _require_recorder()
    if request.method == "GET":
        return render_template("complaints_import.html", report=None, error=None)
    upload = request.files.get("log")
    content = upload.read(MAX_UPLOAD_BYTES + 1) if upload else b""
    name = PurePath(upload.filename or "").name if upload else ""
    error = None
    if not content:
        error = "Choose a CSV or XLSX file to import."
    elif len(content) > MAX_UPLOAD_BYTES:
        error = "The file is larger than 5 MB."
    if error is None:
        try:
            report = complaints_log.import_log(db.session, current_user, name, content,
                                               apply_good_rows=request.form.get("good_rows_only") == "yes")
        except SpreadsheetFormatError as problem:
            db.session.rollback()
            error = str(problem)
        else:
            db.session.commit() if report.applied else db.session.rollback()
            return render_template("complaints_import.html", report=report, error=None, filename=name)
    return render_template("complaints_import.html", report=None, error=error), 400


def _service_id(value: str | None) -> int | None:
    return whole_number(value, minimum=1)


def _choices() -> dict:
    services = db.session.execute(select(Service.id, Service.name).order_by(Service.name)).all()
    return {"kinds": complaints_log.KINDS, "themes": complaints_log.THEMES, "stages": complaints_log.STAGES,
            "outcomes": complaints_log.OUTCOMES, "services": services,
            "service_names": [(name, name) for _, name in services]}


def _names() -> dict:
    return {"services": dict(db.session.execute(select(Service.id, Service.name)).all()),
            "teams": dict(db.session.execute(select(Team.id, Team.name)).all())}


def _require_recorder() -> None:
    if not complaints_log.can_record(current_user):
        abort(403)
