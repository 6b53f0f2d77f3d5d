"""The records of the framework's activities beyond the case file audit: thematic audits, dip
samples and the annual QA report (their recommendations are rows of the master audit actions
tracker, engine/qa/activity_actions.py).

A thematic audit's case file audits are ordinary audits (audit_type 'thematic'), started by
the thematic audit's instance and linked to it through the runtime's instance starts
(engine/runtime/starting.py), so one audit lifecycle serves both.
"""
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow

THEMATIC_STATUSES = {"commissioned": "Commissioned", "in_review": "Sample in review", "audits_running": "Audits under way",
                     "awaiting_sign_off": "Awaiting sign-off", "returned": "Returned for changes",
                     "published": "Published"}


class ThematicAudit(Base):
    __tablename__ = "thematic_audits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    commissioned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    theme: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    why_now: Mapped[str] = mapped_column(String(40))
    why_now_detail: Mapped[str] = mapped_column(Text, default="")
    cohort: Mapped[str | None] = mapped_column(String(40))
    sample_size: Mapped[int] = mapped_column(Integer)
    tool: Mapped[str] = mapped_column(String(40))
    # The focused tool's questions (tool 'focused'): [{"key": "q1", "question": "..."}], in the commission's order.
    focused_questions: Mapped[list | None] = mapped_column(JSON)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(30), default="commissioned", index=True)
    seed: Mapped[int | None] = mapped_column(Integer)
    sample: Mapped[list] = mapped_column(JSON, default=list)
    # Every eligible case id in the seeded order of the draw: the sample is its head, swaps come from the rest.
    sequence: Mapped[list | None] = mapped_column(JSON)
    findings: Mapped[str | None] = mapped_column(Text)
    learning: Mapped[str | None] = mapped_column(Text)
    recommendations: Mapped[list] = mapped_column(JSON, default=list)
    sign_off_comments: Mapped[str | None] = mapped_column(Text)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    commissioned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


SAMPLE_CASE_STATUSES = {"proposed": "Proposed", "removed": "Removed", "swapped_out": "Swapped out",
                        "started": "Audit started"}


class ThematicSampleCase(Base):
    """One case the thematic draw proposed (or a swap brought in), as the QA lead's review left it:
    proposed until the audits start, or removed or swapped out with the reason and who did it."""
    __tablename__ = "thematic_sample_cases"
    __table_args__ = (UniqueConstraint("thematic_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thematic_id: Mapped[int] = mapped_column(ForeignKey("thematic_audits.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    position: Mapped[int] = mapped_column(Integer)  # its place in the seeded sequence
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    moderator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("thematic_sample_cases.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"))


class DipSample(Base):
    """A head of service's dip sample of their own service's cases (QA framework section 5):
    the cases picked or drawn, what was found in each, and the immediate concerns escalated."""
    __tablename__ = "dip_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    head_of_service_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    seed: Mapped[int | None] = mapped_column(Integer)
    cases: Mapped[list] = mapped_column(JSON, default=list)
    results: Mapped[list] = mapped_column(JSON, default=list)
    findings: Mapped[str | None] = mapped_column(Text)
    learning: Mapped[str | None] = mapped_column(Text)
    recommendations: Mapped[list] = mapped_column(JSON, default=list)
    concerns: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="in_progress", index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AnnualReport(Base):
    """The annual QA report: the year's figures assembled from every activity, the QA lead's
    written sections, the director's sign-off and publication."""
    __tablename__ = "annual_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    sections: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="drafting", index=True)
    sign_off_comments: Mapped[str | None] = mapped_column(Text)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
