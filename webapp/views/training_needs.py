"""The learning and training needs page and its CSV/XLSX export, for the QA and workforce
team. The engine gathers the needs (engine/qa/training_needs.py); each view and export is recorded."""
from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.clock import clock
from engine.qa import reports, training_needs
from engine.qa.models import Service
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.navigation import add_item

blueprint = Blueprint("training_needs", __name__)
add_item("training_needs.index", "Training needs", training_needs.can_view)
TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@blueprint.route("/training-needs")
@login_required
def index():
    """The needs for the chosen period and service, counted by team and listed in full."""
    scope, problems = _scope_from_request()
    rows = training_needs.gather(db.session, scope)
    training_needs.record_view(db.session, current_user, scope, rows, "page")
    db.session.commit()
    return render_template("training_needs.html", scope=scope, rows=rows, teams=training_needs.by_team(rows),
                           problems=problems, periods=reports.period_choices(db.session, clock.today()),
                           services=db.session.scalars(select(Service).order_by(Service.name)).all(),
                           query=request.args.to_dict())


@blueprint.route("/training-needs/export.<any(csv, xlsx):how>")
@login_required
def export(how: str):
    """The same needs as a file for the training plan."""
    scope, _ = _scope_from_request()
    rows = training_needs.gather(db.session, scope)
    training_needs.record_view(db.session, current_user, scope, rows, how)
    db.session.commit()
    name = f"learning-and-training-needs-{scope.period.start.isoformat()}.{how}"
    return Response(training_needs.export(rows, how), mimetype=TYPES[how],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _scope_from_request() -> tuple[training_needs.NeedsScope, list[str]]:
    """The period and service asked for; anything unreadable falls back with a message."""
    if not training_needs.can_view(current_user):
        abort(403)
    problems = []
    period = reports.year_period(reports.reporting_year(clock.today()))
    if request.args.get("period"):
        try:
            period = reports.parse_period(db.session, request.args["period"])
        except ValueError:
            problems.append("That period is not one of the reporting periods: showing this reporting year.")
    service_id = None
    if request.args.get("service"):
        service_id = whole_number(request.args["service"], minimum=1)
        if service_id is None or db.session.get(Service, service_id) is None:
            problems.append("There is no such service: showing all of them.")
            service_id = None
    return training_needs.NeedsScope(period, service_id), problems
