"""Tables for the practitioner experience survey, built so no one can tell who said what.

`SurveyParticipation` records that a person has answered a round (so a second answer is
refused and reminders skip them); `SurveyResponse` holds answers with a random key, the
person's service and role group only, and no time and no user: no column joins the two.
"""
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow


class SurveyRound(Base):
    """One round of the survey: its questions as they were asked, and when it runs."""
    __tablename__ = "staff_survey_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The first day of the period the round belongs to: unique, so two schedulers open it once.
    period_start: Mapped[date] = mapped_column(Date, unique=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closes_on: Mapped[date] = mapped_column(Date)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    questions: Mapped[dict] = mapped_column(JSON)
    invited: Mapped[int] = mapped_column(Integer, default=0)


class SurveyParticipation(Base):
    """That a person answered a round: nothing about what, or when."""
    __tablename__ = "staff_survey_participation"
    # Stored in key order, not in the order people answered (see SurveyResponse).
    __table_args__ = {"sqlite_with_rowid": False}

    round_id: Mapped[int] = mapped_column(ForeignKey("staff_survey_rounds.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class SurveyResponse(Base):
    """One anonymous set of answers: a random key, the service and role group, the answers."""
    __tablename__ = "staff_survey_responses"
    # No rowid on SQLite: rows sit in the order of their random keys, so the order in which
    # people took part cannot be lined up with the order responses were written.
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("staff_survey_rounds.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    role_group: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict] = mapped_column(JSON)
