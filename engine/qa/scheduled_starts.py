"""Starting a process from the scheduler once per period, for the QA lead: the "timer start"
of the activities that recur (the annual QA report each year, practice week each period).

SpiffWorkflow creates no instances of its own, so a recurring activity is started by a
scheduler job. Several schedulers may run at once: the job claims the period by writing an
event to the trail, which takes the chain's lock until the transaction ends, and looks again
for an instance of the period after the claim, so one of them starts it and the others
leave it.
"""
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import User, UserRole
from engine.runtime import events
from engine.runtime.starting import start_process

log = logging.getLogger(__name__)


def start_once(session_factory: sessionmaker, process_key: str, *, already_started: Callable[[Session], bool],
               claim: tuple[str, tuple[str, str], dict], answers: dict, what: str) -> dict | None:
    """Start `process_key` with `answers` for the first active QA lead unless `already_started`;
    `claim` is the trail event (kind, subject, payload) that claims the period. Returns the
    started instance's reference, or None when nothing was started (`what` names it in the
    warning logged when there is no QA lead to start it for)."""
    with session_factory() as session:
        if already_started(session):
            return None
        lead = session.scalar(select(User).join(UserRole).where(UserRole.role == "qa_lead", User.active.is_(True))
                              .order_by(User.id).limit(1))
        if lead is None:
            log.warning("%s is due but there is no active QA lead to start it", what)
            return None
        kind, subject, payload = claim
        events.record(session, kind, subject=subject, payload={**payload, "for": lead.id})
        if already_started(session):
            session.rollback()  # another scheduler started it while this one waited for the lock
            return None
        instance = start_process(session, lead, process_key, answers)
        session.commit()
        return {"started": instance.business_key}
