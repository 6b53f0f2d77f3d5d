"""Practice week (QA framework section 5): every six months (configurable) each head of
service observes practice on the framework's template, and the QA lead writes a summary.

processes/practice_week gives each active head of service an observation
(processes/practice_observation, started by the week and linked to it, so the week's
instance page shows each one and whether it is done) and lets the QA lead close the week
only when all are done. Each practice week is its own instance, ended by the summary.

The six-monthly rhythm is the scheduler's (`run_scheduled`, as the annual report's): the
year is split into periods of QA_PRACTICE_WEEK_MONTHS months (6 by default: January to June,
July to December) and on the first working day of a period with no practice week yet, one
is started for the QA lead. A BPMN timer start event cannot do this here: SpiffWorkflow runs
a workflow the application has already created, so a timer on its start event only delays
that one instance; nothing in the library creates instances.
"""
import os
from collections import Counter
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine.accounts import User, UserRole
from engine.clock import LOCAL_ZONE, clock
from engine.qa.scheduled_starts import start_once
from engine.qa.working_days import add_working_days, is_working_day
from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.instances import start_instance
from engine.runtime.models import ProcessInstance, TaskSubmission
from engine.runtime.services import ServiceContext, service_operation
from engine.runtime.starting import child_instance_ids, link_child_instance
from engine.runtime.timers import ScheduledJob

REVIEW_WORKING_DAYS = 5  # the QA lead's summary is due a week after the observations
OBSERVATION_WORKING_DAYS = 4  # a scheduled week's observations are due by the end of its week


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
    events.record(session, "practice_week.opened", actor_id=context.actor_id, instance_id=week.id,
                  subject=("process_instance", week.id),
                  payload={"observers": [observer.id for observer in observers], "observations_due": due})
    return {"reference": week.business_key, "observers": len(observers),
            "review_due": add_working_days(due, REVIEW_WORKING_DAYS).isoformat()}


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
    """Kept for practice weeks started on the first version of the model, which waited for the
    next week's date and then called this: the scheduler now starts every practice week, so
    this records that the old instance handed over and starts nothing."""
    events.record(context.session, "practice_week.handed_to_scheduler", instance_id=context.instance_id,
                  subject=("process_instance", context.instance_id), payload={})
    return {"instance_id": None}


def every_months() -> int:
    """The months between practice weeks: QA_PRACTICE_WEEK_MONTHS, 6 by default; it must
    divide the year (1, 2, 3, 4, 6 or 12) so each period starts on the same months every year."""
    months = int(os.environ.get("QA_PRACTICE_WEEK_MONTHS", 6))
    if months not in (1, 2, 3, 4, 6, 12):
        raise ValueError(f"QA_PRACTICE_WEEK_MONTHS is {months}: it must be 1, 2, 3, 4, 6 or 12")
    return months


def period_start(day: date, months: int) -> date:
    """The first day of the period of `months` months that `day` falls in (periods start in January)."""
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def run_scheduled(session_factory: sessionmaker) -> dict | None:
    """The timer start: on a working day of a period with no practice week yet (started by the
    scheduler or by hand), start one for the first active QA lead, once. Claiming the period
    takes the trail's lock first, so several schedulers start it once (engine/qa/scheduled_starts.py)."""
    today = clock.today()
    if not is_working_day(today):
        return None
    begins = period_start(today, every_months())
    since = datetime.combine(begins, datetime.min.time(), LOCAL_ZONE)
    return start_once(
        session_factory, "practice_week",
        already_started=lambda session: session.scalar(select(ProcessInstance.id).where(
            ProcessInstance.process_key == "practice_week", ProcessInstance.started_at >= since).limit(1)) is not None,
        claim=("practice_week.scheduled", ("practice_week_period", begins.isoformat()), {"period_starts": begins}),
        answers={"week_starts": today.isoformat(),
                 "observations_due": add_working_days(today, OBSERVATION_WORKING_DAYS).isoformat()},
        what=f"the practice week of the period from {begins}")


SCHEDULED_JOBS = [ScheduledJob("practice_week", 3600, run_scheduled)]
