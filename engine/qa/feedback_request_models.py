"""Tables for feedback asked of children, families and professionals through a single-use link.

A request names the process instance it serves and what kind of subject that is (a case
file audit, which it also names, or a practice observation), and who it is for (an age band, a parent or carer, a
professional), never the person: no name and no address is kept (an email address lives
only in the outbox row that sends the link). The link's token is stored as a SHA-256
digest, so a database reader cannot answer in someone's place.
"""
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow


class FeedbackRequest(Base):
    """One link sent (by email or printed letter) to one person for one audit or observation."""
    __tablename__ = "feedback_requests"
    __table_args__ = (CheckConstraint(
        "(subject_kind = 'audit' AND audit_id IS NOT NULL) OR "
        "(subject_kind = 'observation' AND audit_id IS NULL AND instance_id IS NOT NULL)",
        name="ck_feedback_requests_one_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(12))  # "audit" or "observation"
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instances.id", name="fk_feedback_requests_instance_id"), index=True)
    audience: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(10))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FeedbackResponse(Base):
    """What the person said, kept with the form it answered; at most one per request."""
    __tablename__ = "feedback_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_requests.id"), unique=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"), index=True)  # none for an observation
    audience: Mapped[str] = mapped_column(String(30))
    form_digest: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict] = mapped_column(JSON)
    consent: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
