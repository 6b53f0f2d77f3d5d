"""Tables of the generic workflow runtime. Nothing here knows about audits."""
from datetime import date, datetime

from sqlalchemy import (JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from engine.database import Base, utcnow


class ProcessVersion(Base):
    """An immutable, published set of BPMN and form files for one process."""
    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_key", "version"),
                      UniqueConstraint("process_key", "content_hash"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Deferred: the parsed model is cached by content hash, so the files (every BPMN and
    # form, the largest column) are read only when a version is parsed or shown.
    files: Mapped[dict] = mapped_column(JSON, deferred=True)
    # The process's metadata file, parsed: its name, BPMN process id and lane map.
    manifest: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="published")
    note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ProcessInstance(Base):
    """One running (or finished) workflow: its whole serialized state in one row."""
    __tablename__ = "process_instances"
    # The scheduler's claim (running, due by now, soonest first) reads this index alone. The
    # instance list's search matches a prefix of the reference: PostgreSQL serves LIKE 'X%' from
    # a pattern-ops index only (a plain one only under the C collation; databases here use C.UTF-8).
    # The instance list's default order (last changed first) is read off an index, so its first
    # page stops after a page's rows instead of sorting the whole history.
    __table_args__ = (Index("ix_process_instances_due", "status", "next_timer_at"),
                      Index("ix_process_instances_business_key_prefix", "business_key",
                            postgresql_ops={"business_key": "varchar_pattern_ops"}),
                      Index("ix_process_instances_updated", "updated_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(80), index=True)
    business_key: Mapped[str] = mapped_column(String(80), default="", index=True)
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    serialized: Mapped[str] = mapped_column(Text)
    next_timer_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HumanTask(Base):
    """Projection of the user tasks of an instance, so inboxes never load workflows.

    A row is written when a user task becomes READY and kept, with who completed it,
    once it is done; `state` is ready, completed or cancelled.
    """
    __tablename__ = "human_tasks"
    __table_args__ = (UniqueConstraint("instance_id", "task_uuid"),
                      Index("ix_human_tasks_inbox", "state", "assignee_id"),
                      Index("ix_human_tasks_role", "state", "role"),
                      Index("ix_human_tasks_completed", "state", "completed_by_id"),
                      Index("ix_human_tasks_team", "team_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36))
    spec_name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    form_key: Mapped[str | None] = mapped_column(String(120))
    # A form the process gave this task in its data (the user task's `formJsonSchemaKey`), used instead of form_key's.
    form_schema: Mapped[dict | None] = mapped_column(JSON)
    business_key: Mapped[str] = mapped_column(String(80), default="")
    subject: Mapped[str] = mapped_column(String(200), default="")
    # The team the work is about, from the data key the manifest's `team_key` names
    # (kept as a plain id: the runtime knows no teams table), so inboxes filter by team.
    team_id: Mapped[int | None] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="ready")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TaskDraft(Base):
    """A person's unsaved answers to a task, kept apart from the workflow so that
    saving a draft never changes live work and losing a race loses nothing typed."""
    __tablename__ = "task_drafts"

    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TaskSubmission(Base):
    """The answers a person submitted to complete a task.

    The audit trail's `task.completed` event holds only this row's id and the SHA-256 of
    its answers: the chain proves what was submitted, while the text itself (free text
    about a child) can be anonymised at the end of its retention without breaking the chain.
    """
    __tablename__ = "task_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id"), index=True)
    answers: Mapped[dict] = mapped_column(JSON)
    answers_sha256: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Event(Base):
    """One entry of the append-only, hash-chained audit trail."""
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "subject_type", "subject_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SchedulerHeartbeat(Base):
    """When a scheduler process last ran its heartbeat job: /healthz reads it to tell
    whether timers are being fired at all. One row per scheduler name."""
    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    process: Mapped[str] = mapped_column(String(200), default="")


class ChainHead(Base):
    """The last link of the event chain: one row, locked by whoever appends."""
    __tablename__ = "event_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class InstanceStart(Base):
    """How an instance was started by a person (or by its parent instance): by whom, what it is
    about, the answers to its start form, and the instance that started it, if any.

    The `instance.started` event holds the SHA-256 of the answers, not the answers, so retention
    can blank the free text as it does for task submissions. Instances started by allocation or a
    cycle have no row here."""
    __tablename__ = "instance_starts"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(80), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    about_kind: Mapped[str | None] = mapped_column(String(20))
    about_id: Mapped[int | None] = mapped_column(Integer)
    about_label: Mapped[str] = mapped_column(String(200), default="")
    answers: Mapped[dict] = mapped_column(JSON)
    answers_sha256: Mapped[str] = mapped_column(String(64))
    parent_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
