"""Absences: a person away between two dates, and the colleague who covers their tasks.

The person themselves, their line manager or a system administrator sets one. While it
runs, the person's open and new tasks show in the delegate's inbox, and the delegate
completes them on the person's behalf (engine/runtime/delegation.py). The delegate must
share one of the person's roles, so they can take the person's kind of work.
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.organisation.directory import ADMINISTRATOR, OrganisationError
from engine.organisation.models import Absence
from engine.runtime import events
from engine.runtime.errors import NotAllowed


def may_set_absence(user: User, person: User) -> bool:
    """The person, their line manager, or a system administrator."""
    return user.id == person.id or person.line_manager_id == user.id or user.has_role(ADMINISTRATOR)


def set_absence(session: Session, by: User, person_id: int, delegate_id: int | None, starts_on: date | None,
                ends_on: date | None, note: str = "") -> Absence:
    """Record that a person is away from `starts_on` to `ends_on` (inclusive), covered by a delegate."""
    person = session.get(User, person_id)
    if person is None:
        raise OrganisationError("", "There is no such person.")
    if not may_set_absence(by, person):
        raise NotAllowed("Only the person, their line manager or a system administrator can set their absence.")
    delegate = session.get(User, delegate_id) if delegate_id else None
    if delegate is None or not delegate.active:
        raise OrganisationError("delegate_id", "Choose an active colleague to cover.")
    if delegate.id == person.id:
        raise OrganisationError("delegate_id", "Choose someone other than the person who is away.")
    if not person.roles & delegate.roles:
        raise OrganisationError("delegate_id", f"{delegate.display_name} holds none of {person.display_name}'s roles, "
                                               "so could not take their tasks.")
    if starts_on is None:
        raise OrganisationError("starts_on", "Enter the first day of the absence.")
    if ends_on is None:
        raise OrganisationError("ends_on", "Enter the last day of the absence.")
    if ends_on < starts_on:
        raise OrganisationError("ends_on", "The last day must be on or after the first day.")
    if ends_on < clock.today():
        raise OrganisationError("ends_on", "The absence has already ended.")
    absence = Absence(user_id=person.id, delegate_id=delegate.id, starts_on=starts_on, ends_on=ends_on,
                      note=(note or "").strip()[:200], created_by_id=by.id, created_at=clock.now())
    session.add(absence)
    session.flush()
    events.record(session, "absence.set", actor_id=by.id, subject=("user", person.id), payload={
        "absence_id": absence.id, "delegate_id": delegate.id, "starts_on": starts_on, "ends_on": ends_on})
    return absence


def end_absence(session: Session, by: User, absence_id: int) -> Absence:
    """Stop an absence early (the person is back): their tasks leave the delegate's inbox."""
    absence = session.get(Absence, absence_id)
    if absence is None:
        raise OrganisationError("", "There is no such absence.")
    if not may_set_absence(by, session.get(User, absence.user_id)):
        raise NotAllowed("Only the person, their line manager or a system administrator can end their absence.")
    if absence.cancelled_at is not None:
        raise OrganisationError("", "This absence has already been ended.")
    absence.cancelled_at = clock.now()
    events.record(session, "absence.ended", actor_id=by.id, subject=("user", absence.user_id),
                  payload={"absence_id": absence.id})
    return absence


def absences_of(session: Session, person: User) -> list[Absence]:
    """A person's absences that have not ended, soonest first."""
    return list(session.scalars(select(Absence).where(Absence.user_id == person.id, Absence.cancelled_at.is_(None),
                                                      Absence.ends_on >= clock.today()).order_by(Absence.starts_on)))


def possible_delegates(session: Session, person: User) -> list[User]:
    """Active colleagues who share one of the person's roles."""
    return list(session.scalars(select(User).where(
        User.active.is_(True), User.id != person.id,
        User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(person.roles)))).order_by(User.display_name)))
