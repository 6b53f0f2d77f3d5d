"""Leaving dates that have passed: the scheduler deactivates those people, as the system.

A leaving date is a person's last working day (set on their page, through the API or by the
staff import); from the day after it they can no longer sign in. Their open work stays listed
on their page for an administrator or the QA lead to reassign.
"""
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import User
from engine.clock import clock
from engine.organisation import directory
from engine.runtime.errors import WorkflowError
from engine.runtime.timers import ScheduledJob

log = logging.getLogger(__name__)


def deactivate_past_leavers(session: Session) -> int:
    """Deactivate every active person whose leaving date is before today; returns how many."""
    done = 0
    leavers = session.scalars(select(User).where(User.active.is_(True), User.active_to < clock.today())).all()
    for person in leavers:
        try:
            with session.begin_nested():
                directory.deactivate_person(session, None, person.id, "Leaving date reached",
                                            leaving_on=person.active_to)
            done += 1
        except WorkflowError as refused:  # the last system administrator stays, and says why
            log.warning("%s was not deactivated: %s", person.username, refused)
    return done


def run_scheduled(session_factory: sessionmaker) -> int | None:
    with session_factory() as session:
        done = deactivate_past_leavers(session)
        session.commit()
    return done or None


SCHEDULED_JOBS = [ScheduledJob("deactivate_leavers", 3600, run_scheduled)]
