"""Who may read a process instance over the API: whoever may see the audit it runs.

The runtime knows nothing about audits (DESIGN.md), so the bridge from an instance
to the audit that scopes it lives here, at the edge where both are in view.
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.qa.access import can_view_audit
from engine.qa.models import Audit

SEE_EVERY_INSTANCE = ("qa_lead",)


def can_view_instance(session: Session, user: User, instance_id: int) -> bool:
    """True when `user` may see the audit that `instance_id` runs; the QA lead sees every instance."""
    if user.has_role(*SEE_EVERY_INSTANCE):
        return True
    audit_id = audit_id_for_instance(session, instance_id)
    return audit_id is not None and can_view_audit(session, user, audit_id)


def audit_id_for_instance(session: Session, instance_id: int) -> int | None:
    """The audit a process instance runs, if it runs one."""
    return session.scalar(select(Audit.id).where(Audit.instance_id == instance_id))
