"""Tables of the six-weekly allocation cycle: the cycle, and the allocations its draw proposed.

A cycle records how it was drawn (the seed, the sample size per team, the day the
draw ran) so anyone can re-run the draw and get the same allocations. Each drawn
case is a `CycleAllocation`: `proposed` while the QA lead reviews it (the auditor
or moderator may be swapped; the draw's own choice is kept beside the current one),
`removed` if the QA lead takes it out, `started` once its case file audit exists.
"""
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow

CYCLE_STATUSES = {
    "scheduled": "Scheduled",
    "in_review": "Awaiting the QA lead's review",
    "audits_started": "Audits under way",
    "closed": "Closed",
}
ALLOCATION_STATUSES = {"proposed": "Proposed", "removed": "Removed", "started": "Audit started"}
SAMPLE_BASES = {"per_team": "cases from each team", "per_auditor": "audits for each auditor"}


class AuditCycle(Base):
    """One six-weekly cycle: its dates, its sampling settings and the seed of its draw."""
    __tablename__ = "audit_cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    # Weeks until the next cycle starts; 0 means this cycle schedules no successor.
    cadence_weeks: Mapped[int] = mapped_column(Integer)
    sample_basis: Mapped[str] = mapped_column(String(20))
    sample_size: Mapped[int] = mapped_column(Integer)
    # What the draw used: cases per team, the seed, and the day it counted as today.
    per_team: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(Integer)
    drawn_on: Mapped[date | None] = mapped_column(Date)
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    draw_problem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def label(self) -> str:
        return f"Cycle {self.number}"


class CycleAllocation(Base):
    """A case the cycle's draw picked, with its auditor and moderator as drawn and as now."""
    __tablename__ = "cycle_allocations"
    __table_args__ = (UniqueConstraint("cycle_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("audit_cycles.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    drawn_auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drawn_moderator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    removal_reason: Mapped[str | None] = mapped_column(Text)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"))
