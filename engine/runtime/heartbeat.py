"""The scheduler's heartbeat: a row its own job rewrites every minute.

/healthz reads it (engine/health.py) to tell an operations team whether any scheduler
is running, since due timers, reminders and email stop silently when none is. Several
schedulers share the one row: it says that one of them beat, and which last did.
"""
import os
import socket

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import clock
from engine.runtime.models import SchedulerHeartbeat
from engine.runtime.timers import ScheduledJob

HEARTBEAT_NAME = "scheduler"
BEAT_EVERY_SECONDS = 60


def beat(session_factory: sessionmaker) -> int:
    """Write now into the heartbeat row (made on the first beat); returns 1, the rows written."""
    with session_factory() as session:
        _write(session)
        try:
            session.commit()
        except IntegrityError:  # another scheduler made the row at the same moment: update it instead
            session.rollback()
            _write(session)
            session.commit()
    return 1


def last_beat(session: Session) -> SchedulerHeartbeat | None:
    return session.get(SchedulerHeartbeat, HEARTBEAT_NAME)


def _write(session: Session) -> None:
    row = last_beat(session)
    if row is None:
        row = SchedulerHeartbeat(name=HEARTBEAT_NAME)
        session.add(row)
    row.beat_at = clock.now()
    row.process = f"{socket.gethostname()} pid {os.getpid()}"[:200]


SCHEDULED_JOBS = [ScheduledJob("heartbeat", BEAT_EVERY_SECONDS, beat)]
