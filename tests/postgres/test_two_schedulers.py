"""Two schedulers at once on PostgreSQL: every due timer fires exactly once, every email goes once.

Each "scheduler" is a thread with an engine and connection pool of its own, as a
second `python -m engine.scheduler` process would have; they start together at a
barrier and run the scheduler's own job functions against one database.
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine.clock import clock
from engine.database import make_session_factory
from engine.email_delivery import deliver_outbox
from engine.notification_models import Notification, OutboxEmail
from engine.notifications import notify
from engine.runtime.events import verify_chain
from engine.runtime.instances import start_instance
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.registry import publish
from engine.runtime.timers import fire_due_timers
from tests.conftest import user_named
from tests.test_notifications import smtp_server  # noqa: F401  (fixture)
from tests.test_timers import FILES

pytestmark = pytest.mark.postgres

TIMERS, EMAILS, SCHEDULERS = 200, 60, 2
STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _run_side_by_side(postgres_url: str, job) -> list[int]:
    """Run `job(session_factory)` in SCHEDULERS threads at once, each with its own engine."""
    barrier = threading.Barrier(SCHEDULERS)

    def scheduler(_number: int) -> int:
        factory = make_session_factory(postgres_url)
        try:
            barrier.wait()
            return job(factory)
        finally:
            factory.kw["bind"].dispose()

    with ThreadPoolExecutor(SCHEDULERS) as pool:
        return list(pool.map(scheduler, range(SCHEDULERS)))


def test_two_schedulers_fire_200_due_timers_exactly_once(session, postgres_url):
    clock.set(STARTED)
    publish(session, FILES)
    instance_ids = [start_instance(session, "reminder", {}, actor_id=None).id for _ in range(TIMERS)]
    session.commit()
    clock.set(STARTED + timedelta(days=2, minutes=1))

    fired = _run_side_by_side(postgres_url, fire_due_timers)

    assert sum(fired) == TIMERS and all(count > 0 for count in fired), fired  # both worked, none twice
    session.expire_all()
    revisions = session.execute(select(ProcessInstance.revision, func.count()).where(
        ProcessInstance.id.in_(instance_ids)).group_by(ProcessInstance.revision)).all()
    assert revisions == [(2, TIMERS)]  # started, then fired once
    fired_events = dict(session.execute(select(Event.instance_id, func.count()).where(
        Event.kind == "timer.fired").group_by(Event.instance_id)).all())
    assert fired_events == {instance_id: 1 for instance_id in instance_ids}
    tasks = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.instance_id.in_(instance_ids)))
    assert tasks == TIMERS
    qa_lead = user_named(session, "qa.lead")
    new_task_notes = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.recipient_id == qa_lead.id, Notification.kind == "new_task"))
    assert new_task_notes == TIMERS
    assert fire_due_timers(make_session_factory(postgres_url)) == 0
    report = verify_chain(session)
    assert report.ok, report.problem


def test_two_schedulers_send_each_outbox_email_once(session, postgres_url, smtp_server):  # noqa: F811
    qa_lead = user_named(session, "qa.lead")
    for number in range(EMAILS):
        notify(session, qa_lead.id, "reminder", f"Reminder {number:03d}", "Text", link=f"/tasks/{number}")
    session.commit()

    sent = _run_side_by_side(postgres_url, deliver_outbox)

    assert sum(sent) == EMAILS
    subjects = sorted(message["Subject"] for _, message in smtp_server.messages)
    assert subjects == [f"Reminder {number:03d}" for number in range(EMAILS)]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "sent")) == EMAILS
    assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "notification.emailed")) == EMAILS
