"""The log of compliments and complaints, kept as intelligence beside the audits.

An entry names a service, optionally a team, a theme, a stage and an outcome, and the
learning taken from it: never the complainant, the child or a member of staff.
"""
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow


class ComplimentOrComplaint(Base):
    __tablename__ = "compliments_complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The complaints system's own reference, so importing the same export twice changes nothing.
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    received_on: Mapped[date] = mapped_column(Date, index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    theme: Mapped[str] = mapped_column(String(40), index=True)
    stage: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))
    learning: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
