"""Practitioners added to one audit besides its allocated worker (QA framework section 7,
the collaborative audit): an independent reviewing officer, a complex safeguarding
practitioner. Each row says who, their role on the case, who added them and why, and,
once removed, who removed them and why; rows are never deleted.
"""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base


class AuditParticipant(Base):
    """One practitioner added to one audit, who contributes evidence and may own actions."""
    __tablename__ = "audit_participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_role: Mapped[str] = mapped_column(String(30))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    added_reason: Mapped[str] = mapped_column(Text)
    # The linked processes/audit_contribution instance that gave them their task, once asked.
    contribution_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_reason: Mapped[str | None] = mapped_column(Text)
