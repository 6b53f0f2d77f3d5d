"""The master audit actions tracker: filter, update with evidence, verify, export, distribute.

Each person sees the actions of the audits and activities they may see and the actions they
own; the rules, the exports and the distribution live in engine/qa/actions_tracker.py. The
activities' recommendations once had a list of their own at /recommendations: that address
now opens the tracker filtered to them.
"""
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.clock import clock
from engine.qa import actions_tracker as tracker_rules
from engine.qa.actions_tracker import TrackerFilters
from engine.runtime.errors import InvalidFormData, NotAllowed, WorkflowError
from engine.qa.activity_actions import SOURCES
from engine.runtime.monitoring import may_monitor, saved_filters
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.form_rendering import ErrorLink, read_date
from webapp.navigation import add_item

blueprint = Blueprint("tracker", __name__)
add_item("tracker.tracker", "Actions tracker", tracker_rules.may_view_tracker)


@blueprint.route("/tracker")
@login_required
def tracker():
    """The tracker, filtered, a page at a time; reading it is recorded."""
    _require(tracker_rules.may_view_tracker(current_user))
    filters, errors = TrackerFilters.from_query(request.args)
    listing = tracker_rules.list_actions(db.session, _me(), filters, clock.today())
    page = render_template("tracker.html", filters=filters, errors=errors, listing=listing,
                           summary=_summary(errors),
                           choices=tracker_rules.filter_choices(db.session, current_user),
                           statuses=tracker_rules.STATUSES, verification=tracker_rules.VERIFICATION, sources=SOURCES,
                           may_monitor=may_monitor(current_user),
                           query=urlencode(filters.to_query()), saved=saved_filters(db.session, current_user, "tracker"),
                           may_verify=tracker_rules.may_verify(current_user),
                           may_distribute=tracker_rules.may_distribute(current_user),
                           page_link=lambda number: url_for("tracker.tracker", **filters.to_query(page=number)))
    db.session.commit()  # the read is recorded; rendered first, so the rows need not be loaded again
    return page


@blueprint.route("/recommendations")
@login_required
def recommendations():
    """The old list of recommendations: the tracker, filtered to the activity asked for
    (a thematic audit's or a dip sample's), to thematic audits' when none is named."""
    _require(tracker_rules.may_view_tracker(current_user))
    activity = request.args.get("activity")
    return redirect(url_for("tracker.tracker", source=activity if activity in ("thematic", "dip_sample") else "thematic"))


@blueprint.route("/tracker/export.<any(csv, xlsx):kind>")
@login_required
def export(kind: str):
    """Every action the filters match, as CSV or XLSX; the export is recorded."""
    _require(tracker_rules.may_view_tracker(current_user))
    filters, _ = TrackerFilters.from_query(request.args)
    if kind == "csv":
        content = tracker_rules.export_csv(db.session, _me(), filters, clock.today())
        content_type = "text/csv; charset=utf-8"
    else:
        content = tracker_rules.export_xlsx(db.session, _me(), filters, clock.today())
        content_type = tracker_rules.XLSX_TYPE
    db.session.commit()
    name = f"audit-actions-tracker-{clock.today().isoformat()}.{kind}"
    return Response(content, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@blueprint.route("/tracker/actions/<int:action_id>", methods=["GET", "POST"])
@login_required
def action(action_id: int):
    """One action: update its status with evidence (owner or QA team), or verify it (QA lead)."""
    _require(tracker_rules.may_view_tracker(current_user))
    today = clock.today()
    row = _action_or_404(action_id, today)
    errors = {}
    verifying = request.form.get("action") == "verify"
    completed_on = _completed_on(errors) if request.method == "POST" and not verifying else None
    if request.method == "POST" and not errors:
        try:
            if verifying:
                tracker_rules.verify_action(db.session, action_id, _me())
                message = f"{row['audit']} {row['ref']} verified"
            else:
                tracker_rules.update_action(db.session, action_id, _me(), status=request.form.get("status", ""),
                                            evidence=request.form.get("evidence", ""), completed_on=completed_on,
                                            reason=request.form.get("not_completed_reason", ""))
                message = f"{row['audit']} {row['ref']} updated"
            db.session.commit()
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except InvalidFormData as invalid:
            db.session.rollback()
            errors = dict(invalid.errors)
        else:
            flash(message, "success")
            return redirect(url_for("tracker.tracker", q=row["audit"]))
    row = _action_or_404(action_id, today)
    return render_template("tracker_action.html", row=row, errors=errors, values=request.form,
                           summary=_summary(errors),
                           statuses=tracker_rules.STATUSES,
                           may_update=tracker_rules.may_update(current_user, row["owner_id"]),
                           may_verify=tracker_rules.may_verify(current_user)), (422 if errors else 200)


@blueprint.route("/tracker/distribute", methods=["GET", "POST"])
@login_required
def distribute():
    """Send the tracker to each head of service and the conference and review managers."""
    _require(tracker_rules.may_distribute(current_user))
    errors = {}
    if request.method == "POST":
        chosen = request.form.get("cycle", "")
        try:
            cycle_id = whole_number(chosen, minimum=1)
            if chosen and cycle_id is None:
                raise InvalidFormData({"cycle": "Choose a cycle from the list"})
            sent = tracker_rules.distribute(db.session, _me(), cycle_id=cycle_id,
                                            tracker_url=url_for("tracker.tracker", _external=True))
            db.session.commit()
        except InvalidFormData as invalid:
            db.session.rollback()
            errors = invalid.errors
        else:
            flash(f"Tracker for {sent['cycle']} sent to {len(sent['recipients'])} people ({sent['rows']} actions).",
                  "success")
            return redirect(url_for("tracker.distribute"))
    return render_template("tracker_distribute.html", errors=errors,
                           summary=_summary(errors),
                           cycles=tracker_rules.filter_choices(db.session, current_user)["cycles"],
                           history=tracker_rules.distributions(db.session)), (422 if errors else 200)


def _summary(errors: dict[str, str]) -> list[ErrorLink]:
    return [ErrorLink(f"#{field}", message) for field, message in errors.items()]


def _completed_on(errors: dict) -> date | None:
    text = read_date(request.form, "completed_on")
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        errors["completed_on"] = "The date completed must be a real date, for example 27 3 2027"
        return None


def _action_or_404(action_id: int, today: date) -> dict:
    try:
        return tracker_rules.action_for(db.session, current_user, action_id, today)
    except WorkflowError:
        abort(404)


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def _me():
    return current_user._get_current_object()
