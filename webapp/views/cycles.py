"""The six-weekly allocation cycle: start it, review its draw, confirm it, and its tracker.

The QA lead starts a cycle (or a scheduled one early), reviews the draw (swaps an
auditor or a moderator, removes a case) and confirms, which starts the audits.
Everyone with a part in audits sees the cycles and each cycle's allocation tracker,
scoped to the audits they may see. The rules live in engine.qa.cycles; this
module reads the form, calls it, commits and renders.
"""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import ROLES, User
from engine.qa import cycles
from engine.qa.cycle_models import ALLOCATION_STATUSES, CYCLE_STATUSES, SAMPLE_BASES, AuditCycle, CycleAllocation
from engine.qa.cycle_tracker import COLUMNS, EXPORT_TYPES, export_tracker, read_tracker
from engine.qa.models import COHORTS, Case, Team
from engine.runtime import events
from engine.runtime.errors import InvalidFormData, WorkflowError
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.form_rendering import ErrorLink, Field, Option
from webapp.navigation import add_item

blueprint = Blueprint("cycles", __name__)
add_item("cycles.cycles", "Cycles", cycles.can_view_cycles)


@blueprint.route("/cycles", endpoint="cycles")
@login_required
def list_cycles():
    """Every cycle, newest first, with where it stands."""
    _require(cycles.can_view_cycles)
    rows = db.session.scalars(select(AuditCycle).order_by(AuditCycle.number.desc())).all()
    return render_template("cycle_list.html", cycles=rows, statuses=CYCLE_STATUSES,
                           can_run=cycles.can_run_cycles(current_user))


@blueprint.route("/cycles/start", methods=["GET", "POST"])
@login_required
def start():
    """Start a cycle now, or the scheduled one early."""
    _require(cycles.can_run_cycles)
    scheduled = cycles.scheduled_cycle(db.session)
    values = request.form if request.method == "POST" else {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if scheduled is not None:
                cycle = cycles.start_scheduled_cycle_early(db.session, scheduled, _me())
            else:
                cycle = cycles.start_cycle(db.session, _me(), **_settings(values, errors))
            db.session.commit()
        except _Refused as refused:
            db.session.rollback()
            errors.update(refused.errors)
        except cycles.CycleError as refused:
            db.session.rollback()
            errors[refused.field or "cycle"] = str(refused)
        else:
            flash(f"{cycle.label} drawn: review its allocations before any audit starts.", "success")
            return redirect(url_for("cycles.review", cycle_id=cycle.id))
    general = errors.pop("cycle", None)
    fields = _settings_fields(values, errors, cycles.default_settings(db.session)) if scheduled is None else []
    summary = [ErrorLink(f"#{key}", message) for key, message in errors.items()]
    return render_template("cycle_start.html", scheduled=scheduled, fields=fields, errors=summary,
                           problems=[general] if general else []), (422 if errors or general else 200)


@blueprint.route("/cycles/<int:cycle_id>")
@login_required
def cycle(cycle_id: int):
    """One cycle: its dates, how it was drawn, and how many allocations stand where."""
    _require(cycles.can_view_cycles)
    found = _cycle_or_404(cycle_id)
    counts = {status: 0 for status in ALLOCATION_STATUSES}
    for allocation in cycles.allocations(db.session, found):
        counts[allocation.status] += 1
    check = cycles.verify_draw(db.session, found) if request.args.get("check") == "draw" else None
    return render_template("cycle.html", cycle=found, statuses=CYCLE_STATUSES, counts=counts,
                           allocation_statuses=ALLOCATION_STATUSES, bases=SAMPLE_BASES, check=check,
                           can_run=cycles.can_run_cycles(current_user), names=_names({found.confirmed_by_id}))


@blueprint.route("/cycles/<int:cycle_id>/review")
@login_required
def review(cycle_id: int):
    """The draw, case by case, for the QA lead to check before confirming."""
    _require(cycles.can_run_cycles)
    found = _cycle_or_404(cycle_id)
    if found.status != "in_review":
        flash(f"{found.label} is not awaiting review.", "info")
        return redirect(url_for("cycles.cycle", cycle_id=found.id))
    return _review_page(found)


@blueprint.route("/cycles/<int:cycle_id>/confirm", methods=["POST"])
@login_required
def confirm(cycle_id: int):
    """Confirm the allocations: the process starts one case file audit for each."""
    _require(cycles.can_run_cycles)
    found = _cycle_or_404(cycle_id)
    try:
        cycles.confirm_cycle(db.session, found, _me())
        db.session.commit()
    except InvalidFormData as refused:
        db.session.rollback()
        return _review_page(found, refusals=list(refused.errors.values()), status=409)
    except WorkflowError as refused:
        db.session.rollback()
        return _review_page(found, refusals=[str(refused)], status=409)
    db.session.refresh(found)
    started = sum(1 for a in cycles.allocations(db.session, found) if a.status == "started")
    flash(f"{found.label} confirmed: {started} audits started, each auditor has their first task.", "success")
    return redirect(url_for("cycles.tracker", cycle_id=found.id))


@blueprint.route("/cycles/<int:cycle_id>/allocations/<int:allocation_id>", methods=["GET", "POST"])
@login_required
def allocation(cycle_id: int, allocation_id: int):
    """Change one proposed allocation's auditor or moderator, or remove its case."""
    _require(cycles.can_run_cycles)
    found = db.session.get(CycleAllocation, allocation_id)
    if found is None or found.cycle_id != cycle_id:
        abort(404)
    errors: dict[str, str] = {}
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        action = values.get("action")
        if action not in ("change", "remove"):
            abort(400)
        try:
            if action == "change":
                cycles.change_allocation(db.session, found.id, _me(), auditor_id=_number(values, "auditor_id"),
                                         moderator_id=_number(values, "moderator_id"))
            else:
                cycles.remove_allocation(db.session, found.id, _me(), values.get("reason", ""))
            db.session.commit()
        except cycles.CycleError as refused:
            db.session.rollback()
            errors[refused.field or "allocation"] = str(refused)
        else:
            reference = db.session.get(Case, found.case_id).reference
            flash(f"Case {reference} {'removed from the cycle' if action == 'remove' else 'updated'}.", "success")
            return redirect(url_for("cycles.review", cycle_id=cycle_id))
    return _allocation_page(found, values, errors), (422 if errors else 200)


@blueprint.route("/cycles/<int:cycle_id>/tracker")
@login_required
def tracker(cycle_id: int):
    """The cycle's audit allocation tracker, rows scoped to what the reader may see."""
    _require(cycles.can_view_cycles)
    found = _cycle_or_404(cycle_id)
    rows = read_tracker(db.session, found, _me())
    db.session.commit()
    return render_template("cycle_tracker.html", cycle=found, rows=rows, columns=COLUMNS)


@blueprint.route("/cycles/<int:cycle_id>/tracker.<kind>")
@login_required
def tracker_export(cycle_id: int, kind: str):
    """The tracker as XLSX or CSV, with the same rows the reader sees on the page."""
    _require(cycles.can_view_cycles)
    if kind not in EXPORT_TYPES:
        abort(404)
    found = _cycle_or_404(cycle_id)
    filename, content_type, content = export_tracker(db.session, found, _me(), kind)
    db.session.commit()
    return Response(content, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class _Refused(Exception):
    """The start form's answers could not be read; `errors` says which and why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("There is a problem with your answers")
        self.errors = errors


def _settings(values, errors: dict[str, str]) -> dict:
    """The start form's answers, typed; blank or non-numbers become messages."""
    settings = {"sample_basis": values.get("sample_basis", "")}
    for key, label in (("sample_size", "the sample size"), ("cadence_weeks", "the weeks until the next cycle")):
        number = whole_number(values.get(key, ""))
        if number is None:
            errors[key] = f"Enter {label} as a whole number"
        settings[key] = number or 0
    if errors:
        raise _Refused(errors)
    return settings


def _settings_fields(values, errors: dict[str, str], defaults: cycles.CycleSettings) -> list[Field]:
    return [
        Field(kind="radios", name="sample_basis", id="sample_basis", label="How to count the sample",
              options=[Option(key, f"A number of {label}") for key, label in SAMPLE_BASES.items()],
              value=values.get("sample_basis", defaults.sample_basis), error=errors.get("sample_basis")),
        Field(kind="integer", name="sample_size", id="sample_size", label="Sample size",
              hint="How many cases from each team, or how many audits for each auditor.",
              value=values.get("sample_size", str(defaults.sample_size)), error=errors.get("sample_size")),
        Field(kind="integer", name="cadence_weeks", id="cadence_weeks", label="Weeks until the next cycle starts",
              hint="The next cycle is scheduled when this one closes. Enter 0 to schedule none.",
              value=values.get("cadence_weeks", str(defaults.cadence_weeks)), error=errors.get("cadence_weeks")),
    ]


def _review_page(found: AuditCycle, refusals: list[str] = (), status: int = 200):
    rows = cycles.allocations(db.session, found)
    cases = {case.id: case for case in db.session.scalars(select(Case).where(Case.id.in_([r.case_id for r in rows])))}
    teams = {team.id: team for team in db.session.scalars(select(Team))}
    names = _names({person for row in rows for person in (row.auditor_id, row.moderator_id)}
                   | {case.worker_id for case in cases.values()} | {team.manager_id for team in teams.values()})
    events.record(db.session, "cycle.review_viewed", actor_id=current_user.id, instance_id=found.instance_id,
                  subject=("audit_cycle", found.id), payload={"cycle": found.number, "rows": len(rows)})
    db.session.commit()
    return render_template("cycle_review.html", cycle=found, rows=rows, cases=cases, teams=teams, names=names,
                           cohorts=COHORTS, statuses=ALLOCATION_STATUSES,
                           refusals=list(refusals), warnings=cycles.review_problems(db.session, found),
                           proposed=sum(1 for row in rows if row.status == "proposed")), status


def _allocation_page(found: CycleAllocation, values, errors: dict[str, str]):
    cycle = db.session.get(AuditCycle, found.cycle_id)
    case = db.session.get(Case, found.case_id)
    team = db.session.get(Team, case.team_id)
    auditors, moderators = cycles.eligible_people(db.session, found)
    audit_load, moderation_load = cycles.loads(db.session, cycle)
    fields = [
        Field(kind="select", name="auditor_id", id="auditor_id", label="Auditor",
              hint="A team manager from outside the case's team. The number is their audits in this cycle.",
              options=[Option(str(u.id), f"{u.display_name} ({audit_load[u.id]})") for u in auditors],
              value=values.get("auditor_id", str(found.auditor_id)), error=errors.get("auditor_id")),
        Field(kind="select", name="moderator_id", id="moderator_id", label="Moderator",
              hint="Never the auditor. The number is their moderations in this cycle.",
              options=[Option(str(u.id), f"{u.display_name}, {_role_names(u)} ({moderation_load[u.id]})")
                       for u in moderators],
              value=values.get("moderator_id", str(found.moderator_id)), error=errors.get("moderator_id")),
    ]
    names = _names({case.worker_id, team.manager_id, found.drawn_auditor_id, found.drawn_moderator_id})
    events.record(db.session, "cycle.allocation_viewed", actor_id=current_user.id, instance_id=cycle.instance_id,
                  subject=("audit_cycle", cycle.id), payload={"cycle": cycle.number, "case": case.reference})
    db.session.commit()
    general = [message for key, message in errors.items() if key not in ("auditor_id", "moderator_id", "reason")]
    summary = [ErrorLink(f"#{key}", message) for key, message in errors.items()
               if key in ("auditor_id", "moderator_id", "reason")]
    return render_template("cycle_allocation.html", cycle=cycle, allocation=found, case=case, team=team,
                           cohorts=COHORTS, names=names, fields=fields, errors=summary, problems=general,
                           reason=values.get("reason", ""), reason_error=errors.get("reason"))


def _role_names(user: User) -> str:
    return ", ".join(ROLES[role] for role in sorted(user.roles) if role in ROLES)


def _number(values, key: str) -> int:
    return whole_number(values.get(key, "")) or 0


def _names(user_ids: set) -> dict[int, str]:
    wanted = {user_id for user_id in user_ids if user_id}
    if not wanted:
        return {}
    return {user.id: user.display_name for user in db.session.scalars(select(User).where(User.id.in_(wanted)))}


def _cycle_or_404(cycle_id: int) -> AuditCycle:
    found = db.session.get(AuditCycle, cycle_id)
    if found is None:
        abort(404)
    return found


def _require(check) -> None:
    if not check(current_user):
        abort(403)


def _me() -> User:
    return current_user._get_current_object()
