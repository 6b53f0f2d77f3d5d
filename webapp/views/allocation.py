"""Allocating a case for audit: the QA lead or a QA officer picks the case, the auditor
and the moderator; the engine checks separation of duties and starts the process.

The allocated worker and their team manager are not chosen here: they come from the
case record, and the new audit's page shows them.
"""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import ROLES, User, UserRole
from engine.clock import clock
from engine.qa.access import can_allocate
from engine.qa.allocation import (AUDIT_TYPES, MODERATOR_ROLES, AllocationError, AllocationRequest,
                                  allocate_audit, default_timescales, find_open_cases, recent_audit,
                                  recent_audit_text)
from engine.qa.models import Case, Service, Team
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.form_rendering import ErrorLink, Field, Option, read_date, walk
from webapp.formatting import long_date
from webapp.navigation import add_item

blueprint = Blueprint("allocation", __name__)

DATE_LABELS = {"due_on": "Audit due date", "moderation_due_on": "Moderation due date"}


add_item("allocation.allocate", "Allocate", can_allocate)


@blueprint.route("/audits/allocate", methods=["GET", "POST"])
@login_required
def allocate():
    """Show the allocation form (with the register look-up), or allocate and go to the new audit's page."""
    if not can_allocate(current_user):
        abort(403)
    values = request.form if request.method == "POST" else {"case_reference": request.args.get("case_reference", "")}
    errors: dict[str, str] = {}
    search = request.args.get("find", "").strip()
    found = find_open_cases(db.session, current_user, search, clock.today()) if search else None
    if found is not None:
        db.session.commit()
    if request.method == "POST":
        allocation = _read_request(values, errors)
        if allocation is not None:
            try:
                audit = allocate_audit(db.session, allocation, current_user._get_current_object())
                db.session.commit()
            except AllocationError as refused:
                db.session.rollback()
                errors[refused.field or "case_reference"] = str(refused)
            else:
                auditor = db.session.get(User, audit.auditor_id)
                flash(f"{audit.reference} allocated: {auditor.display_name} has the first task in their inbox.",
                      "success")
                return redirect(url_for("audits.audit", audit_id=audit.id))
    warning = _recent_warning(values.get("case_reference", ""))
    fields = _fields(values, errors, confirm=warning is not None or "confirm_recent" in errors)
    summary = [ErrorLink(f"#{item.anchor}", item.error) for item in walk(fields) if item.error]
    return render_template("allocate.html", fields=fields, errors=summary, search=search, found=found,
                           warning=warning), (422 if errors else 200)


def _recent_warning(reference: str) -> str | None:
    """'Audited in the last 12 months (…)' for the case reference entered, if it was."""
    case = db.session.scalar(select(Case).where(Case.reference == reference.strip().upper())) if reference else None
    recent = recent_audit(db.session, case.id, clock.today()) if case else None
    return f"Case {case.reference} was audited in the last 12 months: {recent_audit_text(recent)}." if recent else None


def _read_request(values, errors: dict[str, str]) -> AllocationRequest | None:
    """Turn the posted form into a request; blank or unreadable answers become messages.

    Whether the people and dates are allowed is the engine's decision, not this one's.
    """
    reference = values.get("case_reference", "").strip()
    if not reference:
        errors["case_reference"] = "Enter the case reference"
    people = {}
    for key, label in (("auditor_id", "auditor"), ("moderator_id", "moderator")):
        people[key] = whole_number(values.get(key, ""), minimum=1) or 0
        if not people[key]:
            errors[key] = f"Choose the {label}"
    dates = {}
    for key, label in DATE_LABELS.items():
        text = read_date(values, key)
        try:
            dates[key] = date.fromisoformat(text) if text else None
        except ValueError:
            errors[key] = f"{label} must be a real date, for example 27 3 2027"
    if errors:
        return None
    return AllocationRequest(case_reference=reference, audit_type=values.get("audit_type", ""),
                             confirm_recent=values.get("confirm_recent") == "yes", **people, **dates)


def _fields(values, errors: dict[str, str], confirm: bool) -> list[Field]:
    """The allocation form, as the same GOV.UK field macros as the task forms render it."""
    due_on, moderation_due_on = default_timescales(clock.today())
    recent = [Field(kind="confirm", name="confirm_recent", id="confirm_recent",
                    label="Audit this case again although it was audited in the last 12 months",
                    value=values.get("confirm_recent", ""), error=errors.get("confirm_recent"))] if confirm else []
    return [
        Field(kind="text", name="case_reference", id="case_reference", label="Case reference",
              hint="The child's reference in the case management system, for example CS123456.",
              value=values.get("case_reference", ""), error=errors.get("case_reference")),
        *recent,
        Field(kind="select", name="auditor_id", id="auditor_id", label="Auditor",
              hint="A team manager from outside the case's own team.", options=_auditors(),
              value=values.get("auditor_id", ""), error=errors.get("auditor_id")),
        Field(kind="select", name="moderator_id", id="moderator_id", label="Moderator",
              hint="A head of service, the principal social worker or the QA lead; never the auditor.",
              options=_moderators(), value=values.get("moderator_id", ""), error=errors.get("moderator_id")),
        Field(kind="radios", name="audit_type", id="audit_type", label="Type of audit",
              options=[Option(key, label) for key, label in AUDIT_TYPES.items()],
              value=values.get("audit_type", "random"), error=errors.get("audit_type"), inline=True),
        _date_field(values, errors, "due_on",
                    f"Leave blank for 15 working days from today: {long_date(due_on)}."),
        _date_field(values, errors, "moderation_due_on",
                    f"Leave blank for 10 working days after the audit is due: {long_date(moderation_due_on)} "
                    "with the default due date."),
    ]


def _date_field(values, errors: dict[str, str], key: str, hint: str) -> Field:
    return Field(kind="date", name=key, id=key, label=DATE_LABELS[key], hint=hint, optional=True,
                 value={part: values.get(f"{key}-{part}", "") for part in ("day", "month", "year")},
                 error=errors.get(key))


def _auditors() -> list[Option]:
    teams = {team.manager_id: team.name for team in db.session.scalars(select(Team))}
    return [Option(str(user.id), f"{user.display_name} ({teams.get(user.id, 'no team')})")
            for user in _people_with_roles(("team_manager",))]


def _moderators() -> list[Option]:
    """Each moderator with their roles; a head of service with the services they lead."""
    services: dict[int, list[str]] = {}
    for service in db.session.scalars(select(Service).order_by(Service.name)):
        services.setdefault(service.head_of_service_id, []).append(service.name)
    def roles_of(user: User) -> str:
        return ", ".join(ROLES[role] + (f", {' and '.join(services[user.id])}"
                                        if role == "head_of_service" and user.id in services else "")
                         for role in sorted(user.roles & set(MODERATOR_ROLES)))
    return [Option(str(user.id), f"{user.display_name} ({roles_of(user)})") for user in _people_with_roles(MODERATOR_ROLES)]


def _people_with_roles(roles: tuple[str, ...]) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))))
        .order_by(User.display_name)))
