"""Timers: BPMN timer events fire from a due-time column, never by polling every instance.

After each transaction the runtime stores an instance's earliest waiting timer in
`process_instances.next_timer_at`. `fire_due_timers` claims due instances in batches
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite), so several
scheduler processes can run at once and each timer still fires exactly once.
SpiffWorkflow reads the wall clock inside its timer module; we point it at the
product clock so tests can run days of process time in milliseconds.
"""
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import clock
from engine.runtime import events
from engine.runtime.models import ProcessInstance

log = logging.getLogger(__name__)


class _ProductClockDatetime(datetime):
    """`datetime` whose now() is the product clock (the only method SpiffWorkflow's timers need changed)."""

    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)


spiff_timer.datetime = _ProductClockDatetime


BATCH_SIZE = 50


def claim_due_batch(session: Session, size: int, skip: set[int] = frozenset()) -> list[ProcessInstance]:
    """Lock up to `size` running instances whose timers are due, skipping any another
    process holds (and the ids in `skip`), earliest first."""
    query = (select(ProcessInstance)
             .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= clock.now())
             .order_by(ProcessInstance.next_timer_at).limit(size)
             .with_for_update(skip_locked=True))
    if skip:
        query = query.where(ProcessInstance.id.not_in(skip))
    return list(session.scalars(query))


def fire_due_timers(session_factory: sessionmaker, limit: int | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Fire every due timer, a batch of instances per transaction; returns how many instances moved on.

    Claiming a batch under `FOR UPDATE SKIP LOCKED` and committing once per batch lets
    several schedulers work side by side: each takes rows the others skip, and the
    event chain's head (locked at each commit) is taken once per batch, not per timer.
    A batch first fires straight through, its instances loaded and run one by one and
    written back together (engine/runtime/instances.fire_timers). If an instance cannot be
    fired (a row the database refuses, a workflow that cannot be loaded, a revision that
    moved), the batch is rolled back and fired again with each instance in its own
    savepoint, as a batch of one, so the one that failed is left due for the next run
    without holding back the rest. Savepoints cost two round trips per instance, which is
    why they are kept for the batch that needs them. A scheduler that was down simply
    finds more instances due when it returns.
    """
    from engine.runtime.instances import fire_timers  # the runtime imports this module first
    fired = 0
    failed: set[int] = set()
    careful = False
    while limit is None or fired < limit:
        size = batch_size if limit is None else min(batch_size, limit - fired)
        with session_factory() as session:
            due = claim_due_batch(session, size, failed)
            if not due:
                return fired
            if careful:
                fired += _fire_each_in_savepoint(session, due, fire_timers, failed)
                careful = False
                continue
            try:
                fire_timers(session, due)
                session.commit()
            except Exception:  # noqa: BLE001 (which instance failed is found by the careful run)
                session.rollback()
                log.info("a batch of %s due timers failed; firing it again one instance at a time", len(due))
                careful = True
                continue
            fired += len(due)
    return fired


def _fire_each_in_savepoint(session: Session, due: list[ProcessInstance], fire, failed: set[int]) -> int:
    """Fire each instance in a savepoint of its own and commit the ones that worked;
    adds the ones that failed to `failed` and returns how many fired."""
    fired = 0
    for instance in due:
        if _fire_in_savepoint(session, instance, fire):
            fired += 1
        else:
            failed.add(instance.id)
    session.commit()
    return fired


def _fire_in_savepoint(session: Session, instance: ProcessInstance, fire) -> bool:
    mark = events.pending_count(session)
    savepoint = session.begin_nested()
    try:
        fire(session, [instance])
        savepoint.commit()
        return True
    except Exception:  # the row or the database refused: leave it due, keep the batch's others
        savepoint.rollback()
        events.discard_since(session, mark)
        log.exception("firing the timers of process instance %s failed; it stays due", instance.id)
        return False


@dataclass(frozen=True)
class ScheduledJob:
    """Work the scheduler runs every `every_seconds`; `run(session_factory)` returns what it did."""
    name: str
    every_seconds: int
    run: Callable[[sessionmaker], object]


SCHEDULED_JOBS = [ScheduledJob("fire_due_timers", 30, fire_due_timers)]
