"""Annual QA reports: the list, one report's page with the year's figures and sections, its PDF.

The QA team and senior leaders read them while they are written; heads of service once
published (engine/qa/annual_report.py). Every read is recorded.
"""
from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import User
from engine.qa.access import SEE_EVERY_AUDIT
from engine.qa.activity_pdf import annual_report_pdf, survey_row
from engine.qa.annual_report import SECTIONS, may_read_annual_report
from engine.qa.thematic_models import AnnualReport
from engine.runtime import events
from webapp.extensions import db
from webapp.navigation import add_item
from webapp.views.thematic import recorded_pdf

blueprint = Blueprint("annual_reports", __name__)
add_item("annual_reports.index", "Annual QA reports", lambda user: user.has_role(*SEE_EVERY_AUDIT, "head_of_service"))


@blueprint.route("/annual-reports")
@login_required
def index():
    rows = [row for row in db.session.scalars(select(AnnualReport).order_by(AnnualReport.year.desc()))
            if may_read_annual_report(current_user, row)]
    return render_template("annual_reports.html", rows=rows)


@blueprint.route("/annual-reports/<int:report_id>")
@login_required
def report(report_id: int):
    found = _readable(report_id)
    events.record(db.session, "annual_report.viewed", actor_id=current_user.id, instance_id=found.instance_id,
                  subject=("annual_report", found.id))
    page = render_template("annual_report.html", report=found, figures=found.figures, sections=SECTIONS,
                           signed_off_by=_name(found.signed_off_by_id),
                           survey_rows=[survey_row(row) for row in found.figures.get("survey", [])])
    db.session.commit()
    return page


@blueprint.route("/annual-reports/<int:report_id>/report.pdf")
@login_required
def report_pdf(report_id: int):
    found = _readable(report_id)
    body = annual_report_pdf(found, SECTIONS, _name(found.signed_off_by_id), current_app.config["COUNCIL_NAME"])
    return recorded_pdf(body, found.reference, "annual_report.downloaded", found.instance_id,
                        ("annual_report", found.id))


def _readable(report_id: int) -> AnnualReport:
    found = db.session.get(AnnualReport, report_id)
    if found is None:
        abort(404)
    if not may_read_annual_report(current_user, found):
        abort(403)
    return found


def _name(user_id: int | None) -> str | None:
    person = db.session.get(User, user_id) if user_id else None
    return person.display_name if person else None
