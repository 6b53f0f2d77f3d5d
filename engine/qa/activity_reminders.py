"""Reminders, overdue notices and escalations for the framework's activities other than the
case file audit (thematic audits first), called from the timers on their diagrams.

The case file audit's own reminders (engine/qa/reminder_operations.py) are about an audit
record; these are about a step of any activity: the diagram's timer path names the step
(a user task's BPMN id) whose open task is due, and whom to escalate to as data keys
naming people (e.g. `started_by`, the commissioner) or as roles whose every active holder is
told (e.g. the director, for an annual report the QA lead has not written). The task's holder is told, or
everyone with its role while nobody has claimed it. Every notice is in the trail.
"""
from sqlalchemy import select

from engine.clock import clock
from engine.email_delivery import absolute_link
from engine.notifications import format_date, notify, notify_role
from engine.runtime import events
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.services import ServiceContext, service_operation

NOTICES = {
    "reminder": ("Reminder: {title} is due on {due}", "{title} ({reference}) is due on {due}. It is in your inbox."),
    "overdue": ("Overdue: {title} was due on {due}", "{title} ({reference}) was due on {due} and is now overdue. "
                "Please complete it, or tell the QA lead what is in the way."),
    "escalation": ("Escalation: {title} is overdue", "{title} ({reference}) was due on {due} and is still not done. "
                   "You are told as the framework sets out: please follow it up."),
}


@service_operation("notify_activity_step")
def notify_activity_step(context: ServiceContext, data: dict, step: str, notice: str, escalate_to=(),
                         escalate_to_roles=()):
    """Send `notice` (reminder, overdue, escalation) about the open task of `step` in this instance.

    A reminder or overdue notice goes to the task's holder (or its role); an escalation to
    the people `escalate_to` names and everyone holding a role of `escalate_to_roles`. Nothing is sent when the step is no longer open, or for
    a reminder that comes due only after the due date (a scheduler catching up)."""
    session = context.session
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == context.instance_id,
                                                  HumanTask.spec_name == step, HumanTask.state == "ready"))
    if task is None or (notice == "reminder" and task.due_on is not None and clock.today() > task.due_on):
        return False
    reference = session.get(ProcessInstance, context.instance_id).business_key
    subject, text = (part.format(title=task.title.split(":")[0], reference=reference, due=format_date(task.due_on))
                     for part in NOTICES[notice])
    link = absolute_link(f"/tasks/{task.id}")
    if notice == "escalation":
        recipients = [data[key] for key in escalate_to if data.get(key)]
        sent = [notify(session, person, "escalation", subject, text, link=link, instance_id=context.instance_id)
                for person in recipients]
        for role in escalate_to_roles:
            sent += notify_role(session, role, "escalation", subject, text, link=link, instance_id=context.instance_id)
    elif task.assignee_id is not None:
        sent = [notify(session, task.assignee_id, notice, subject, text, link=link, instance_id=context.instance_id)]
    else:
        sent = notify_role(session, task.role, notice, subject, text, link=link, instance_id=context.instance_id)
    events.record(session, f"activity.{notice}", actor_id=None, instance_id=context.instance_id,
                  subject=("human_task", task.id),
                  payload={"step": step, "due_on": task.due_on, "notified": [n.recipient_id for n in sent]})
    return True
