"""Actions the framework's other activities agree, kept in the master audit actions tracker.

A thematic audit's recommendations become tracker rows when the commissioner signs it off
(published); a dip sample's when the head of service records it; a multi-agency audit's
agreed actions for each agency when the joint discussion is recorded. Each row names its
source activity and instance, and a person who owns it: for a recommendation, the head of
the activity's service (head-of-service recommendations) or the first active holder of the
role it names, else whoever started the activity; for a multi-agency action, the partner
invited for that agency, else the QA lead who set the audit up. From then on they are
updated, verified, exported and distributed as every tracker action is
(engine/qa/actions_tracker.py).

Their follow-up runs from the scheduler (the case file audit's own actions are followed up
by the timers of its diagram, and these rows outlive the instances that agreed them): the
owner is reminded some working days before the due date (3 by default), told when it is
overdue (the working day after by default), and some working days after the due date (6 by
default) the head of the action's service and whoever started the activity are told, as the
case file audit's action timers do. The three are settings of the environment
(QA_ACTION_REMINDER_DAYS, QA_ACTION_OVERDUE_DAYS, QA_ACTION_ESCALATION_DAYS), checked when
the scheduler starts. Each notice is sent once, and recorded in the trail.
"""
import os
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.email_delivery import absolute_link
from engine.notifications import format_date, notify, notify_role
from engine.qa.models import AuditAction, Service
from engine.qa.timescales import working_days_after, working_days_before
from engine.runtime import events
from engine.runtime.models import HumanTask, InstanceStart, ProcessInstance
from engine.runtime.timers import ScheduledJob
from engine.whole_numbers import whole_number

SOURCES = {"case_file_audit": "Case file audit", "thematic": "Thematic audit", "dip_sample": "Dip sample",
           "multi_agency": "Multi-agency audit"}
AGENCIES = {"council": "Children's services", "health": "Health", "police": "Police", "education": "Education",
            "probation": "Probation", "other": "Other agency"}
PARTNER_ROLE = "partner_agency"
# The follow-up's settings and defaults in working days, as the case file audit's action timers.
FOLLOW_UP_VARIABLES = {"reminder": ("QA_ACTION_REMINDER_DAYS", 3), "overdue": ("QA_ACTION_OVERDUE_DAYS", 1),
                       "escalation": ("QA_ACTION_ESCALATION_DAYS", 6)}
MAX_FOLLOW_UP_DAYS = 60
NOTICE_ORDER = ("reminder", "overdue", "escalation")
NOTICES = {
    "reminder": ("Reminder: {source} action {reference} is due on {due}",
                 "{description}\n\nThis action from the {source} {reference} is due on {due}. "
                 "Update it in the audit actions tracker with its evidence: {link}"),
    "overdue": ("Overdue: {source} action {reference} was due on {due}",
                "{description}\n\nThis action from the {source} {reference} was due on {due} and is overdue. "
                "Update it in the audit actions tracker, or record why it is not done: {link}"),
    "escalation": ("Escalation: {source} action {reference} is overdue",
                   "{description}\n\nThis action from the {source} {reference}, owned by {owner}, was due on {due} "
                   "and is still open. You are told as the framework sets out: please follow it up. {link}"),
}


@dataclass(frozen=True)
class FollowUpDays:
    """When an activity action's notices go, in working days: the reminder before the due
    date, the overdue notice and the escalation after it."""
    reminder: int
    overdue: int
    escalation: int


def follow_up_days(environ=os.environ) -> FollowUpDays:
    """The follow-up timescales from the environment (defaults 3, 1 and 6 working days).

    Each must be a whole number of working days from 1 to MAX_FOLLOW_UP_DAYS, and the
    escalation must come after the overdue notice; otherwise a ValueError names the setting,
    so a wrong value stops the scheduler when it starts rather than silently changing when
    people are told."""
    days = {}
    for notice, (variable, default) in FOLLOW_UP_VARIABLES.items():
        text = environ.get(variable, "").strip()
        days[notice] = whole_number(text, minimum=1, maximum=MAX_FOLLOW_UP_DAYS) if text else default
        if days[notice] is None:
            raise ValueError(f"{variable} must be a whole number of working days from 1 to "
                             f"{MAX_FOLLOW_UP_DAYS}, not {text!r}")
    if days["escalation"] <= days["overdue"]:
        raise ValueError(f"QA_ACTION_ESCALATION_DAYS ({days['escalation']}) must be more than "
                         f"QA_ACTION_OVERDUE_DAYS ({days['overdue']}): the escalation follows the overdue notice")
    return FollowUpDays(**days)


def check_settings() -> None:
    """Called by the scheduler at start: a wrong follow-up timescale stops it there."""
    follow_up_days()


@dataclass(frozen=True)
class ActionSource:
    """The activity an action comes from: its kind (a key of SOURCES), reference, instance and service."""
    activity: str
    reference: str
    instance_id: int
    service_id: int | None
    case_id: int | None = None


def track_recommendations(session: Session, source: ActionSource, rows: list[dict], actor_id: int | None) -> int:
    """One tracker row per recommendation (`recommendation`, `due_on`, optional `owner` role)."""
    for number, row in enumerate(rows, start=1):
        role = row.get("owner", "head_of_service")
        _add(session, source, number, row["recommendation"], _recommendation_owner(session, source, role, actor_id),
             role, row["due_on"])
    _record_tracked(session, source, len(rows), actor_id)
    return len(rows)


def track_agreed_actions(session: Session, source: ActionSource, rows: list[dict], partners: dict[str, int],
                         lead_id: int) -> int:
    """One tracker row per action agreed for an agency (`agency`, `action`, `due_on`): owned by the
    partner invited for that agency (`partners`: agency to person), else the QA lead."""
    for number, row in enumerate(rows, start=1):
        owner = partners.get(row["agency"])
        _add(session, source, number, row["action"], owner or lead_id, PARTNER_ROLE if owner else "qa_lead",
             row["due_on"], agency=row["agency"])
    _record_tracked(session, source, len(rows), lead_id)
    return len(rows)


def invited_audits(user_id: int):
    """The multi-agency audits (instance ids) `user_id` is invited to: those whose sections they hold."""
    sections = select(HumanTask.instance_id).where(HumanTask.assignee_id == user_id)
    return select(InstanceStart.parent_instance_id).where(InstanceStart.process_key == "multi_agency_section",
                                                          InstanceStart.instance_id.in_(sections))


def _add(session, source: ActionSource, number: int, description: str, owner_id: int, owner_role: str, due_on,
         agency: str | None = None) -> None:
    session.add(AuditAction(audit_id=None, source=source.activity, source_reference=source.reference,
                            instance_id=source.instance_id, service_id=source.service_id, case_id=source.case_id,
                            ref=f"R{number}" if source.activity != "multi_agency" else f"A{number}",
                            description=description, area="", owner_id=owner_id, owner_role=owner_role,
                            due_on=due_on if isinstance(due_on, date) else date.fromisoformat(due_on), priority="",
                            agency=agency, agreed_on=clock.today()))


def _record_tracked(session, source: ActionSource, count: int, actor_id: int | None) -> None:
    session.flush()
    if count:
        events.record(session, "actions.tracked", actor_id=actor_id, instance_id=source.instance_id,
                      subject=(source.activity, source.reference), payload={"count": count})


def _recommendation_owner(session, source: ActionSource, role: str, actor_id: int | None) -> int:
    if role == "head_of_service" and source.service_id:
        head = session.scalar(select(Service.head_of_service_id).where(Service.id == source.service_id))
    else:
        head = session.scalar(select(User.id).join(UserRole).where(UserRole.role == role, User.active.is_(True))
                              .order_by(User.id).limit(1))
    started_by = session.scalar(select(ProcessInstance.started_by_id).where(ProcessInstance.id == source.instance_id))
    return head or started_by or actor_id


def follow_up(session: Session, now: datetime) -> int:
    """Send each open activity action the notice it is due for and has not had; returns how many."""
    sent = 0
    days = follow_up_days()
    due = func.coalesce(AuditAction.revised_due_on, AuditAction.due_on)
    candidates = session.scalars(select(AuditAction).where(
        AuditAction.audit_id.is_(None), AuditAction.status.in_(("not_started", "in_progress")),
        func.coalesce(AuditAction.last_notice, "") != "escalation").order_by(due, AuditAction.id)
        .with_for_update(skip_locked=True)).all()
    for action in candidates:
        notice = _notice_due(action, now, days)
        if notice and (action.last_notice is None or
                       NOTICE_ORDER.index(notice) > NOTICE_ORDER.index(action.last_notice)):
            _send(session, action, notice)
            action.last_notice = notice
            sent += 1
    return sent


def _notice_due(action: AuditAction, now: datetime, days: FollowUpDays) -> str | None:
    """The latest notice whose moment has come: a reminder only while the action is not yet due."""
    due = action.revised_due_on or action.due_on
    if now >= datetime.fromisoformat(working_days_after(due, days.escalation)):
        return "escalation"
    if now >= datetime.fromisoformat(working_days_after(due, days.overdue)):
        return "overdue"
    if now >= datetime.fromisoformat(working_days_before(due, days.reminder)) and clock.today() <= due:
        return "reminder"
    return None


def _send(session: Session, action: AuditAction, notice: str) -> None:
    owner = session.get(User, action.owner_id)
    link = absolute_link(f"/tracker/actions/{action.id}")
    fields = {"source": SOURCES[action.source].lower(), "reference": f"{action.source_reference} {action.ref}",
              "due": format_date(action.revised_due_on or action.due_on), "description": action.description,
              "owner": owner.display_name, "link": link}
    subject, text = (part.format(**fields) for part in NOTICES[notice])
    if notice == "escalation":
        head = session.scalar(select(Service.head_of_service_id).where(Service.id == action.service_id))
        starter = session.scalar(select(ProcessInstance.started_by_id).where(ProcessInstance.id == action.instance_id))
        people = [person for person in dict.fromkeys((head, starter)) if person and person != action.owner_id]
        notified = [notify(session, person, "escalation", subject, text, link=link, instance_id=action.instance_id)
                    for person in people] or notify_role(session, "qa_lead", "escalation", subject, text, link=link,
                                                         instance_id=action.instance_id)
    else:
        notified = [notify(session, action.owner_id, notice, subject, text, link=link, instance_id=action.instance_id)]
    events.record(session, f"action.{notice}", actor_id=None, instance_id=action.instance_id,
                  subject=("audit_action", action.id),
                  payload={"reference": f"{action.source_reference}/{action.ref}", "notified":
                           [note.recipient_id for note in notified]})


def run_scheduled(session_factory: sessionmaker) -> dict:
    """The scheduler's job: follow up every activity action that is due a notice."""
    with session_factory() as session:
        sent = follow_up(session, clock.now())
        session.commit()
    return {"notices": sent}


SCHEDULED_JOBS = [ScheduledJob("activity_action_follow_up", 3600, run_scheduled)]
