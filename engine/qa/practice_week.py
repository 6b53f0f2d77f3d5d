"""Practice week (QA framework section 5): every six months (configurable) each head of
service observes practice on the framework's template, and the QA lead writes a summary.

processes/practice_week gives each active head of service an observation
(processes/practice_observation, started by the week and linked to it, so the week's
instance page shows each one and whether it is done), lets the QA lead close the week only
when all are done, and waits on a timer for the next week, which it then starts: the
six-monthly rhythm is the diagram's, its interval the start form's `every_months`.
"""
from calendar import monthrange
from collections import Counter
from datetime import date

from sqlalchemy import select

from engine.accounts import User, UserRole
from engine.qa.timescales import start_of_working_day
from engine.qa.working_days import add_working_days
from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.instances import start_instance
from engine.runtime.models import ProcessInstance, TaskSubmission
from engine.runtime.registry import latest_version
from engine.runtime.services import ServiceContext, service_operation
from engine.runtime.starting import child_instance_ids, link_child_instance, next_reference

REVIEW_WORKING_DAYS = 5  # the QA lead's summary is due a week after the observations


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


@service_operation("open_practice_week")
def open_practice_week(context: ServiceContext, data: dict):
    """Give every active head of service an observation to complete, linked to this week."""
    session = context.session
    starts, due = date.fromisoformat(data["week_starts"]), date.fromisoformat(data["observations_due"])
    if due < starts:
        raise InvalidFormData({"observations_due": "The observations must be due on or after the week starts"})
    week = session.get(ProcessInstance, context.instance_id)
    observers = session.scalars(select(User).join(UserRole).where(
        UserRole.role == "head_of_service", User.active.is_(True)).order_by(User.display_name)).all()
    for number, observer in enumerate(observers, start=1):
        child = start_instance(session, "practice_observation", {
            "observer": observer.id, "observations_due": due.isoformat(), "week_reference": week.business_key},
            actor_id=context.actor_id, business_key=f"{week.business_key}-O{number}")
        link_child_instance(session, child, week.id, about_label=observer.display_name)
    following = add_months(starts, data["every_months"])
    events.record(session, "practice_week.opened", actor_id=context.actor_id, instance_id=week.id,
                  subject=("process_instance", week.id),
                  payload={"observers": [observer.id for observer in observers], "observations_due": due,
                           "next_week_starts": following})
    return {"reference": week.business_key, "observers": len(observers),
            "review_due": add_working_days(due, REVIEW_WORKING_DAYS).isoformat(),
            "next_starts": following.isoformat(), "next_due": (following + (due - starts)).isoformat(),
            "next_at": start_of_working_day(following)}


@service_operation("record_practice_observation")
def record_practice_observation(context: ServiceContext, data: dict):
    """Note the observation in the trail (the answers are the task's submission)."""
    events.record(context.session, "practice.observation_recorded", actor_id=context.actor_id,
                  instance_id=context.instance_id, subject=("process_instance", context.instance_id),
                  payload={"setting": data["setting"], "family_consent": data["family_consent"]})
    return True


@service_operation("close_practice_week")
def close_practice_week(context: ServiceContext, data: dict):
    """The summary, once every observation is done: how many, in which settings, with consent."""
    session = context.session
    children = child_instance_ids(session, context.instance_id)
    waiting = session.scalars(select(ProcessInstance.business_key).where(
        ProcessInstance.id.in_(children), ProcessInstance.status != "completed")).all()
    if waiting:
        raise InvalidFormData({"summary": f"Write the summary when every observation is done; not yet: {', '.join(waiting)}"})
    answers = session.scalars(select(TaskSubmission.answers).where(TaskSubmission.instance_id.in_(children))).all()
    summary = {"observations": len(answers), "by_setting": dict(Counter(row.get("setting") for row in answers)),
               "family_consent": sum(1 for row in answers if row.get("family_consent"))}
    events.record(session, "practice_week.closed", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("process_instance", context.instance_id), payload=summary)
    return summary


@service_operation("start_next_practice_week")
def start_next_practice_week(context: ServiceContext, data: dict):
    """The timer has come: start the next practice week with the same interval."""
    session = context.session
    manifest = latest_version(session, "practice_week").manifest
    following = start_instance(session, "practice_week", {
        "week_starts": data["week"]["next_starts"], "observations_due": data["week"]["next_due"],
        "every_months": data["every_months"], "started_by": data.get("started_by")},
        actor_id=None, business_key=next_reference(session, manifest, "practice_week"))
    events.record(session, "practice_week.next_started", instance_id=context.instance_id,
                  subject=("process_instance", context.instance_id), payload={"next_instance_id": following.id})
    return {"instance_id": following.id}
