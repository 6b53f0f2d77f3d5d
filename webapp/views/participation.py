"""The participation team records what groups and forums of children and young people said,
and prints the Corporate Parenting Board report (HTML and PDF) for a chosen period."""
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.clock import clock
from engine.qa import participation
from engine.spreadsheet_rows import parse_date
from engine.qa.participation_pdf import board_report_pdf
from webapp.extensions import db
from webapp.navigation import add_item

blueprint = Blueprint("participation", __name__)
add_item("participation.board_report", "Participation", participation.can_read)


@blueprint.route("/participation")
@login_required
def board_report():
    """The board report for the chosen dates (the last six months unless given)."""
    if not participation.can_read(current_user):
        abort(403)
    period, error = _period()
    report = participation.board_report(db.session, period, current_user)
    db.session.commit()
    return render_template("participation.html", report=report, error=error,
                           can_record=participation.can_record(current_user)), 400 if error else 200


@blueprint.route("/participation/board-report.pdf")
@login_required
def board_report_file():
    if not participation.can_read(current_user):
        abort(403)
    period, _ = _period()
    report = participation.board_report(db.session, period, current_user)
    db.session.commit()
    pdf = board_report_pdf(report, current_app.config["COUNCIL_NAME"])
    return pdf, 200, {"Content-Type": "application/pdf",
                      "Content-Disposition": f'attachment; filename="corporate-parenting-board-{period.start}-{period.end}.pdf"'}


@blueprint.route("/participation/new", methods=["GET", "POST"])
@login_required
def new():
    if not participation.can_record(current_user):
        abort(403)
    errors = {}
    if request.method == "POST":
        try:
            participation.record_views(db.session, current_user, request.form.to_dict())
        except participation.ParticipationError as problem:
            db.session.rollback()
            errors = {problem.field: str(problem)}
        else:
            db.session.commit()
            flash("What they told you has been recorded.", "success")
            return redirect(url_for("participation.board_report"))
    return render_template("participation_new.html", errors=errors, form=request.form, forums=participation.FORUMS,
                           cohorts=participation.COHORTS, themes=participation.THEMES), 400 if errors else 200


def _period() -> tuple[participation.BoardPeriod, str | None]:
    today = clock.today()
    default = participation.BoardPeriod(today - timedelta(days=182), today)
    start, end = parse_date(request.args.get("start")), parse_date(request.args.get("end"))
    if not request.args.get("start") and not request.args.get("end"):
        return default, None
    if start is None or end is None or start > end:
        return default, "Enter a start date on or before the end date, like 2026-06-01."
    return participation.BoardPeriod(start, end), None
