"""What children and young people told the participation team outside audits: in groups,
councils, forums and surveys. A record holds what was said and done, never who said it."""
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow


class ParticipationRecord(Base):
    __tablename__ = "participation_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gathered_on: Mapped[date] = mapped_column(Date, index=True)
    forum: Mapped[str] = mapped_column(String(40))
    cohort: Mapped[str] = mapped_column(String(40))
    participants: Mapped[int] = mapped_column(Integer)
    theme: Mapped[str] = mapped_column(String(40))
    what_they_said: Mapped[str] = mapped_column(Text)
    what_we_did: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
