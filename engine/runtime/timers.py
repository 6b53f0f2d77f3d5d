"""Timers: BPMN timer events fire from a due-time column, never by polling every instance.

After each transaction the runtime stores an instance's earliest waiting timer in
`process_instances.next_timer_at`. `fire_due_timers` claims due instances one at a
time (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite), so several
scheduler processes can run at once and each timer still fires exactly once.
SpiffWorkflow reads the wall clock inside its timer module; we point it at the
product clock so tests can run days of process time in milliseconds.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import clock
from engine.runtime.models import ProcessInstance


class _ProductClockDatetime(datetime):
    """`datetime` whose now() is the product clock (the only method SpiffWorkflow's timers need changed)."""

    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)


spiff_timer.datetime = _ProductClockDatetime


def claim_next_due(session: Session) -> ProcessInstance | None:
    """Lock one running instance whose timer is due, skipping any another process holds."""
    return session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= clock.now())
        .order_by(ProcessInstance.next_timer_at).limit(1)
        .with_for_update(skip_locked=True))


def fire_due_timers(session_factory: sessionmaker, limit: int | None = None) -> int:
    """Fire every due timer, one instance per transaction; returns how many instances moved on.

    A scheduler that was down simply finds more instances due when it returns.
    """
    from engine.runtime.instances import fire_timers  # the runtime imports this module first
    fired = 0
    while limit is None or fired < limit:
        with session_factory() as session:
            instance = claim_next_due(session)
            if instance is None:
                return fired
            fire_timers(session, instance)
            session.commit()
            fired += 1
    return fired


@dataclass(frozen=True)
class ScheduledJob:
    """Work the scheduler runs every `every_seconds`; `run(session_factory)` returns what it did."""
    name: str
    every_seconds: int
    run: Callable[[sessionmaker], object]


SCHEDULED_JOBS = [ScheduledJob("fire_due_timers", 30, fire_due_timers)]
