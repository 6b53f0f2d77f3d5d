"""Service operations the case file audit's timers call: remind, mark overdue, escalate.

The diagram holds the timescales: timer events on the audit, on moderation, on each
action's review and on the head of service's acknowledgement, each naming its moment
with engine/qa/timescales.py. The timer's path calls one of these operations with
the stage it watches, and says whom to escalate to, so the process owner changes
who is told and when by editing the model. A stage is `audit`, `moderation`,
`action` or `acknowledgement`. The people whose work it is are the assignees of the
stage's open tasks (its lane's tasks due on the stage's due date, so a reassigned
task reminds its new holder), else the person the audit record names, plus an
action's owner. Every notice goes through engine/notifications.py and is recorded
on the audit.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.notifications import format_date, notify
from engine.qa.grading_scale import scale_for_audit
from engine.qa.models import Audit, AuditAction, Escalation, Service
from engine.qa.timescales import working_days_late
from engine.runtime import events
from engine.runtime.models import HumanTask
from engine.runtime.services import ServiceContext, service_operation

# Whom an escalation may name, and how the message describes them.
PEOPLE_ON_THE_AUDIT = ("auditor", "moderator", "worker", "team_manager", "head_of_service")
PERSON_LABELS = {"auditor": "the auditor", "moderator": "the moderator", "worker": "the allocated worker",
                 "team_manager": "the worker's team manager", "head_of_service": "the head of service",
                 "assistant_director": "the assistant director", "qa_lead": "the QA lead"}
# The lane of the case file audit model whose tasks make up each stage.
STAGE_LANES = {"audit": "Auditor", "moderation": "Moderator", "action": "Team manager",
               "acknowledgement": "Head of service"}


def _wording(session, audit: Audit, escalation: Escalation) -> tuple[str, str]:
    """The notice's title and what happened, naming the escalating grade of the audit's own scale."""
    grade = scale_for_audit(session, audit).escalating_label
    return {"inadequate": (f"{grade} audit", f"was graded {grade}"),
            "safeguarding_concern": ("Safeguarding concern in an audit", "raised an immediate safeguarding concern"),
            "moderated_inadequate": (f"Audit moderated to {grade}", f"was moderated to {grade}")}[escalation.reason]


@dataclass(frozen=True)
class Stage:
    """One timescale of an audit: what it is called, when it is due, whose work it is."""
    key: str
    what: str
    due_on: date
    responsible: tuple[int, ...]


@service_operation("send_reminder")
def send_reminder(context: ServiceContext, data: dict, audit_id: int, stage: str):
    """Before a due date: remind the people whose work it is.

    A reminder that comes due only after the due date (a scheduler that was down
    catching up) is not sent: the overdue notice says it better."""
    audit = context.session.get(Audit, audit_id)
    found = _stage(context, data, audit, stage)
    if clock.today() > found.due_on:
        _record(context, audit, "audit.reminder_skipped", found, (), reason="already overdue")
        return True
    for person in found.responsible:
        notify(context.session, person, "reminder",
               f"Reminder: {found.what} is due on {format_date(found.due_on)} ({_reference(audit)})",
               f"{_capital(found.what)} for {_reference(audit)} is due on {format_date(found.due_on)}.\n\n"
               "It is waiting in your inbox.",
               link=_link(context, audit, person), instance_id=context.instance_id)
    _record(context, audit, "audit.reminder_sent", found, found.responsible)
    return True


@service_operation("mark_overdue")
def mark_overdue(context: ServiceContext, data: dict, audit_id: int, stage: str, escalate_to=()):
    """The due date has passed: tell the people whose work it is, and escalate at once
    to `escalate_to` (names of PERSON_LABELS) where the model says so."""
    session = context.session
    audit = session.get(Audit, audit_id)
    found = _stage(context, data, audit, stage)
    told = _told(escalate_to)
    for person in found.responsible:
        notify(session, person, "overdue",
               f"Overdue: {found.what} was due on {format_date(found.due_on)} ({_reference(audit)})",
               f"{_capital(found.what)} for {_reference(audit)} was due on {format_date(found.due_on)} and is now "
               "overdue. Please complete it as soon as you can, or tell the QA lead what is in the way."
               + (f"\n\nAs the QA framework sets out, {told} has been told." if told else ""),
               link=_link(context, audit, person), instance_id=context.instance_id)
    _record(context, audit, "audit.overdue", found, found.responsible)
    if escalate_to:
        _escalate(context, audit, found, escalate_to)
    return True


@service_operation("escalate_overdue")
def escalate_overdue(context: ServiceContext, data: dict, audit_id: int, stage: str, escalate_to):
    """Still overdue after a further period: tell the next people up (`escalate_to`)."""
    audit = context.session.get(Audit, audit_id)
    _escalate(context, audit, _stage(context, data, audit, stage), escalate_to)
    return True


@service_operation("notify_escalation")
def notify_escalation(context: ServiceContext, data: dict, audit_id: int, notify_people):
    """The escalating grade (Inadequate) or a safeguarding concern: tell `notify_people` at once.

    Runs on the path after `escalate_to_head_of_service`, whose result (`escalation`)
    says why and when the head of service's acknowledgement is due."""
    session = context.session
    audit = session.get(Audit, audit_id)
    escalation = session.get(Escalation, data["escalation"]["escalation_id"])
    title, happened = _wording(session, audit, escalation)
    people = _people(session, audit, notify_people)
    for person in people:
        notify(session, person, "inadequate_audit",
               f"{title}: immediate attention needed ({_reference(audit)})",
               f"The audit of {_reference(audit)} {happened}. The case needs immediate attention.\n\n"
               "The head of service is asked to acknowledge it and record the immediate actions by "
               f"{format_date(escalation.due_on)}.",
               link=f"/audits/{audit.id}", instance_id=context.instance_id)
    events.record(session, "audit.escalation_notified", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit", audit.id),
                  payload={"audit": audit.reference, "reason": escalation.reason, "notified": people})
    return True


def _escalate(context: ServiceContext, audit: Audit, found: Stage, names) -> None:
    session = context.session
    people = [person for person in _people(session, audit, names) if person not in found.responsible]
    late = working_days_late(found.due_on, clock.today())
    holders = ", ".join(_display_name(session, person) for person in found.responsible)
    for person in people:
        notify(session, person, "escalation",
               f"Escalation: {found.what} is overdue ({_reference(audit)})",
               f"{_capital(found.what)} for {_reference(audit)} was due on {format_date(found.due_on)} and is "
               f"{late} working day{'s' if late != 1 else ''} overdue. It is with {holders}.\n\n"
               f"You are told as {_told(_names(names))}, as the QA framework sets out: please follow it up.",
               link=f"/audits/{audit.id}", instance_id=context.instance_id)
    _record(context, audit, "audit.overdue_escalated", found, people, escalated_to=_names(names))


def _stage(context: ServiceContext, data: dict, audit: Audit, stage: str) -> Stage:
    session = context.session
    owners: tuple[int, ...] = ()
    if stage == "audit":
        what, due_on, fallback = "the audit", audit.due_on, audit.auditor_id
    elif stage == "moderation":
        what, due_on, fallback = "moderation of the audit", audit.moderation_due_on, audit.moderator_id
    elif stage == "action":
        action = session.get(AuditAction, data["action"]["id"])
        what, due_on, fallback = f"audit action {action.ref}", action.revised_due_on or action.due_on, audit.team_manager_id
        owners = (action.owner_id,)
    elif stage == "acknowledgement":
        escalation = session.get(Escalation, data["escalation"]["escalation_id"])
        what = f"the head of service's acknowledgement ({_wording(session, audit, escalation)[0].lower()})"
        due_on, fallback = escalation.due_on, escalation.head_of_service_id
    else:
        raise ValueError(f"Unknown stage '{stage}': a timescale is for the audit, moderation, action or acknowledgement")
    assignees = session.scalars(select(HumanTask.assignee_id).where(
        HumanTask.instance_id == context.instance_id, HumanTask.state == "ready", HumanTask.due_on == due_on,
        HumanTask.lane == STAGE_LANES[stage], HumanTask.assignee_id.is_not(None)).order_by(HumanTask.id)).all()
    return Stage(stage, what, due_on, _unique([*(assignees or [fallback]), *owners]))


def _people(session: Session, audit: Audit, names) -> list[int]:
    """The user ids `names` stand for on this audit, in order, each once."""
    people = []
    for name in _names(names):
        if name in PEOPLE_ON_THE_AUDIT:
            people.append(getattr(audit, f"{name}_id"))
        elif name == "assistant_director":
            people.append(session.get(Service, audit.service_id).assistant_director_id)
        elif name == "qa_lead":
            people.extend(session.scalars(select(User.id).join(UserRole).where(
                UserRole.role == "qa_lead", User.active.is_(True)).order_by(User.id)))
        else:
            raise ValueError(f"Unknown person '{name}' to notify: use one of {', '.join(PERSON_LABELS)}")
    return _unique(person for person in people if person is not None)


def _names(names) -> list[str]:
    return [names] if isinstance(names, str) else list(names or ())


def _told(names) -> str:
    labels = [PERSON_LABELS.get(name, name) for name in _names(names)]
    return " and ".join(labels)


def _record(context: ServiceContext, audit: Audit, kind: str, found: Stage, notified, **extra) -> None:
    events.record(context.session, kind, actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit", audit.id),
                  payload={"audit": audit.reference, "stage": found.key, "due_on": found.due_on,
                           "notified": list(notified), **extra})


def _link(context: ServiceContext, audit: Audit, person: int) -> str:
    """The person's open task in this audit, else the audit itself."""
    task_id = context.session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == context.instance_id, HumanTask.state == "ready",
        HumanTask.assignee_id == person).order_by(HumanTask.due_on, HumanTask.id).limit(1))
    return f"/tasks/{task_id}" if task_id else f"/audits/{audit.id}"


def _reference(audit: Audit) -> str:
    return f"case {audit.case.reference}, {audit.reference}"


def _display_name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.display_name if user else f"user {user_id}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unique(ids) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))
