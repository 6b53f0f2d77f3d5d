"""What the QA lead publishes to services and teams (a report's narrative and figures, or a
7-minute briefing), to whom, and who has read it."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow


class LearningPublication(Base):
    __tablename__ = "learning_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    # The content as published, frozen as JSON: later edits to the narrative or new audits
    # do not change what a team was sent.
    body: Mapped[str] = mapped_column(Text)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class LearningAudience(Base):
    """One service or one team a publication was sent to."""
    __tablename__ = "learning_audiences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("learning_publications.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))


class LearningReading(Base):
    """The first time a person opened a publication."""
    __tablename__ = "learning_readings"
    __table_args__ = (UniqueConstraint("publication_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("learning_publications.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    first_read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
