"""The master audit actions tracker the QA lead holds (QA framework sections 5 to 7).

Every action from every audit and activity, with its source activity (a case file audit, or
a thematic audit's or dip sample's recommendation, or a multi-agency audit's agreed action:
engine/qa/activity_actions.py), case, area, owner, due date, priority, status, completion,
evidence, the reason it is not completed, review in supervision and the QA lead's verification.
People see the actions of the audits they may see (engine/qa/access.py), the actions they
own, a head of service their service's activity actions and a partner agency auditor the
actions of the multi-agency audits they are invited to; the QA lead, QA officers, senior
leaders and the conference and review managers see all of it. Owners and the QA team update an action's status
with evidence; only the QA lead verifies. Exports (XLSX, CSV) carry case
references, never names of children. At the end of a cycle the QA lead distributes
it: each head of service gets their service's actions, each conference and review
manager all of them, in the app and by email with the XLSX attached. Every
update, verification, export and distribution is recorded in the audit trail.
"""
import json
from dataclasses import dataclass
from typing import ClassVar
from datetime import date
from math import ceil
from urllib.parse import urlencode

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.accounts import User, UserRole
from engine.clock import LOCAL_ZONE, clock
from engine.database import as_utc
from engine.spreadsheet_files import csv_bytes, xlsx_bytes
from engine.notifications import notify
from engine.qa.access import audit_scope
from engine.qa.activity_actions import AGENCIES, PARTNER_ROLE, SOURCES, invited_audits
from engine.qa.cycle_models import AuditCycle
from engine.qa.models import AREAS, Audit, AuditAction, Case, Service, Team
from engine.runtime import events
from engine.runtime.errors import InvalidFormData, NotAllowed, WorkflowError
from engine.runtime.models import Event
from engine.runtime.query_filters import QueryFilters

SEE_EVERY_ACTION = ("qa_lead", "qa_officer", "principal_social_worker", "assistant_director", "director",
                    "conference_review_manager")
# Reviewing officers are added to audits and own actions (engine/qa/contributions.py): they see theirs.
TRACKER_ROLES = SEE_EVERY_ACTION + ("head_of_service", "team_manager", "practitioner", "reviewing_officer", PARTNER_ROLE)
UPDATE_ANY_ACTION = ("qa_lead", "qa_officer")
VERIFIER_ROLES = ("qa_lead",)
DISTRIBUTOR_ROLES = ("qa_lead",)
STATUSES = {"not_started": "Not started", "in_progress": "In progress", "completed": "Completed",
            "cancelled": "Cancelled"}
OPEN_STATUSES = ("not_started", "in_progress")
DONE_STATUSES = ("completed", "cancelled")
VERIFICATION = {"awaiting": "Awaiting QA lead confirmation", "verified": "Verified by the QA lead"}
PAGE_SIZE = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The exported columns, in the order of the framework's tracker.
COLUMNS = (("source", "Source activity"), ("audit", "Reference"), ("case", "Case reference"), ("service", "Service"),
           ("team", "Team"), ("agency", "Agency"), ("area", "Area"), ("ref", "Ref"), ("action", "Action"), ("owner", "Owner"), ("owner_role", "Owner role"),
           ("due_on", "Due"), ("revised_due_on", "Revised due"), ("priority", "Priority"), ("status", "Status"),
           ("completed_on", "Date completed"), ("evidence", "Evidence"),
           ("not_completed_reason", "Reason not completed"),
           ("reviewed_in_supervision_on", "Reviewed in supervision"), ("supervision_outcome", "Supervision outcome"),
           ("verified_by", "Verified by QA lead"), ("verified_at", "Verified on"))


@dataclass
class TrackerFilters(QueryFilters):
    """The tracker's search and filters, as the page's query string holds them."""
    NUMBERS: ClassVar = ("service", "team", "owner", "cycle", "page")
    FLAGS: ClassVar = ("overdue",)
    CHOICES: ClassVar = {"status": STATUSES, "verification": VERIFICATION, "source": SOURCES}

    q: str = ""
    source: str = ""
    service: int | None = None
    team: int | None = None
    owner: int | None = None
    cycle: int | None = None
    status: str = ""
    overdue: bool = False
    verification: str = ""
    page: int = 1


class ActionNotFound(WorkflowError):
    pass


def may_view_tracker(user: User) -> bool:
    return user.has_role(*TRACKER_ROLES)


def may_verify(user: User) -> bool:
    return user.has_role(*VERIFIER_ROLES)


def may_distribute(user: User) -> bool:
    return user.has_role(*DISTRIBUTOR_ROLES)


def may_update(user: User, owner_id: int) -> bool:
    """The QA team updates any action; an owner updates their own."""
    return user.has_role(*UPDATE_ANY_ACTION) or owner_id == user.id


def tracker_scope(user: User):
    """A WHERE clause selecting the actions `user` may see (on the tracker's joins: Audit outer-joined)."""
    if user.has_role(*SEE_EVERY_ACTION):
        return true()
    clauses = [and_(AuditAction.audit_id.is_not(None), audit_scope(user)), AuditAction.owner_id == user.id]
    if user.has_role("head_of_service"):
        clauses.append(and_(AuditAction.audit_id.is_(None), AuditAction.service_id.in_(
            select(Service.id).where(Service.head_of_service_id == user.id))))
    if user.has_role(PARTNER_ROLE):
        clauses.append(and_(AuditAction.source == "multi_agency", AuditAction.instance_id.in_(invited_audits(user.id))))
    return or_(*clauses)


def list_actions(session: Session, user: User, filters: TrackerFilters, today: date) -> dict:
    """One page of the actions `user` may see that match `filters`, with the total; the read is recorded."""
    query = _filtered(user, filters, today)
    total = session.scalar(select(func.count()).select_from(query.with_only_columns(AuditAction.id).subquery()))
    pages = max(1, ceil(total / PAGE_SIZE))
    page = min(filters.page, pages)
    rows = session.execute(query.order_by(*_ORDER).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    events.record(session, "tracker.viewed", actor_id=user.id, subject=("actions_tracker", "master"),
                  payload={"filters": filters.to_query(page=page), "rows": len(rows)})
    return {"rows": [_row(columns, today) for columns in rows], "total": total, "page": page, "pages": pages}


def all_rows(session: Session, user: User, filters: TrackerFilters, today: date) -> list[dict]:
    """Every matching action (no pages), for exports and distribution."""
    return [_row(columns, today) for columns in session.execute(_filtered(user, filters, today).order_by(*_ORDER))]


def dashboard_counts(session: Session, user: User, today: date) -> list[dict]:
    """The tracker's numbers for the dashboard, each with the filter that lists them."""
    counts = []
    for key, label, filters in (
            ("actions_overdue", "Actions overdue", TrackerFilters(overdue=True)),
            ("actions_awaiting_verification", "Actions awaiting QA lead confirmation",
             TrackerFilters(verification="awaiting"))):
        query = _filtered(user, filters, today).with_only_columns(AuditAction.id)
        counts.append({"key": key, "label": label, "filters": filters.to_query(),
                       "count": session.scalar(select(func.count()).select_from(query.subquery()))})
    return counts


def filter_choices(session: Session, user: User) -> dict:
    """Options for the filter selects, within what `user` may see: each service, team, owner and
    cycle with an action `user` may see, asked of each row (through the indexes of the audits'
    service, team and cycle and of the actions' audit and owner), so the few choices are read
    rather than every audit and action of the history."""
    return {
        "services": session.execute(select(Service.id, Service.name).where(or_(
            _has_visible_action(user, Audit.service_id == Service.id, audited=True),
            _has_visible_action(user, and_(AuditAction.audit_id.is_(None), AuditAction.service_id == Service.id))))
            .order_by(Service.name)).all(),
        "teams": session.execute(select(Team.id, Team.name).where(
            _has_visible_action(user, Audit.team_id == Team.id, audited=True)).order_by(Team.name)).all(),
        "owners": session.execute(select(User.id, User.display_name).where(
            _has_visible_action(user, AuditAction.owner_id == User.id)).order_by(User.display_name)).all(),
        "cycles": [(cycle.id, cycle.label) for cycle in session.scalars(
            select(AuditCycle).where(_has_visible_action(user, Audit.cycle_id == AuditCycle.id, audited=True))
            .order_by(AuditCycle.number))],
    }


def _has_visible_action(user: User, condition, *, audited: bool = False):
    """Whether an action `user` may see meets `condition` (correlated to the choice's row); with
    `audited`, the action of an audit (joined, for conditions on the audit), else any action (its
    audit outer-joined, as the scope reads it).

    Asked as "the first such action's id is not null": PostgreSQL plans a subquery with a LIMIT
    for each row on its own, an index scan that stops at the first match, whereas it turns an
    EXISTS into a join that reads every audit of each team (or all of them, hashed)."""
    actions = select(AuditAction.id)
    actions = (actions.join(Audit, Audit.id == AuditAction.audit_id) if audited
               else actions.outerjoin(Audit, Audit.id == AuditAction.audit_id))
    return actions.where(condition, tracker_scope(user)).limit(1).scalar_subquery().is_not(None)


def action_for(session: Session, user: User, action_id: int, today: date) -> dict:
    """One action's tracker row, if `user` may see it."""
    found = session.execute(_filtered(user, TrackerFilters(), today).where(AuditAction.id == action_id)).first()
    if found is None:
        raise ActionNotFound("There is no such action in the tracker you can see.")
    return _row(found, today)


def update_action(session: Session, action_id: int, user: User, *, status: str, evidence: str,
                  completed_on: date | None, reason: str = "") -> AuditAction:
    """Set an action's status, with the evidence for it, or the reason it is not completed;
    before and after go in the trail.

    Completed needs evidence and the date it was done; cancelled needs the reason. An
    action taken back from completed loses the QA lead's verification; a completed one
    no longer carries a reason for not being completed."""
    action = session.get(AuditAction, action_id)
    if action is None or not session.scalar(select(AuditAction.id).outerjoin(Audit, Audit.id == AuditAction.audit_id)
                                            .where(AuditAction.id == action_id, tracker_scope(user))):
        raise ActionNotFound("There is no such action in the tracker you can see.")
    if not may_update(user, action.owner_id):
        raise NotAllowed("Only the action's owner or the QA team can update it.")
    evidence, reason = (evidence or "").strip(), (reason or "").strip()
    errors = {}
    if status not in STATUSES:
        errors["status"] = "Select the action's status"
    elif status == "completed" and not evidence:
        errors["evidence"] = "Enter the evidence that the action is completed, and where it is on the child's file"
    elif status == "cancelled" and not (evidence or reason):
        errors["not_completed_reason"] = "Enter why the action was cancelled"
    if status == "completed":
        if completed_on is None:
            errors["completed_on"] = "Enter the date the action was completed"
        elif completed_on > clock.today():
            errors["completed_on"] = "The date completed cannot be in the future"
        elif completed_on < graded_on(session, action):
            errors["completed_on"] = (f"The date completed cannot be before the action was agreed "
                                      f"({graded_on(session, action).strftime('%-d %B %Y')})")
    if errors:
        raise InvalidFormData(errors)
    before = _state(action)
    if status != action.status and action.status in DONE_STATUSES:
        action.verified_by_id = action.verified_at = None
    action.status, action.evidence = status, evidence or action.evidence
    action.completed_on = completed_on if status == "completed" else None
    action.not_completed_reason = None if status == "completed" else (reason or action.not_completed_reason)
    _record_change(session, "action.updated", user, action, before)
    return action


def graded_on(session: Session, action: AuditAction) -> date:
    """The day the action was agreed: the audit's grading day, where the council works, or the
    day the activity agreed it."""
    if action.audit_id is None:
        return action.agreed_on
    # The audit is usually in the session already (a supervision review has just read it).
    return as_utc(session.get(Audit, action.audit_id).graded_at).astimezone(LOCAL_ZONE).date()


def verify_action(session: Session, action_id: int, user: User) -> AuditAction:
    """The QA lead confirms a completed (or cancelled) action: the master tracker's last word."""
    if not may_verify(user):
        raise NotAllowed("Only the QA lead verifies actions.")
    action = session.get(AuditAction, action_id)
    if action is None:
        raise ActionNotFound("There is no such action.")
    if action.status not in DONE_STATUSES:
        raise InvalidFormData({"status": "Only a completed or cancelled action can be verified"})
    if action.verified_by_id is not None:
        raise InvalidFormData({"status": "This action is already verified"})
    before = _state(action)
    action.verified_by_id, action.verified_at = user.id, clock.now()
    _record_change(session, "action.verified", user, action, before)
    return action


def export_csv(session: Session, user: User, filters: TrackerFilters, today: date) -> bytes:
    """The tracker as CSV (UTF-8 with BOM, so spreadsheet programs read it right); recorded."""
    rows = all_rows(session, user, filters, today)
    _record_export(session, user, "csv", filters, len(rows))
    return csv_bytes(rows, COLUMNS)


def export_xlsx(session: Session, user: User, filters: TrackerFilters, today: date) -> bytes:
    """The tracker as an XLSX workbook; recorded."""
    rows = all_rows(session, user, filters, today)
    _record_export(session, user, "xlsx", filters, len(rows))
    return workbook(rows)


def workbook(rows: list[dict], title: str = "Audit actions tracker") -> bytes:
    """Tracker rows as an XLSX file, the text columns wide."""
    return xlsx_bytes(rows, COLUMNS, title, wide=("action", "evidence", "not_completed_reason"))


def cycle_has_actions(session: Session, cycle_id: int) -> bool:
    """Whether any audit of the cycle agreed an action (nothing to distribute otherwise)."""
    return session.scalar(select(AuditAction.id).join(Audit, Audit.id == AuditAction.audit_id)
                          .where(Audit.cycle_id == cycle_id).limit(1)) is not None


def distribute(session: Session, user: User, *, cycle_id: int | None, tracker_url: str) -> dict:
    """Send the tracker at the end of a cycle: each head of service their service's actions,
    each conference and review manager all of them, in the app and by email with the XLSX.

    `tracker_url` is the tracker page's address; each notification links to it filtered to
    what was sent. The distribution is recorded with who got how many rows."""
    if not may_distribute(user):
        raise NotAllowed("Only the QA lead distributes the actions tracker.")
    cycle = session.get(AuditCycle, cycle_id) if cycle_id else None
    if cycle_id and cycle is None:
        raise InvalidFormData({"cycle": "Choose a cycle from the list"})
    today = clock.today()
    rows = all_rows(session, user, TrackerFilters(cycle=cycle_id), today)
    if not rows:
        raise InvalidFormData({"cycle": "There are no actions to distribute for this choice"})
    label = cycle.label if cycle else "all cycles"
    sent = []
    for service in session.scalars(select(Service).order_by(Service.name)):
        mine = [row for row in rows if row["service_id"] == service.id]
        if mine and service.head_of_service_id:
            sent.append(_send(session, service.head_of_service_id, "head_of_service", mine, label,
                              f"{service.name}", f"{tracker_url}?{urlencode(_link(cycle_id, service.id))}",
                              service_id=service.id))
    managers = session.scalars(select(User.id).join(UserRole).where(
        UserRole.role == "conference_review_manager", User.active.is_(True)).order_by(User.id)).all()
    for manager_id in managers:
        sent.append(_send(session, manager_id, "conference_review_manager", rows, label, "every service",
                          f"{tracker_url}?{urlencode(_link(cycle_id, None))}", service_id=None))
    events.record(session, "tracker.distributed", actor_id=user.id, subject=("actions_tracker", "master"),
                  payload={"cycle_id": cycle_id, "cycle": label, "rows": len(rows), "recipients": sent})
    return {"cycle": label, "rows": len(rows), "recipients": sent}


def distributions(session: Session, limit: int = 20) -> list[dict]:
    """The tracker's past distributions, newest first, from the audit trail."""
    rows = session.scalars(select(Event).where(Event.kind == "tracker.distributed")
                           .order_by(Event.seq.desc()).limit(limit)).all()
    payloads = [json.loads(row.payload) for row in rows]
    people = {row.actor_id for row in rows} | {sent["user_id"] for payload in payloads for sent in payload["recipients"]}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(people))).all())
    return [{"at": row.occurred_at, "by": names.get(row.actor_id), "cycle": payload["cycle"], "rows": payload["rows"],
             "recipients": [{**sent, "name": names.get(sent["user_id"])} for sent in payload["recipients"]]}
            for row, payload in zip(rows, payloads)]


def _send(session, recipient_id, role, rows, label, scope_label, link, *, service_id) -> dict:
    overdue = sum(1 for row in rows if row["overdue"])
    subject = f"Audit actions tracker: {label}, {scope_label}"
    text = (f"The audit actions tracker for {label} is attached: {len(rows)} actions for {scope_label}, "
            f"{overdue} of them overdue.\n\nOpen it in the app to see the latest: {link}")
    attachment = (f"audit-actions-{label.lower().replace(' ', '-')}.xlsx", XLSX_TYPE, workbook(rows))
    notify(session, recipient_id, "actions_tracker", subject, text, link=link, attachments=[attachment])
    return {"user_id": recipient_id, "role": role, "service_id": service_id, "rows": len(rows)}


def _link(cycle_id, service_id) -> dict:
    return {key: value for key, value in (("cycle", cycle_id), ("service", service_id)) if value}


_Owner = aliased(User)
_Verifier = aliased(User)
_REFERENCE = func.coalesce(Audit.reference, AuditAction.source_reference)
_ORDER = (_REFERENCE, AuditAction.ref)


def _filtered(user: User, filters: TrackerFilters, today: date):
    due = func.coalesce(AuditAction.revised_due_on, AuditAction.due_on)
    query = (select(AuditAction, _REFERENCE, func.coalesce(Audit.service_id, AuditAction.service_id), Case.reference,
                    Service.name, Team.name, _Owner.display_name, _Verifier.display_name,
                    func.coalesce(Audit.instance_id, AuditAction.instance_id))
             .outerjoin(Audit, Audit.id == AuditAction.audit_id)
             .outerjoin(Case, Case.id == func.coalesce(Audit.case_id, AuditAction.case_id))
             .outerjoin(Service, Service.id == func.coalesce(Audit.service_id, AuditAction.service_id))
             .outerjoin(Team, Team.id == Audit.team_id)
             .join(_Owner, _Owner.id == AuditAction.owner_id)
             .outerjoin(_Verifier, _Verifier.id == AuditAction.verified_by_id)
             .where(tracker_scope(user)))
    if filters.q:
        text = filters.q.upper()
        query = query.where(or_(_REFERENCE.startswith(text, autoescape=True),
                                Case.reference.startswith(text, autoescape=True)))
    if filters.source:
        query = query.where(AuditAction.source == filters.source)
    for name, column in (("service", func.coalesce(Audit.service_id, AuditAction.service_id)), ("team", Audit.team_id), ("owner", AuditAction.owner_id),
                         ("cycle", Audit.cycle_id)):
        if getattr(filters, name) is not None:
            query = query.where(column == getattr(filters, name))
    if filters.status:
        query = query.where(AuditAction.status == filters.status)
    if filters.overdue:
        query = query.where(AuditAction.status.in_(OPEN_STATUSES), due < today)
    if filters.verification == "awaiting":
        query = query.where(AuditAction.status.in_(DONE_STATUSES), AuditAction.verified_by_id.is_(None))
    elif filters.verification == "verified":
        query = query.where(AuditAction.verified_by_id.is_not(None))
    return query


def _row(columns, today: date) -> dict:
    action, audit_reference, service_id, case_reference, service, team, owner, verifier, instance_id = columns
    due = action.revised_due_on or action.due_on
    return {"id": action.id, "audit_id": action.audit_id, "audit": audit_reference, "case": case_reference or "",
            "source_key": action.source, "source": SOURCES.get(action.source, action.source), "instance_id": instance_id,
            "agency": AGENCIES.get(action.agency, "") if action.agency else "",
            "service_id": service_id, "service": service or "", "team": team or "",
            "area": AREAS.get(action.area, "Overall practice") if action.audit_id else "",
            "ref": action.ref, "action": action.description, "owner": owner, "owner_id": action.owner_id,
            "owner_role": action.owner_role.replace("_", " ").capitalize(), "due_on": action.due_on,
            "revised_due_on": action.revised_due_on, "priority": action.priority.capitalize(),
            "agreed_on": action.agreed_on,
            "status_key": action.status, "status": STATUSES.get(action.status, action.status),
            "overdue": action.status in OPEN_STATUSES and due < today,
            "completed_on": action.completed_on, "evidence": action.evidence or "",
            "not_completed_reason": action.not_completed_reason or "",
            "reviewed_in_supervision_on": action.reviewed_in_supervision_on,
            "supervision_outcome": action.supervision_outcome or "", "verified_by": verifier or "",
            "verified_at": action.verified_at.date() if action.verified_at else None,
            "awaiting_verification": action.status in DONE_STATUSES and action.verified_by_id is None}


def _state(action: AuditAction) -> dict:
    return {"status": action.status, "evidence": action.evidence, "completed_on": action.completed_on,
            "verified_by_id": action.verified_by_id}


def _record_change(session: Session, kind: str, user: User, action: AuditAction, before: dict) -> None:
    if action.audit_id is None:
        instance_id, subject, reference = action.instance_id, ("audit_action", action.id), action.source_reference
    else:
        audit = session.get(Audit, action.audit_id)
        instance_id, subject, reference = audit.instance_id, ("audit", audit.id), audit.reference
    events.record(session, kind, actor_id=user.id, instance_id=instance_id, subject=subject,
                  payload={"audit": reference, "action": action.ref, "before": before, "after": _state(action)})


def _record_export(session: Session, user: User, kind: str, filters: TrackerFilters, count: int) -> None:
    events.record(session, "tracker.exported", actor_id=user.id, subject=("actions_tracker", "master"),
                  payload={"format": kind, "filters": filters.to_query(), "rows": count})
