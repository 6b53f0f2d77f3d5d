"""The six-weekly and annual report pages, and the same report as a PDF.

Read by the QA team, the principal social worker, senior leaders and heads of
service (who start from their own service). The QA team's narrative on a report is
submitted here for sign-off, and the principal social worker or an assistant director
signs it off or returns it on the sign-off pages (engine/qa/narratives.py). The figures are aggregates; the one
per-audit list (Inadequate audits) shows only audits the reader may open. Reading
a report, and each PDF made, is recorded in the audit trail.
"""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.qa import learning, narratives, reports
from engine.qa.access import audit_scope
from engine.qa.allocation import AUDIT_TYPES
from engine.qa.models import AREAS, Service, Team
from engine.qa.narrative_models import ReportNarrative
from engine.qa.report_pdf import report_pdf
from engine.runtime import events
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.navigation import add_item

blueprint = Blueprint("reports", __name__)
add_item("reports.report", "Reports", reports.can_see_reports)


@blueprint.route("/reports")
@login_required
def report():
    """The report for the chosen period and scope, with charts and their tables."""
    found, problems = _report_from_request()
    _record("report.viewed", found)
    return _render(found, problems)


@blueprint.route("/reports/narrative", methods=["POST"])
@login_required
def save_narrative():
    """The QA lead's (or a QA officer's) sections for the report named in the query string."""
    if not narratives.can_write(current_user):
        abort(403)
    found, problems = _report_from_request()
    if problems:
        return _render(found, problems, status=422)
    changed, errors = narratives.save(db.session, found["period"].key, found["narrative_scope"],
                                      request.form.to_dict(), current_user)
    if errors:
        db.session.rollback()
        return _render(found, [], narrative_errors=errors, narrative_form=request.form,
                       status=409 if "narrative" in errors else 422)
    db.session.commit()
    flash("The narrative has been saved." if changed else "Nothing had changed: the narrative is as it was.", "success")
    return redirect(url_for("reports.report", **_report_query(found)) + "#narrative")


@blueprint.route("/reports/narrative/submit", methods=["POST"])
@login_required
def submit_narrative():
    """The QA team send the report's narrative to the principal social worker or an assistant director."""
    if not narratives.can_write(current_user):
        abort(403)
    found, problems = _report_from_request()
    if problems:
        return _render(found, problems, status=422)
    problem = narratives.submit(db.session, found["narrative"], current_user)
    if problem:
        db.session.rollback()
        return _render(found, [], narrative_errors={"narrative": problem}, status=422)
    db.session.commit()
    flash("The narrative has been submitted for sign-off.", "success")
    return redirect(url_for("reports.report", **_report_query(found)) + "#narrative")


@blueprint.route("/reports/sign-off")
@login_required
def sign_off_list():
    """What awaits the signed-in signer's sign-off, and the narratives submitted lately."""
    _require_sign_off_page()
    waiting = narratives.awaiting_sign_off(db.session, current_user)
    recent = narratives.recent(db.session)
    return render_template("narrative_sign_off_list.html", waiting=waiting, recent=recent,
                           headings={n.id: narratives.heading_of(db.session, n) for n in {*waiting, *recent}},
                           statuses=narratives.STATUSES)


@blueprint.route("/reports/narratives/<int:narrative_id>")
@login_required
def narrative_sign_off(narrative_id: int):
    """One narrative as the signer reads it, with the sign-off and return forms."""
    _require_sign_off_page()
    narrative = _narrative(narrative_id)
    events.record(db.session, "report.narrative_viewed", actor_id=current_user.id,
                  subject=("report", narrative.period_key), payload={"narrative_id": narrative.id})
    db.session.commit()
    return _render_sign_off(narrative)


@blueprint.route("/reports/narratives/<int:narrative_id>/sign-off", methods=["POST"])
@login_required
def sign_off_narrative(narrative_id: int):
    """The principal social worker or an assistant director signs the narrative off: it is published."""
    if not narratives.can_sign_off(current_user):
        abort(403)
    narrative = _narrative(narrative_id)
    problem = narratives.sign_off(db.session, narrative, current_user)
    if problem:
        db.session.rollback()
        return _render_sign_off(narrative, problem=problem, status=409)
    db.session.commit()
    flash(f"You have signed off the narrative of {narratives.heading_of(db.session, narrative)}. It is published.",
          "success")
    return redirect(url_for("reports.sign_off_list"))


@blueprint.route("/reports/narratives/<int:narrative_id>/return", methods=["POST"])
@login_required
def return_narrative(narrative_id: int):
    """The signer sends the narrative back to the QA team with what needs to change."""
    if not narratives.can_sign_off(current_user):
        abort(403)
    narrative = _narrative(narrative_id)
    comment = request.form.get("comment", "")
    problem = narratives.return_for_changes(db.session, narrative, current_user, comment)
    if problem:
        db.session.rollback()
        return _render_sign_off(narrative, comment_error=problem, comment=comment,
                                status=422 if narrative.status == "awaiting_sign_off" else 409)
    db.session.commit()
    flash(f"You have returned the narrative of {narratives.heading_of(db.session, narrative)} to the QA team.",
          "success")
    return redirect(url_for("reports.sign_off_list"))


def _require_sign_off_page() -> None:
    if not (narratives.can_sign_off(current_user) or narratives.can_write(current_user)):
        abort(403)


def _narrative(narrative_id: int):
    narrative = db.session.get(ReportNarrative, narrative_id)
    if narrative is None:
        abort(404)
    return narrative


def _render_sign_off(narrative, problem: str | None = None, comment_error: str | None = None, comment: str = "",
                     status: int = 200):
    refusal = narratives.sign_off_refusal(db.session, narrative, current_user)
    page = render_template("narrative_sign_off.html", narrative=narrative,
                           heading=narratives.heading_of(db.session, narrative),
                           sections=narratives.sections_of(narrative), status_label=narratives.STATUSES[narrative.status],
                           status_line=narratives.sign_off_line(db.session, narrative),
                           people=_people(narrative), report_query=narratives.report_query(narrative),
                           may_decide=refusal is None, refusal=refusal if narratives.can_sign_off(current_user) else None,
                           problem=problem, comment_error=comment_error, comment=comment)
    return page, status


def _people(narrative) -> dict[int, str]:
    ids = {narrative.written_by_id, narrative.changed_by_id, narrative.submitted_by_id, narrative.signed_off_by_id,
           narrative.returned_by_id} - {None}
    return {user.id: user.display_name for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


@blueprint.route("/reports/publish", methods=["POST"])
@login_required
def publish():
    """The QA lead publishes the report's narrative and its counts to chosen services or teams."""
    if not learning.can_publish(current_user):
        abort(403)
    found, problems = _report_from_request()
    if problems:
        return _render(found, problems, status=422)
    audience, problem = learning.read_audience(db.session, request.form.getlist("services"),
                                               request.form.getlist("teams"))
    if not found["narrative_sections"]:
        problem = "Write the narrative before publishing the report"
    elif found["narrative"].status != "published":
        problem = "The narrative must be signed off before the report is published to services or teams"
    if problem:
        return _render(found, [], publish_error=problem, status=422)
    title = f"{found['period'].label}: {found['scope_label']}"
    publication, created = learning.publish(db.session, "report", title,
                                            learning.report_body(found),
                                            audience, current_user)
    db.session.commit()
    flash("The report has been published." if created else "This report was already published to them.", "success")
    return redirect(url_for("learning.publication", publication_id=publication.id))


def _render(found: dict, problems: list[str], narrative_errors: dict | None = None, narrative_form=None,
            publish_error: str | None = None, status: int = 200):
    narrative = found["narrative"]
    people = {} if narrative is None else _people(narrative)
    page = render_template("report.html", report=found, problems=problems, chart_data=_chart_data(found),
                           periods=reports.period_choices(db.session, clock.today()), grades=found["scale"].labels, areas=AREAS,
                           services=db.session.scalars(select(Service).order_by(Service.name)).all(),
                           teams=db.session.scalars(select(Team).order_by(Team.name)).all(),
                           audit_types=AUDIT_TYPES, query=request.args.to_dict(),
                           narrative=narrative, narrative_people=people,
                           narrative_values=narratives.values_of(narrative), narrative_sections=narratives.SECTIONS,
                           can_write_narrative=narratives.can_write(current_user),
                           narrative_refusal=narratives.edit_refusal(narrative),
                           can_sign_off=narratives.can_sign_off(current_user),
                           narrative_errors=narrative_errors or {}, narrative_form=narrative_form,
                           can_publish=learning.can_publish(current_user), publish_error=publish_error,
                           chosen=request.form if publish_error else None)
    return page, status


def _report_query(found: dict) -> dict:
    """The query string that names this report, for links and redirects back to it."""
    scope = found["scope"]
    return {"period": found["period"].key, "service": scope.service_id or "", "team": scope.team_id or "",
            "audit_type": scope.audit_type or ""}


@blueprint.route("/reports/report.pdf")
@login_required
def report_as_pdf():
    """The same report as a PDF, to send on."""
    found, _ = _report_from_request()
    _record("report.pdf_generated", found)
    body = report_pdf(found, current_app.config["COUNCIL_NAME"])
    name = f"case-file-audit-report-{found['period'].start.isoformat()}.pdf"
    return Response(body, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _report_from_request() -> tuple[dict, list[str]]:
    """Read the period, service, team and targets asked for; anything unreadable falls
    back to the default with a message, so a bad link still shows a report."""
    if not reports.can_see_reports(current_user):
        abort(403)
    args, problems = request.args, []
    period = reports.cycle_containing(clock.today())
    if args.get("period"):
        try:
            period = reports.parse_period(db.session, args["period"])
        except ValueError:
            problems.append("That period is not one of the reporting periods: showing the current cycle.")
    service_id = _known_id(args.get("service"), Service, problems, "service")
    if "service" not in args:
        service_id = reports.default_service_for(db.session, current_user)
    team_id = _known_id(args.get("team"), Team, problems, "team")
    audit_type = args.get("audit_type") or None
    if audit_type not in (None, *AUDIT_TYPES):
        problems.append("There is no such activity: showing every kind of audit.")
        audit_type = None
    targets = reports.Targets()
    values = {}
    for key, default in (("good_or_better", targets.good_or_better), ("inadequate", targets.inadequate)):
        text = args.get(f"target_{key}", "")
        try:
            values[key] = float(text) if text else default
            if not 0 <= values[key] <= 100:
                raise ValueError
        except ValueError:
            problems.append(f"A target must be a percentage from 0 to 100: using {default:g}%.")
            values[key] = default
    scope = reports.Scope(service_id=service_id, team_id=team_id, extra=audit_scope(current_user),
                          audit_type=audit_type)
    found = reports.build_report(db.session, period, scope, reports.Targets(**values))
    found["narrative_scope"] = narratives.scope_key(service_id, team_id)
    found["narrative"] = narratives.narrative_for(db.session, period.key, found["narrative_scope"])
    found["narrative_sections"] = narratives.sections_of(found["narrative"])
    found["narrative_sign_off"] = narratives.sign_off_line(db.session, found["narrative"])
    return found, problems


def _known_id(text: str | None, model, problems: list[str], label: str) -> int | None:
    if not text:
        return None
    number = whole_number(text, minimum=1)
    if number is not None and db.session.get(model, number) is not None:
        return number
    problems.append(f"There is no such {label}: showing all of them.")
    return None


def _record(kind: str, found: dict) -> None:
    scope = found["scope"]
    events.record(db.session, kind, actor_id=current_user.id, subject=("report", found["period"].key),
                  payload={"period": found["period"].key, "service_id": scope.service_id, "team_id": scope.team_id,
                           "audit_type": scope.audit_type,
                           "inadequate_audits_listed": [a["reference"] for a in found["inadequate"]["audits"]]})
    db.session.commit()


def _chart_data(found: dict) -> dict:
    """What webapp/static/src/charts.entry.js draws: the same figures as the tables beside each chart."""
    def number(value):  # a hidden small number ("fewer than 5") is drawn as a gap
        return value if isinstance(value, (int, float)) else None

    heat = found["heat_map"]
    return {
        "grades": [{"key": g.key, "label": g.label, "colour": g.colour} for g in found["scale"].grades],
        "escalating_label": found["scale"].escalating_label,
        "cycles": [{"label": t["period"].label, "counts": {k: number(v) for k, v in t["counts"].items()},
                    "good_or_better": number(t["good_or_better"]), "inadequate": number(t["inadequate"])}
                   for t in found["trend"]],
        "targets": {"good_or_better": found["targets"].good_or_better, "inadequate": found["targets"].inadequate},
        "heat_map": {**heat, "teams": [{**team, "cells": [
            None if cell is None else {"total": cell["total"], "good_or_better": number(cell["good_or_better"]),
                                       "hidden": bool(cell.get("small"))} for cell in team["cells"]]}
            for team in heat["teams"]]},
        "moderation": {auditor: {moderator: number(count) for moderator, count in row.items()}
                       for auditor, row in found["moderation"]["matrix"].items()},
    }
