"""What a person's inbox lists, read from the human-task projection (never from workflows)."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.runtime.models import HumanTask

COMPLETED_SHOWN = 50


def assigned_to(session: Session, user: User) -> list[HumanTask]:
    """Open tasks that are this person's, soonest due first."""
    return list(session.scalars(
        select(HumanTask).where(HumanTask.state == "ready", HumanTask.assignee_id == user.id)
        .order_by(HumanTask.due_on.is_(None), HumanTask.due_on, HumanTask.id)))


def claimable_by(session: Session, user: User) -> list[HumanTask]:
    """Open tasks offered to a role this person holds and not yet taken by anyone."""
    if not user.roles:
        return []
    return list(session.scalars(
        select(HumanTask).where(HumanTask.state == "ready", HumanTask.assignee_id.is_(None),
                                HumanTask.role.in_(user.roles))
        .order_by(HumanTask.due_on.is_(None), HumanTask.due_on, HumanTask.id)))


def completed_by(session: Session, user: User, limit: int = COMPLETED_SHOWN) -> list[HumanTask]:
    """The tasks this person finished most recently."""
    return list(session.scalars(
        select(HumanTask).where(HumanTask.state == "completed", HumanTask.completed_by_id == user.id)
        .order_by(HumanTask.completed_at.desc()).limit(limit)))
