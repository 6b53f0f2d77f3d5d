"""Retention: records past the council's retention period are anonymised or removed,
except for cases under a legal hold; every step is recorded.

Record types and what happens when one is past its period:
- `audit` (counted from closing): what people wrote is replaced by a marker (rationales,
  strengths, feedback summaries, reflections, escalation notes, action descriptions and
  evidence, the impact's reason, comments and links on the question-level findings),
  and the strings in its finished workflow's task data likewise. Grades,
  dates, people and references stay: they are the statistics and the proof of who did
  what, and the reports keep working.
- `activity` (counted from the end of its instance): for a finished instance of any process but
  the case file audit (thematic audits, dip samples, practice weeks, multi-agency audits, the
  annual report, published models), the free text of the thematic audit or dip sample it
  wrote, what people wrote in their own words through a practice observation's feedback links,
  the strings of its start-form answers (instance_starts), its submitted answers and
  its workflow's task data are replaced by the marker; references, dates, people and counts stay.
- `task_draft` (counted from the last save): unsent answers are deleted.
- `trail_export` (counted from when it was made): the zip file is deleted; the row
  with its SHA-256 stays.

Cases (the register's rows: reference, cohort, team, age band and profile) are the case
management system's data as it exports them, kept as they are while the register lists
them; the copy of the profile an audit's process started with is in its task data, and is
blanked with it.

Events are never touched: they are hash-chained and prove what happened. They hold
references, ids, grades and dates; a completed task's answers live in a
TaskSubmission that its event names with the answers' SHA-256
(engine/runtime/submissions.py), so anonymising blanks the submission and the chain
still verifies. The inspector export also withholds the payloads of anonymised
audits' events (see engine/qa/trail_export.py).
"""
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import User
from engine.clock import LOCAL_ZONE, clock
from engine.qa import case_references
from engine.qa.feedback_request_models import FeedbackRequest
from engine.qa.feedback_requests import anonymise_responses
from engine.qa.contribution_models import AuditParticipant
from engine.qa.finding_models import AuditEvidence, AuditFinding
from engine.qa.models import AreaGrade, Audit, AuditAction, Case, Escalation, Feedback, Reflection
from engine.qa.thematic_models import DipSample, ThematicAudit, ThematicSampleCase
from engine.qa.retention_models import LegalHold, RetainedRecord, RetentionRule, TrailExport
from engine.qa.trail_export import export_directory
from engine.runtime import events
from engine.runtime.errors import WorkflowError
from engine.runtime.models import HumanTask, InstanceStart, ProcessInstance, TaskDraft
from engine.runtime.starting import child_instance_ids
from engine.runtime.submissions import anonymise_submissions
from engine.runtime.timers import ScheduledJob

ANONYMISED = "[anonymised]"
MANAGE_ROLES = ("qa_lead",)
VIEW_ROLES = ("qa_lead", "director")


@dataclass(frozen=True)
class RecordType:
    label: str
    counted_from: str
    default_days: int
    minimum_days: int
    action: str


RECORD_TYPES = {
    "audit": RecordType("Closed audits", "closing", 6 * 365, 365, "anonymise"),
    "activity": RecordType("Finished activities other than case file audits", "their end", 6 * 365, 365, "anonymise"),
    "task_draft": RecordType("Unsent task drafts", "the last save", 90, 7, "delete"),
    "trail_export": RecordType("Inspector export files", "when the export was made", 30, 1, "delete"),
}
AUDIT_TEXT = ("overall_rationale", "strengths", "areas_for_development", "safeguarding_details", "moderation_rationale",
              "discussion_summary", "discussion_learning", "closure_notes", "impact_reason")
THEMATIC_TEXT = ("question", "why_now_detail", "findings", "learning", "sign_off_comments")
DIP_SAMPLE_TEXT = ("findings", "learning")
REFLECTION_TEXT = ("went_well", "do_differently", "learning_needs", "disagreement_reason", "barriers")
ACTION_TEXT = ("description", "evidence", "supervision_outcome", "not_completed_reason")


class RetentionError(WorkflowError):
    """A change to retention that cannot be made; `field` names the answer to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def can_view(user: User) -> bool:
    return user.has_role(*VIEW_ROLES)


def can_manage(user: User) -> bool:
    """Only the QA lead changes retention periods and legal holds."""
    return user.has_role(*MANAGE_ROLES)


def rules(session: Session) -> dict[str, int]:
    """Days kept for each record type: the council's setting, else the default."""
    stored = dict(session.execute(select(RetentionRule.record_type, RetentionRule.keep_days)).all())
    return {key: stored.get(key, kind.default_days) for key, kind in RECORD_TYPES.items()}


def set_rule(session: Session, user: User, record_type: str, keep_days: int) -> None:
    """Change how long one record type is kept; recorded with before and after."""
    _check_manager(user)
    kind = RECORD_TYPES.get(record_type)
    if kind is None:
        raise RetentionError("record_type", "Choose a type of record from the list.")
    if keep_days < kind.minimum_days:
        raise RetentionError(record_type, f"{kind.label} must be kept at least {kind.minimum_days} days.")
    before = rules(session)[record_type]
    row = session.get(RetentionRule, record_type)
    if row is None:
        row = RetentionRule(record_type=record_type, action=kind.action)
        session.add(row)
    row.keep_days, row.updated_at, row.updated_by_id = keep_days, clock.now(), user.id
    events.record(session, "retention.rule_changed", actor_id=user.id, subject=("retention_rule", record_type),
                  payload={"record_type": record_type, "keep_days_before": before, "keep_days_after": keep_days})


def place_hold(session: Session, user: User, case_reference: str, reason: str) -> LegalHold:
    """Stop retention for one case. The reason stays in the hold, not in the event."""
    _check_manager(user)
    reference = case_references.normalised(case_reference)
    if problem := case_references.reference_error(reference):
        raise RetentionError("case_reference", problem)
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise RetentionError("case_reference", f"There is no case with the reference '{reference}'.")
    if not reason.strip():
        raise RetentionError("reason", "Say why the case's records must be kept.")
    if open_hold(session, case.id) is not None:
        raise RetentionError("case_reference", f"Case {reference} is already under a legal hold.")
    hold = LegalHold(case_id=case.id, reason=reason.strip(), placed_at=clock.now(), placed_by_id=user.id)
    session.add(hold)
    session.flush()
    events.record(session, "legal_hold.placed", actor_id=user.id, subject=("case", case.id),
                  payload={"case": case.reference, "hold_id": hold.id})
    return hold


def release_hold(session: Session, user: User, hold_id: int, reason: str) -> LegalHold:
    _check_manager(user)
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.released_at is not None:
        raise RetentionError("hold", "That legal hold is not in force.")
    if not reason.strip():
        raise RetentionError("release_reason", "Say why the hold can end.")
    hold.released_at, hold.released_by_id, hold.release_reason = clock.now(), user.id, reason.strip()
    case = session.get(Case, hold.case_id)
    events.record(session, "legal_hold.released", actor_id=user.id, subject=("case", case.id),
                  payload={"case": case.reference, "hold_id": hold.id})
    return hold


def open_hold(session: Session, case_id: int) -> LegalHold | None:
    return session.scalar(select(LegalHold).where(LegalHold.case_id == case_id, LegalHold.released_at.is_(None)))


def apply_retention(session: Session, actor_id: int | None = None) -> dict[str, int]:
    """Anonymise or remove everything past its period today; returns how many of each.

    Safe to run again at any time: what was done is in `retention_outcomes` and is not
    redone. The caller commits."""
    days = rules(session)
    held = select(LegalHold.case_id).where(LegalHold.released_at.is_(None))
    audits = session.scalars(select(Audit).where(
        Audit.status == "closed", Audit.closed_at < _cutoff(days["audit"]), Audit.case_id.not_in(held),
        Audit.id.not_in(select(RetainedRecord.record_id).where(RetainedRecord.record_type == "audit")))
        .order_by(Audit.id)).all()
    for audit in audits:
        _anonymise_audit(session, audit, actor_id, days["audit"])
    activities = session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_key != "case_file_audit", ProcessInstance.ended_at.is_not(None),
        ProcessInstance.ended_at < _cutoff(days["activity"]),
        ProcessInstance.id.not_in(select(RetainedRecord.record_id).where(RetainedRecord.record_type == "activity")))
        .order_by(ProcessInstance.id)).all()
    for instance in activities:
        _anonymise_activity(session, instance, actor_id, days["activity"])
    held_tasks = select(HumanTask.id).join(Audit, Audit.instance_id == HumanTask.instance_id).where(Audit.case_id.in_(held))
    drafts = session.execute(delete(TaskDraft).where(TaskDraft.saved_at < _cutoff(days["task_draft"]),
                                                     TaskDraft.human_task_id.not_in(held_tasks))).rowcount
    exports = session.scalars(select(TrailExport).where(
        TrailExport.finished_at < _cutoff(days["trail_export"]), TrailExport.file_name.is_not(None),
        TrailExport.removed_at.is_(None))).all()
    for export in exports:
        (export_directory() / export.file_name).unlink(missing_ok=True)
        export.removed_at = clock.now()
    counts = {"audits_anonymised": len(audits), "activities_anonymised": len(activities), "drafts_deleted": drafts, "export_files_deleted": len(exports)}
    if any(counts.values()):
        events.record(session, "retention.applied", actor_id=actor_id, subject=("retention", clock.today()),
                      payload={**counts, "rules": days, "audits": [a.reference for a in audits],
                               "exports": [e.id for e in exports]})
    return counts


def _anonymise_audit(session: Session, audit: Audit, actor_id: int | None, keep_days: int) -> None:
    _blank(audit, AUDIT_TEXT)
    _blank(session.get(Reflection, audit.id), REFLECTION_TEXT)
    for action in session.scalars(select(AuditAction).where(AuditAction.audit_id == audit.id)):
        _blank(action, ACTION_TEXT)
    for grade in session.scalars(select(AreaGrade).where(AreaGrade.audit_id == audit.id)):
        _blank(grade, ("rationale",))
    for item in session.scalars(select(Feedback).where(Feedback.audit_id == audit.id)):
        _blank(item, ("summary",))
    for finding in session.scalars(select(AuditFinding).where(AuditFinding.audit_id == audit.id)):
        _blank(finding, ("comment",))
    for evidence in session.scalars(select(AuditEvidence).where(AuditEvidence.audit_id == audit.id)):
        _blank(evidence, ("comment", "link"))
    for escalation in session.scalars(select(Escalation).where(Escalation.audit_id == audit.id)):
        _blank(escalation, ("immediate_actions",))
    anonymise_responses(session, FeedbackRequest.audit_id == audit.id, ANONYMISED)
    for participant in session.scalars(select(AuditParticipant).where(AuditParticipant.audit_id == audit.id)):
        _blank(participant, ("added_reason", "removed_reason"))
    instance = session.get(ProcessInstance, audit.instance_id) if audit.instance_id else None
    if instance is not None:
        _anonymise_instance(session, instance)
        for child_id in child_instance_ids(session, instance.id):  # the practitioners' evidence tasks
            _anonymise_instance(session, session.get(ProcessInstance, child_id))
    session.add(RetainedRecord(record_type="audit", record_id=audit.id, action="anonymise", applied_at=clock.now()))
    events.record(session, "audit.anonymised", actor_id=actor_id, instance_id=audit.instance_id,
                  subject=("audit", audit.id), payload={"audit": audit.reference, "keep_days": keep_days})


def _anonymise_activity(session: Session, instance: ProcessInstance, actor_id: int | None, keep_days: int) -> None:
    """Blank what people wrote in a finished activity; the event names the instance, not the text."""
    thematic = session.scalar(select(ThematicAudit).where(ThematicAudit.instance_id == instance.id))
    _blank(thematic, THEMATIC_TEXT)
    if thematic is not None:  # why a case was removed from or swapped into its sample
        for row in session.scalars(select(ThematicSampleCase).where(ThematicSampleCase.thematic_id == thematic.id)):
            _blank(row, ("reason",))
    _blank(session.scalar(select(DipSample).where(DipSample.instance_id == instance.id)), DIP_SAMPLE_TEXT)
    # What people said through a practice observation's feedback links, like the observation's own text.
    anonymise_responses(session, (FeedbackRequest.subject_kind == "observation")
                        & (FeedbackRequest.instance_id == instance.id), ANONYMISED)
    start = session.get(InstanceStart, instance.id)
    if start is not None:  # the started event keeps the answers' SHA-256, as a submission's event does
        start.answers = _scrub_task_data({"data": start.answers})["data"]
    _anonymise_instance(session, instance)
    session.add(RetainedRecord(record_type="activity", record_id=instance.id, action="anonymise", applied_at=clock.now()))
    events.record(session, "activity.anonymised", actor_id=actor_id, instance_id=instance.id,
                  subject=("process_instance", instance.id),
                  payload={"process": instance.process_key, "reference": instance.business_key, "keep_days": keep_days})


def _anonymise_instance(session: Session, instance: ProcessInstance) -> None:
    """The strings in the workflow's task data and the submitted answers, replaced."""
    if instance.serialized:
        # A new revision, as every writer of the workflow makes: a copy read at the old one
        # (engine/runtime/instances.py keeps one per request) is then never taken for this.
        instance.serialized = json.dumps(_scrub_task_data(json.loads(instance.serialized)))
        instance.revision += 1
    anonymise_submissions(session, instance.id)


def _blank(row, fields: tuple[str, ...]) -> None:
    """Replace what was written in `fields` (left empty where nothing was)."""
    for field in fields if row is not None else ():
        if getattr(row, field):
            setattr(row, field, ANONYMISED)


# Where a serialized workflow keeps what people wrote: each task's data, and the changes a task
# made to it (SpiffWorkflow 3 keeps a task's `delta`, whose `updates` repeat the answers given).
_DATA_KEYS = ("data", "updates")


def _scrub_task_data(value, inside_data: bool = False):
    """The serialized workflow with every string in task and workflow data replaced, its shape kept."""
    if isinstance(value, dict):
        return {key: _scrub_task_data(item, inside_data or key in _DATA_KEYS) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_task_data(item, inside_data) for item in value]
    return ANONYMISED if inside_data and isinstance(value, str) else value


def _cutoff(days: int) -> datetime:
    """Midnight at the start of the first day still kept."""
    return datetime.combine(clock.today() - timedelta(days=days), time(), LOCAL_ZONE)


def _check_manager(user: User) -> None:
    if not can_manage(user):
        raise RetentionError("", "Only the QA lead can change retention or legal holds.")


def run_scheduled(session_factory: sessionmaker) -> dict[str, int] | None:
    """The scheduler's daily run, as the system (no person acted)."""
    with session_factory() as session:
        counts = apply_retention(session)
        session.commit()
    return counts if any(counts.values()) else None


SCHEDULED_JOBS = [ScheduledJob("apply_retention", 6 * 3600, run_scheduled)]
