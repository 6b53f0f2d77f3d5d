"""Tables of the QA domain: the organisation, the case register, audits and their trackers.

Case records hold references, cohort and team, never a child's name (data minimisation).
"""
from datetime import date, datetime

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.database import Base, utcnow
from engine.qa.grading_scale import seed_scale

# The seed scale's grades (processes/case_file_audit/grading_scale.json), for what has no
# audit's own scale at hand: the API's schema and the monitoring filter. Everything about
# a particular audit or report reads its version's scale (engine/qa/grading_scale.py).
GRADES = seed_scale().labels

AREAS = {
    "child_voice": "The child's voice",
    "assessment": "Quality of assessment",
    "planning": "Quality of planning",
    "chronology": "Use of chronology",
    "management_oversight": "Management grip and supervision",
    "parent_carer_engagement": "Parent and carer engagement",
}

COHORTS = {
    "child_in_need": "Child in need",
    "child_protection": "Child protection",
    "child_in_care": "Child in care",
    "care_leaver": "Care leaver",
    "assessment": "Assessment",
    "disabled_children": "Disabled children",
}

AUDIT_STATUSES = {
    "allocated": "Allocated",
    "in_progress": "Audit in progress",
    "awaiting_moderation": "Awaiting moderation",
    "actions_in_review": "Actions under review",
    "awaiting_closure": "Awaiting QA lead confirmation",
    "closed": "Closed",
}


TEAM_KINDS = {
    "front_door": "Front door (MASH)",
    "assessment": "Assessment",
    "cin_cp": "Child in need and child protection",
    "children_in_care": "Children in care",
    "care_leavers": "Care leavers",
    "disabled_children": "Disabled children",
    "fostering_adoption": "Fostering and adoption",
    "youth_justice": "Youth justice",
    "early_help": "Early help",
    "quality_assurance": "Quality assurance",
    "other": "Other",
}


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    head_of_service_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assistant_director_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40), default="other", server_default="other")

    service: Mapped[Service] = relationship(lazy="joined")


class Case(Base):
    """A child's case as the case management system knows it: reference, not name."""
    __tablename__ = "cases"
    # Searches match a prefix of the reference: on PostgreSQL a pattern-ops index serves it (the
    # unique index does not under the C.UTF-8 collation), see ProcessInstance's.
    __table_args__ = (Index("ix_cases_reference_prefix", "reference",
                            postgresql_ops={"reference": "varchar_pattern_ops"}),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    cohort: Mapped[str] = mapped_column(String(40))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opened_on: Mapped[date] = mapped_column(Date)
    age_band: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    # The case profile from the register (engine/qa/case_profile.py); None: not recorded.
    legal_status: Mapped[str | None] = mapped_column(String(40))
    placement_moves_12_months: Mapped[int | None] = mapped_column(Integer)
    missing_episodes_12_months: Mapped[int | None] = mapped_column(Integer)
    disability: Mapped[bool | None] = mapped_column(Boolean)
    first_language: Mapped[str | None] = mapped_column(String(40))
    referrals_12_months: Mapped[int | None] = mapped_column(Integer)
    s47_enquiries_12_months: Mapped[int | None] = mapped_column(Integer)

    team: Mapped[Team] = relationship(lazy="joined")


class Audit(Base):
    """One case file audit: who, when, and the grades before and after moderation."""
    __tablename__ = "audits"
    # The audits still open, which the dashboard counts: an index of those alone, so counting
    # them reads the open work and not the closed history (migration 0029).
    __table_args__ = (Index("ix_audits_open", "instance_id", postgresql_where=text("status <> 'closed'"),
                            sqlite_where=text("status <> 'closed'")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    audit_type: Mapped[str] = mapped_column(String(30), default="random")
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("audit_cycles.id", name="fk_audits_cycle_id_audit_cycles"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    # People and team as they were at allocation, so history does not move with the case.
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    cohort: Mapped[str] = mapped_column(String(40))
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    team_manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    head_of_service_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    allocated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(30), default="allocated", index=True)
    allocated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    moderation_due_on: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The grading scale of the version the audit runs on (engine/qa/grading_scale.py, its
    # signature), and the ILACS judgement area its cohort falls under in that version's data.
    grading_scale: Mapped[str] = mapped_column(String(16), index=True)
    judgement_area: Mapped[str | None] = mapped_column(String(40), index=True)
    overall_grade: Mapped[str | None] = mapped_column(String(30))
    overall_rationale: Mapped[str | None] = mapped_column(Text)
    strengths: Mapped[str | None] = mapped_column(Text)
    areas_for_development: Mapped[str | None] = mapped_column(Text)
    safeguarding_concern: Mapped[bool] = mapped_column(Boolean, default=False)
    safeguarding_details: Mapped[str | None] = mapped_column(Text)
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    moderation_outcome: Mapped[str | None] = mapped_column(String(20))
    moderated_grade: Mapped[str | None] = mapped_column(String(30))
    moderation_rationale: Mapped[str | None] = mapped_column(Text)
    discussion_date: Mapped[date | None] = mapped_column(Date)
    discussion_summary: Mapped[str | None] = mapped_column(Text)
    discussion_learning: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closure_outcome: Mapped[str | None] = mapped_column(String(40))
    closure_notes: Mapped[str | None] = mapped_column(Text)
    # "What has changed for the child": improved, no_change or worse, and what tells the auditor so.
    impact: Mapped[str | None] = mapped_column(String(20), index=True)
    impact_reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(lazy="joined")


class AreaGrade(Base):
    """A grade for one area at one stage: `auditor` or `moderator`. Both are kept."""
    __tablename__ = "audit_area_grades"
    __table_args__ = (UniqueConstraint("audit_id", "area", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    area: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(30))
    rationale: Mapped[str] = mapped_column(Text, default="")


class Feedback(Base):
    """Feedback gathered for an audit from one source: child, family or professionals."""
    __tablename__ = "audit_feedback"
    __table_args__ = (UniqueConstraint("audit_id", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(20))
    feedback_date: Mapped[date | None] = mapped_column(Date)
    rating: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)


class Reflection(Base):
    """The allocated practitioner's reflections on the audit of their case."""
    __tablename__ = "practitioner_reflections"

    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    went_well: Mapped[str] = mapped_column(Text)
    do_differently: Mapped[str] = mapped_column(Text)
    learning_needs: Mapped[str] = mapped_column(Text)
    agrees_with_grade: Mapped[bool] = mapped_column(Boolean)
    disagreement_reason: Mapped[str | None] = mapped_column(Text)
    barriers: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Escalation(Base):
    """A head of service told at once of an Inadequate audit or a safeguarding concern."""
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    head_of_service_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_on: Mapped[date] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    immediate_actions: Mapped[str | None] = mapped_column(Text)
    review_date: Mapped[date | None] = mapped_column(Date)


class AuditAction(Base):
    """A row of the master audit actions tracker: an action agreed at a case file audit
    (`audit_id`), or a recommendation or agreed action of another activity (`source`, with its
    instance, reference and, where it has them, service, case and partner agency)."""
    __tablename__ = "audit_actions"
    # The actions the QA lead has not verified, which the dashboard counts (migration 0029).
    __table_args__ = (UniqueConstraint("audit_id", "ref"),
                      Index("ix_audit_actions_unverified", "status", postgresql_where=text("verified_by_id IS NULL"),
                            sqlite_where=text("verified_by_id IS NULL")))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="case_file_audit", server_default="case_file_audit",
                                        index=True)
    source_reference: Mapped[str | None] = mapped_column(String(30))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    agency: Mapped[str | None] = mapped_column(String(20))
    agreed_on: Mapped[date | None] = mapped_column(Date)
    last_notice: Mapped[str | None] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    owner_role: Mapped[str] = mapped_column(String(30))
    due_on: Mapped[date] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="not_started", index=True)
    completed_on: Mapped[date | None] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(Text)
    reviewed_in_supervision_on: Mapped[date | None] = mapped_column(Date)
    supervision_outcome: Mapped[str | None] = mapped_column(Text)
    revised_due_on: Mapped[date | None] = mapped_column(Date)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    not_completed_reason: Mapped[str | None] = mapped_column(Text)
