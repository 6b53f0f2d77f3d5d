"""The real scheduler (APScheduler, as `python -m engine.scheduler` runs it) catches up on start.

Timers that fell due while no scheduler was running fire as soon as one starts, once
each; the job list also holds the email outbox job.
"""
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from engine.clock import clock
from engine.runtime.instances import start_instance
from engine.runtime.models import Event, ProcessInstance
from engine.runtime.registry import publish
from engine.scheduler import scheduled_jobs, start_background_scheduler
from tests.test_timers import FILES

INSTANCES = 3
WAIT_AT_MOST_SECONDS = 30


def test_the_job_list_holds_the_timers_and_the_email_outbox():
    assert {"fire_due_timers", "deliver_email"} <= {job.name for job in scheduled_jobs()}


def test_timers_that_fell_due_while_the_scheduler_was_down_fire_when_it_starts(session, database_url):
    clock.set(datetime.now(timezone.utc) - timedelta(days=5))  # set five days ago, due after two
    publish(session, FILES)
    ids = [start_instance(session, "reminder", {}, actor_id=None).id for _ in range(INSTANCES)]
    session.commit()
    clock.set(None)  # the wall clock again: every timer is three days overdue

    scheduler = start_background_scheduler(database_url)
    try:
        deadline = time.monotonic() + WAIT_AT_MOST_SECONDS
        while _fired(session, ids) < INSTANCES and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)

    assert _fired(session, ids) == INSTANCES
    assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "timer.fired")) == INSTANCES
    session.rollback()


def _fired(session, ids) -> int:
    count = session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.id.in_(ids), ProcessInstance.revision == 2, ProcessInstance.next_timer_at.is_(None)))
    session.rollback()  # let the scheduler write
    return count
