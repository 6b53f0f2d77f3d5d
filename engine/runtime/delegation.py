"""Covering for an absent colleague: whose tasks a person may see and complete today.

While an absence runs (engine/organisation/models.Absence, set by the person, their line
manager or a system administrator), the open tasks assigned to the absent person show in
their delegate's inbox; the delegate completes them on the person's behalf, and the
completion event says so (engine/runtime/instances.py checks role and separation of duties).
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.organisation.models import Absence
from engine.runtime.models import HumanTask


def _running(today):
    return (Absence.cancelled_at.is_(None), Absence.starts_on <= today, Absence.ends_on >= today)


def covering_absence(session: Session, task: HumanTask, user: User) -> Absence | None:
    """The running absence through which `user` covers `task`'s assignee, if there is one."""
    if task.assignee_id is None or task.assignee_id == user.id:
        return None
    return session.scalar(select(Absence).where(Absence.user_id == task.assignee_id, Absence.delegate_id == user.id,
                                                *_running(clock.today())).limit(1))


def covered_tasks(session: Session, user: User) -> list[HumanTask]:
    """Open tasks of people `user` is covering for today, soonest due first."""
    absent = select(Absence.user_id).where(Absence.delegate_id == user.id, *_running(clock.today()))
    return list(session.scalars(
        select(HumanTask).where(HumanTask.state == "ready", HumanTask.assignee_id.in_(absent))
        .order_by(HumanTask.due_on.is_(None), HumanTask.due_on, HumanTask.id)))
