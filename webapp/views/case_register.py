"""The case register: the QA team imports the open cases exported from the case management system.

A file with bad rows changes nothing unless the person ticks "import the good rows
only"; the outcome page lists every bad row by line. Large files are imported in
the background: the outcome page shows progress, refreshing itself without
JavaScript and polling a small JSON endpoint with it. The rules are
engine.qa.case_register's; this module reads the upload, calls it and renders.
"""
from pathlib import PurePath

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from engine.qa import register_jobs
from engine.qa.case_register import COLUMNS, OPTIONAL_COLUMNS, RegisterFormatError, cases_needing_a_worker
from engine.qa.models import Case, Team
from engine.runtime import events
from webapp.extensions import db
from webapp.form_rendering import ErrorLink
from webapp.navigation import add_item
from webapp.request_limits import accepts_upload

blueprint = Blueprint("case_register", __name__)
add_item("case_register.register", "Case register", register_jobs.can_import)

ACCEPTED = (".csv", ".xlsx")


@blueprint.route("/register", methods=["GET", "POST"])
@login_required
@accepts_upload(advice="Import a larger register with `python -m engine.cli import-cases`.")
def register():
    """The upload form and the register as it stands (open cases per team)."""
    _require()
    error = None
    if request.method == "POST":
        upload = request.files.get("register")
        content = upload.read() if upload else b""  # no larger than the upload limit (webapp.request_limits)
        name = PurePath(upload.filename or "").name if upload else ""
        if not name or not content:
            error = "Choose the register file to import"
        elif not name.lower().endswith(ACCEPTED):
            error = "The register must be a CSV or XLSX file"
        else:
            return redirect(url_for("case_register.outcome", job_id=_import(
                name, content, good_rows_only=request.form.get("good_rows_only") == "yes")))
    teams = db.session.execute(select(Team.name, func.count(Case.id)).join(Case, Case.team_id == Team.id)
                               .where(Case.status == "open").group_by(Team.name).order_by(Team.name)).all()
    return render_template("register_upload.html", teams=teams, columns=COLUMNS, optional=OPTIONAL_COLUMNS,
                           unallocated=cases_needing_a_worker(db.session),
                           errors=[ErrorLink("#register", error)] if error else [], error=error,
                           good_rows_only=request.form.get("good_rows_only") == "yes"), (422 if error else 200)


@blueprint.route("/register/imports/<job_id>")
@login_required
def outcome(job_id: str):
    """Where an import stands: progress while it runs; then its counts and every bad row."""
    _require()
    recorded = _outcome_or_404(job_id)
    if recorded["state"] != "running":
        events.record(db.session, "case_register.import_viewed", actor_id=current_user.id,
                      subject=(register_jobs.SUBJECT, job_id), payload={"file": recorded["file"]})
    db.session.commit()
    return render_template("register_import.html", job_id=job_id, outcome=recorded,
                           progress=register_jobs.progress_of(job_id))


@blueprint.route("/register/imports/<job_id>/progress")
@login_required
def progress(job_id: str):
    """The import's state and rows checked, for the outcome page's script to poll."""
    _require()
    recorded = _outcome_or_404(job_id)
    db.session.rollback()
    live = register_jobs.progress_of(job_id)
    return jsonify(state=recorded["state"], done=live.done if live else None, total=live.total if live else None)


def _import(name: str, content: bytes, *, good_rows_only: bool) -> str:
    """Import now, or in the background when the file is large; returns the job id."""
    background = len(content) > register_jobs.BACKGROUND_BYTES
    job_id = register_jobs.begin(db.session, name, actor_id=current_user.id, background=background)
    db.session.commit()
    if background:
        register_jobs.start_background_import(sessionmaker(bind=db.engine), job_id, name, content,
                                              actor_id=current_user.id, apply_good_rows=good_rows_only)
        return job_id
    try:
        register_jobs.run_import(db.session, job_id, name, content, actor_id=current_user.id,
                                 apply_good_rows=good_rows_only)
    except RegisterFormatError:
        pass  # recorded under the job: the outcome page says what is wrong with the file
    db.session.commit()
    return job_id


def _outcome_or_404(job_id: str) -> dict:
    recorded = register_jobs.outcome(db.session, job_id)
    if recorded is None:
        abort(404)
    return recorded


def _require() -> None:
    if not register_jobs.can_import(current_user):
        abort(403)
