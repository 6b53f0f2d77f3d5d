"""The QA lead's written sections of a six-weekly or annual report, one row per report
period and scope (the council, a service or a team), and where they stand: a draft,
awaiting sign-off, or signed off and published (engine/qa/narratives.py)."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow


class ReportNarrative(Base):
    __tablename__ = "report_narratives"
    __table_args__ = (UniqueConstraint("period_key", "scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_key: Mapped[str] = mapped_column(String(60))
    scope_key: Mapped[str] = mapped_column(String(40))
    key_findings: Mapped[str] = mapped_column(Text, default="")
    learning: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    do_differently: Mapped[str] = mapped_column(Text, default="")
    team_questions: Mapped[str] = mapped_column(Text, default="")
    written_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # draft, awaiting_sign_off or published; a published narrative is read-only.
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft", index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last return: who sent it back, when, and why (earlier returns are in the trail).
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_comment: Mapped[str | None] = mapped_column(Text)
