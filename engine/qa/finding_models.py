"""Tables of what the auditor found: each question's answer and where its evidence is.

One row per question and stage (`auditor`, then `moderator` after moderation, both
kept), keyed to the published process version whose audit tool asked it, so reports
read the answers of any form version by its own keys and labels.
"""
from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base


class AuditFinding(Base):
    """One Yes / Partly / No / N/A answer to one audit question, at one stage."""
    __tablename__ = "audit_findings"
    __table_args__ = (UniqueConstraint("audit_id", "stage", "area", "question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(String(60), index=True)
    answer: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)


class AuditEvidence(Base):
    """Where on the child's file the evidence for one question (or one area) is: the auditor's
    (`contributor_id` empty) or a practitioner's contribution (the allocated worker or a
    practitioner added to the audit), attributed to them."""
    __tablename__ = "audit_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    area: Mapped[str] = mapped_column(String(40))
    question: Mapped[str | None] = mapped_column(String(60))
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_date: Mapped[date | None] = mapped_column(Date)
    link: Mapped[str | None] = mapped_column(String(500))
    comment: Mapped[str | None] = mapped_column(Text)
    contributor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", name="fk_audit_evidence_contributor_id_users"), index=True)
