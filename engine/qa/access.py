"""Who may see which audit: by role and by scope, checked on the server for every read.

A practitioner sees the audits of their own cases; a team manager their team's and
the ones they audit; a head of service their service's; the QA team and senior
leaders everything. Anyone allocated to an audit (auditor, moderator) sees it, and so
does a practitioner the auditor or QA lead added to it (engine/qa/contributions.py),
while they are on it: that audit and no other.
"""
from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.qa.allocation import ALLOCATOR_ROLES
from engine.qa.contribution_models import AuditParticipant
from engine.qa.models import Audit, Service, Team

SEE_EVERY_AUDIT = ("qa_lead", "qa_officer", "principal_social_worker", "assistant_director", "director")


def audit_scope(user: User):
    """A WHERE clause on `Audit` selecting exactly the audits `user` may see."""
    if user.has_role(*SEE_EVERY_AUDIT):
        return true()
    clauses = [Audit.worker_id == user.id, Audit.auditor_id == user.id, Audit.moderator_id == user.id,
               Audit.team_manager_id == user.id, Audit.head_of_service_id == user.id,
               Audit.id.in_(select(AuditParticipant.audit_id).where(AuditParticipant.user_id == user.id,
                                                                    AuditParticipant.removed_at.is_(None)))]
    if user.has_role("team_manager"):
        clauses.append(Audit.team_id.in_(select(Team.id).where(Team.manager_id == user.id)))
    if user.has_role("head_of_service"):
        clauses.append(Audit.service_id.in_(select(Service.id).where(Service.head_of_service_id == user.id)))
    return or_(*clauses) if clauses else false()


def can_view_audit(session: Session, user: User, audit_id: int) -> bool:
    return session.scalar(select(Audit.id).where(Audit.id == audit_id, audit_scope(user))) is not None


def visible_audits(session: Session, user: User, limit: int = 200) -> list[Audit]:
    return list(session.scalars(select(Audit).where(audit_scope(user))
                                .order_by(Audit.allocated_at.desc()).limit(limit)))


def can_allocate(user: User) -> bool:
    return user.has_role(*ALLOCATOR_ROLES)
