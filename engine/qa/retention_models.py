"""Tables for what the council keeps and what it hands over: retention rules, legal
holds, the record of what retention anonymised or removed, and inspector exports.

None of these tables holds free text about a child: holds and exports name cases
and audits by id and reference only.
"""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow


class RetentionRule(Base):
    """How long one type of record is kept after it ends, and what happens then."""
    __tablename__ = "retention_rules"

    record_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    keep_days: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class LegalHold(Base):
    """A case whose records retention must not touch (an inquiry, a complaint, litigation)."""
    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_open", "case_id", "released_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    release_reason: Mapped[str | None] = mapped_column(Text)


class RetainedRecord(Base):
    """A record that retention has anonymised or removed, so it is done once and can be shown."""
    __tablename__ = "retention_outcomes"
    __table_args__ = (UniqueConstraint("record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrailExport(Base):
    """One inspector export: its filters, its progress, and the zip it produced."""
    __tablename__ = "trail_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    filters: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    chain_head_seq: Mapped[int | None] = mapped_column(Integer)
    chain_head_hash: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
