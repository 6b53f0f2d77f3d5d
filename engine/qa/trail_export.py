"""The export for inspectors: every audit in a period, as evidence they can check.

One zip holds a PDF per audit (profile, grades by area before and after moderation,
rationales, feedback, actions and their outcome, the full dated history including
who viewed it), a summary in CSV and XLSX (case references, no names), the events
of those audits in JSON with their hashes, and a manifest listing each file's
SHA-256 and the event chain's head hash when the export began. Asking for an export
and finishing it are both events in the trail.

Exports run in the background (a thread of the web process, or the CLI in the
foreground) and report progress in their `trail_exports` row. Data is read in
short transactions of a few hundred audits, so a year's export never holds the
database for long; PDFs are drawn in worker processes, two cores at once.
"""
import csv
import hashlib
import io
import json
import logging
import multiprocessing
import os
import threading
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable

from openpyxl import Workbook
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import User
from engine.qa import activity_export
from engine.clock import LOCAL_ZONE, clock
from engine.database import INSTANCE_DIR, as_utc
from engine.qa.allocation import AUDIT_TYPES
from engine.qa.case_profile import profile_rows
from engine.qa.contribution_models import AuditParticipant
from engine.qa.contributions import arrange_contributions
from engine.qa.finding_models import AuditEvidence, AuditFinding
from engine.qa.findings import arrange_findings, evidence_text, impact_label, tool_labels
from engine.qa.grading_scale import grade_label, scales_in_use
from engine.qa.models import (AREAS, AUDIT_STATUSES, COHORTS, AreaGrade, Audit, AuditAction, Case,
                              Escalation, Feedback, Reflection, Service, Team)
from engine.qa.report_pdf import audit_pdf
from engine.qa.retention_models import RetainedRecord, TrailExport
from engine.runtime import events
from engine.runtime.errors import WorkflowError
from engine.runtime.models import Event
from engine.runtime.submissions import submissions_by_id

EXPORT_ROLES = ("qa_lead", "director")
CHUNK = 400
PARALLEL_FROM = 40  # below this many audits, drawing PDFs in this process is quicker than starting workers
SUMMARY_COLUMNS = (
    ["audit", "case_reference", "audit_type", "cohort", "service", "team", "status", "allocated_on", "due_on",
     "graded_on", "moderated_on", "closed_on", "auditor_grade", "moderated_grade", "moderation_outcome"]
    + [f"{area}_{stage}" for area in AREAS for stage in ("auditor", "moderated")]
    + ["feedback_child", "feedback_family", "feedback_professionals", "actions", "actions_completed",
       "actions_open", "head_of_service_notified", "anonymised"])
HASH_RECIPE = ("Each event's hash is SHA-256 over the canonical JSON (keys sorted, no spaces) of seq, prev_hash, "
               "occurred_at (ISO 8601, UTC), actor_id, kind, instance_id, subject_type, subject_id and payload "
               "(the payload's own canonical JSON text); prev_hash is the hash of the event before it.")
log = logging.getLogger(__name__)


class ExportError(WorkflowError):
    """An export that cannot be made as asked; `field` names the choice to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ExportFilters:
    """Audits allocated from `start` to `end` (both included), optionally one service, team or type,
    and the activities started in the period; `activity` (a process key) keeps one activity only."""
    start: date
    end: date
    service_id: int | None = None
    team_id: int | None = None
    audit_type: str | None = None
    activity: str | None = None

    @property
    def audits_wanted(self) -> bool:
        return self.activity in (None, activity_export.CASE_FILE_AUDIT)

    def as_dict(self) -> dict:
        return {**asdict(self), "start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, values: dict) -> "ExportFilters":
        return cls(**{"activity": None, **values, "start": date.fromisoformat(values["start"]), "end": date.fromisoformat(values["end"])})

    @classmethod
    def last_months(cls, months: int, today: date, **choices) -> "ExportFilters":
        """The `months` months up to and including `today` (6 and 12 are what inspectors ask for)."""
        year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
        start = date(year, month + 1, min(today.day, 28)) + timedelta(days=1)
        return cls(start=start, end=today, **choices)


def can_export(user: User) -> bool:
    """Exports gather every audit in scope: the QA lead and the director only."""
    return user.has_role(*EXPORT_ROLES)


def export_directory() -> Path:
    """Where finished zips are kept: QA_EXPORT_DIR, or instance/exports."""
    return Path(os.environ.get("QA_EXPORT_DIR") or INSTANCE_DIR / "exports")


def request_export(session: Session, user: User, filters: ExportFilters) -> TrailExport:
    """Check the request and queue it; the request is recorded before any data is read."""
    if not can_export(user):
        raise ExportError("", "Only the QA lead or the director can export the audit trail.")
    if filters.start > filters.end:
        raise ExportError("start", "The start of the period must be on or before its end.")
    if filters.end > clock.today():
        raise ExportError("end", "The end of the period cannot be in the future.")
    if filters.service_id is not None and session.get(Service, filters.service_id) is None:
        raise ExportError("service_id", "There is no such service.")
    team = session.get(Team, filters.team_id) if filters.team_id is not None else None
    if filters.team_id is not None and team is None:
        raise ExportError("team_id", "There is no such team.")
    if team is not None and filters.service_id is not None and team.service_id != filters.service_id:
        raise ExportError("team_id", f"{team.name} is not in the chosen service.")
    if filters.audit_type is not None and filters.audit_type not in AUDIT_TYPES:
        raise ExportError("audit_type", "Choose a type of audit from the list.")
    if filters.activity is not None and filters.activity not in activity_export.activity_names(session):
        raise ExportError("activity", "Choose an activity from the list.")
    if not filters.audits_wanted and (filters.service_id or filters.team_id or filters.audit_type):
        raise ExportError("activity", "A service, team or type of audit chooses case file audits: choose the case "
                                      "file audit as the activity, or all services, teams and types.")
    export = TrailExport(requested_by_id=user.id, requested_at=clock.now(), filters=filters.as_dict(), status="queued")
    session.add(export)
    session.flush()
    events.record(session, "trail.export_requested", actor_id=user.id, subject=("trail_export", export.id),
                  payload={"filters": filters.as_dict()})
    return export


def start_in_background(session_factory: sessionmaker, export_id: int, directory: Path) -> threading.Thread:
    """Run the export in a thread of this process; its row shows the progress. The session
    factory is the thread's own: its connections are closed when the export ends."""
    def work():
        try:
            run_export(session_factory, export_id, directory)
        finally:
            session_factory.kw["bind"].dispose()

    thread = threading.Thread(target=work, name=f"trail-export-{export_id}", daemon=True)
    thread.start()
    return thread


def run_export(session_factory: sessionmaker, export_id: int, directory: Path, workers: int = 2,
               progress: Callable[[int, int], None] | None = None) -> TrailExport:
    """Build the zip for a queued export; a failure is kept on the row and recorded, not raised.

    `progress(done, total)` hears of each chunk of audits finished, as the row does."""
    with session_factory() as session:
        export = session.get(TrailExport, export_id)
        export.status = "running"
        export.chain_head_seq, export.chain_head_hash = events.chain_head(session)
        session.commit()
        filters, requested_by = ExportFilters.from_dict(export.filters), export.requested_by_id
        scales_in_use(session)  # every scale's grade labels, for the per-audit PDFs
    try:
        path, counts = _write_zip(session_factory, export, filters, directory, workers, progress)
    except Exception as error:  # the requester sees the reason on the export page; the log has the trace
        log.exception("trail export %s failed", export_id)
        with session_factory() as session:
            failed = session.get(TrailExport, export_id)
            failed.status, failed.error, failed.finished_at = "failed", str(error) or type(error).__name__, clock.now()
            events.record(session, "trail.export_failed", actor_id=requested_by, subject=("trail_export", export_id),
                          payload={"error": failed.error})
            session.commit()
            return failed
    with session_factory() as session:
        done = session.get(TrailExport, export_id)
        done.status, done.finished_at, done.file_name = "done", clock.now(), path.name
        done.sha256, done.size_bytes = _sha256_of(path), path.stat().st_size
        events.record(session, "trail.export_generated", actor_id=requested_by, subject=("trail_export", export_id),
                      payload={"filters": filters.as_dict(), **counts, "zip_sha256": done.sha256,
                               "chain_head_seq": done.chain_head_seq, "chain_head_hash": done.chain_head_hash})
        session.commit()
        return done


def zip_path(directory: Path, export: TrailExport) -> Path:
    return directory / f"audit-trail-export-{export.id}.zip"


def _write_zip(session_factory, export: TrailExport, filters: ExportFilters, directory: Path, workers: int, progress):
    directory.mkdir(parents=True, exist_ok=True)
    loader = _Loader(session_factory, filters, export.chain_head_seq)
    total = len(loader.audit_ids)

    def report(done: int) -> None:
        with session_factory() as session:
            row = session.get(TrailExport, export.id)
            row.total, row.done = total, done
            session.commit()
        if progress:
            progress(done, total)

    report(0)
    path = zip_path(directory, export)
    partial = path.with_suffix(".partial")
    files, summary, event_count = [], [], 0
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as archive:
        events_file = _HashingWriter(archive, "events.json", path.with_suffix(".events"))
        events_file.write(b'{"hash_recipe": ' + json.dumps(HASH_RECIPE).encode() + b', "events": [')
        rendered, pending = 0, None
        with _pdf_renderer(workers if total >= PARALLEL_FROM else 1) as render:
            # Workers draw one chunk's PDFs while this process reads the next chunk.
            for records, chunk_events in loader.chunks():
                submitted = (records, render(records))
                if pending:
                    rendered += _add_pdfs(archive, *pending, files, summary)
                    report(rendered)
                for row in chunk_events:
                    events_file.write((b"," if event_count else b"") + json.dumps(row, default=str).encode())
                    event_count += 1
                pending = submitted
            if pending:
                rendered += _add_pdfs(archive, *pending, files, summary)
                report(rendered)
        events_file.write(b"]}")
        files.append(events_file.close())
        files.append(_store(archive, "summary.csv", _summary_csv(summary)))
        files.append(_store(archive, "summary.xlsx", _summary_xlsx(summary)))
        activities = loader.activities()
        if activities.summary:
            files.append(_store(archive, "activities/summary.csv", _summary_csv(activities.summary, activity_export.SUMMARY_COLUMNS)))
            files.append(_store(archive, "activities/events.json", json.dumps(
                {"hash_recipe": HASH_RECIPE, "events": [loader._event_json(row, False) for row in activities.events]},
                default=str).encode()))
            files += [_store(archive, name, data) for name, data in activities.files]
        manifest = {
            "export": export.id, "generated_at": clock.now().isoformat(), "requested_by": loader.names.get(export.requested_by_id),
            "filters": {**filters.as_dict(), "service": loader.service_name(filters.service_id),
                        "team": loader.team_name(filters.team_id)},
            "chain_head": {"seq": export.chain_head_seq, "hash": export.chain_head_hash},
            "counts": {"audits": len(summary), "events": event_count, "activities": len(activities.summary),
                       "activity_events": len(activities.events)},
            "activity": loader.activity_name(filters.activity), "hash_recipe": HASH_RECIPE,
            "note": ("Free text of audits anonymised under the retention schedule is withheld: their PDFs and "
                     "event payloads say so. Events are never edited, so the chain still verifies in the system."),
            "files": files}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, default=str))
    partial.replace(path)
    return path, {"audits": len(summary), "events": event_count, "activities": len(activities.summary),
                  "files": len(files) + 1}


def _add_pdfs(archive: zipfile.ZipFile, records: list[dict], pdfs, files: list, summary: list) -> int:
    for record, pdf in zip(records, pdfs):
        files.append(_store(archive, f"audits/{record['reference']}.pdf", pdf))
        summary.append(record["summary"])
    return len(records)


class _HashingWriter:
    """A file written in pieces beside the zip (the zip takes one open writer at a time),
    whose SHA-256 and size are kept as it goes; `close` moves it into the zip."""

    def __init__(self, archive: zipfile.ZipFile, name: str, scratch: Path):
        self.archive, self.name, self.scratch = archive, name, scratch
        self.hash, self.size = hashlib.sha256(), 0
        self.stream = scratch.open("wb")

    def write(self, data: bytes) -> None:
        self.hash.update(data)
        self.size += len(data)
        self.stream.write(data)

    def close(self) -> dict:
        self.stream.close()
        self.archive.write(self.scratch, self.name)
        self.scratch.unlink()
        return {"path": self.name, "sha256": self.hash.hexdigest(), "bytes": self.size}


def _store(archive: zipfile.ZipFile, name: str, data: bytes) -> dict:
    archive.writestr(name, data)
    return {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


class _pdf_renderer:
    """Draw PDFs in worker processes (spawned: safe from a web server's threads), or here."""

    def __init__(self, workers: int):
        self.pool = (ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
                     if workers > 1 else None)

    def __enter__(self):
        if self.pool is None:
            return lambda records: map(audit_pdf, records)
        return lambda records: self.pool.map(audit_pdf, records, chunksize=max(1, len(records) // 8))

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown()


def _summary_csv(rows: list[dict], columns: list[str] = SUMMARY_COLUMNS) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def _summary_xlsx(rows: list[dict]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Audits")
    sheet.append(SUMMARY_COLUMNS)
    for row in rows:
        sheet.append([row[column] for column in SUMMARY_COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Loader:
    """Reads the export's audits and everything about them, a chunk per short transaction."""

    def __init__(self, session_factory, filters: ExportFilters, head_seq: int):
        self.session_factory, self.head_seq, self.filters = session_factory, head_seq, filters
        start = datetime.combine(filters.start, time(), LOCAL_ZONE)
        end = datetime.combine(filters.end + timedelta(days=1), time(), LOCAL_ZONE)
        clauses = [Audit.allocated_at >= start, Audit.allocated_at < end]
        if filters.service_id is not None:
            clauses.append(Audit.service_id == filters.service_id)
        if filters.team_id is not None:
            clauses.append(Audit.team_id == filters.team_id)
        if filters.audit_type is not None:
            clauses.append(Audit.audit_type == filters.audit_type)
        with session_factory() as session:
            self.audit_ids = list(session.scalars(select(Audit.id).where(and_(*clauses))
                                                  .order_by(Audit.allocated_at, Audit.id))) \
                if filters.audits_wanted else []
            self.activity_names = activity_export.activity_names(session)
            self.names = dict(session.execute(select(User.id, User.display_name)).all())
            self.teams = dict(session.execute(select(Team.id, Team.name)).all())
            self.services = dict(session.execute(select(Service.id, Service.name)).all())
            self.anonymised = set(session.scalars(select(RetainedRecord.record_id)
                                                  .where(RetainedRecord.record_type == "audit")))

    def service_name(self, service_id):
        return self.services.get(service_id) if service_id else "All services"

    def team_name(self, team_id):
        return self.teams.get(team_id) if team_id else "All teams"

    def activity_name(self, activity):
        return self.activity_names.get(activity, activity) if activity else "All activities"

    def activities(self) -> activity_export.ActivityRecords:
        """The activities' records, read in one short transaction (there are few instances a year)."""
        with self.session_factory() as session:
            return activity_export.load_activity_records(session, self.filters.start, self.filters.end,
                                                         self.filters.activity, self.head_seq)

    def chunks(self):
        for start in range(0, len(self.audit_ids), CHUNK):
            with self.session_factory() as session:
                chunk = self._chunk(session, self.audit_ids[start:start + CHUNK])
            yield chunk  # outside the transaction: the caller writes progress between chunks

    def _chunk(self, session: Session, ids: list[int]) -> tuple[list[dict], list[dict]]:
        audits = session.scalars(select(Audit).where(Audit.id.in_(ids))).all()
        by_id = {audit.id: audit for audit in audits}
        related = {model: _grouped(session, model, ids)
                   for model in (AreaGrade, Feedback, Escalation, AuditAction, AuditFinding, AuditEvidence,
                                 AuditParticipant)}
        related["labels"] = {version_id: tool_labels(session, version_id) for version_id in
                             {row.process_version_id for model in (AuditFinding, AuditEvidence)
                              for rows in related[model].values() for row in rows}}
        reflections = {r.audit_id: r for r in session.scalars(select(Reflection).where(Reflection.audit_id.in_(ids)))}
        cases = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_({a.case_id for a in audits})))}
        trail = self._events(session, by_id)
        records = [self._record(by_id[i], cases[by_id[i].case_id], related, reflections.get(i), trail.get(i, []))
                   for i in ids]
        rows = sorted(((row, i in self.anonymised) for i in ids for row in trail.get(i, [])), key=lambda r: r[0]["seq"])
        return records, [self._event_json(row, withheld) for row, withheld in rows]

    def _events(self, session: Session, audits: dict[int, Audit]) -> dict[int, list[dict]]:
        """Every event of these audits (their process or themselves as subject), up to the chain head,
        read as plain rows with the payload parsed once."""
        by_instance = {a.instance_id: a.id for a in audits.values() if a.instance_id}
        found: dict[int, tuple[int, dict]] = {}
        queries = [Event.instance_id.in_(by_instance)] if by_instance else []
        queries.append(and_(Event.subject_type == "audit", Event.subject_id.in_([str(i) for i in audits])))
        for where in queries:
            for row in session.execute(select(Event.__table__).where(where, Event.seq <= self.head_seq)).mappings():
                event = dict(row)
                event["payload"] = json.loads(event["payload"])
                found[event["seq"]] = (by_instance.get(event["instance_id"]) or int(event["subject_id"]), event)
        submissions = submissions_by_id(session, {event["payload"]["submission_id"] for _, event in found.values()
                                                  if "submission_id" in event["payload"]})
        trail: dict[int, list[dict]] = {}
        for seq in sorted(found):
            audit_id, event = found[seq]
            submission = submissions.get(event["payload"].get("submission_id"))
            if submission is not None:  # what was submitted, checkable against the payload's answers_sha256
                event["submitted_answers"] = None if submission.anonymised_at else submission.answers
            trail.setdefault(audit_id, []).append(event)
        return trail

    def _event_json(self, event: dict, withheld: bool) -> dict:
        return {**event, "occurred_at": as_utc(event["occurred_at"]).isoformat(), "actor": self.names.get(event["actor_id"]),
                "payload": None if withheld else event["payload"], "payload_withheld": withheld,
                **({"submitted_answers": None if withheld else event["submitted_answers"]}
                   if "submitted_answers" in event else {})}

    def _record(self, audit: Audit, case: Case, related: dict, reflection, trail: list) -> dict:
        case_reference = case.reference
        anonymised = audit.id in self.anonymised
        grades = {(g.area, g.stage): g for g in related[AreaGrade].get(audit.id, [])}
        feedback = related[Feedback].get(audit.id, [])
        actions = related[AuditAction].get(audit.id, [])
        escalations = related[Escalation].get(audit.id, [])
        finding_rows = related[AuditFinding].get(audit.id, [])
        findings = arrange_findings(related["labels"][finding_rows[0].process_version_id], finding_rows,
                                    related[AuditEvidence].get(audit.id, [])) if finding_rows else []
        given = [row for row in related[AuditEvidence].get(audit.id, []) if row.contributor_id is not None]
        contributions = arrange_contributions(related["labels"][given[0].process_version_id], given, audit.worker_id,
                                              related[AuditParticipant].get(audit.id, []), self.names) if given else []
        name = self.names.get
        record = {
            "reference": audit.reference, "case_reference": case_reference, "anonymised": anonymised,
            "profile": [("Case reference", case_reference), ("Cohort", COHORTS.get(audit.cohort, audit.cohort)),
                        ("Team", self.teams[audit.team_id]), ("Service", self.services[audit.service_id]),
                        ("Type of audit", AUDIT_TYPES.get(audit.audit_type, audit.audit_type)),
                        ("Status", AUDIT_STATUSES.get(audit.status, audit.status)), *profile_rows(case)],
            "people": [("Auditor", name(audit.auditor_id)), ("Moderator", name(audit.moderator_id)),
                       ("Allocated worker", name(audit.worker_id)), ("Team manager", name(audit.team_manager_id)),
                       ("Head of service", name(audit.head_of_service_id)), ("Allocated by", name(audit.allocated_by_id))],
            "dates": [("Allocated", audit.allocated_at), ("Audit due", audit.due_on),
                      ("Moderation due", audit.moderation_due_on), ("Started", audit.started_at),
                      ("Graded", audit.graded_at), ("Moderated", audit.moderated_at), ("Closed", audit.closed_at)],
            "grades": [(label, grade_label(getattr(grades.get((area, "auditor")), "grade", None), "-"),
                        grade_label(getattr(grades.get((area, "moderator")), "grade", None), "-"),
                        getattr(grades.get((area, "auditor")), "rationale", "") or "")
                       for area, label in AREAS.items()],
            "findings": [(area["label"], question["label"], question["answer_label"],
                          question["moderated_answer_label"] or "-", evidence_text(question["evidence"]))
                         for area in findings for question in area["questions"]],
            "contributions": [(f"{person['name']} ({person['role']})", area["label"], evidence_text(area["evidence"]),
                               area["comment"] or "")
                              for person in contributions for area in person["areas"]]
            + [(f"{person['name']} ({person['role']})", "What difference the work has made for the child", "",
                person["difference_for_child"] or "") for person in contributions],
            "overall": [("What has changed for the child", " ".join(
                            filter(None, (impact_label(audit.impact), audit.impact_reason))) or None),
                        ("Auditor's overall grade", grade_label(audit.overall_grade, "Not graded")),
                        ("Auditor's rationale", audit.overall_rationale),
                        ("Moderated grade", grade_label(audit.moderated_grade, "Not moderated")),
                        ("Moderation outcome", (audit.moderation_outcome or "").capitalize()),
                        ("Moderator's rationale", audit.moderation_rationale),
                        ("Reflective discussion", audit.discussion_summary),
                        ("Learning for audit practice", audit.discussion_learning),
                        ("Strengths", audit.strengths), ("Areas for development", audit.areas_for_development),
                        ("Immediate safeguarding concern", "Yes" if audit.safeguarding_concern else "No"),
                        ("Closure", f"{audit.closure_outcome or ''} {audit.closure_notes or ''}".strip())],
            "feedback": [(f.source, f.status, f.method or "", f.feedback_date, f.rating, f.summary or "") for f in feedback],
            "reflection": None if reflection is None else [
                ("What went well", reflection.went_well), ("What I would do differently", reflection.do_differently),
                ("Learning or support needed", reflection.learning_needs),
                ("Agrees with the grade", "Yes" if reflection.agrees_with_grade else f"No: {reflection.disagreement_reason or ''}")],
            "escalations": [(e.reason, name(e.head_of_service_id), e.notified_at, e.acknowledged_at, e.immediate_actions or "")
                            for e in escalations],
            "actions": [(a.ref, a.description, AREAS.get(a.area, "Overall practice"), name(a.owner_id), a.due_on,
                         a.status, a.completed_on, a.evidence or "", a.not_completed_reason or "") for a in actions],
            "history": [(event["occurred_at"], name(event["actor_id"]) or "System", event["kind"],
                         {} if anonymised else event["payload"]) for event in trail],
            "names": {i: self.names.get(i) for i in {audit.auditor_id, audit.moderator_id, audit.worker_id,
                                                     audit.team_manager_id, audit.head_of_service_id}},
        }
        record["summary"] = self._summary(audit, case_reference, grades, feedback, actions, escalations, anonymised)
        return record

    def _summary(self, audit, case_reference, grades, feedback, actions, escalations, anonymised) -> dict:
        statuses = {f.source: f.status for f in feedback}
        notified = min((e.notified_at for e in escalations), default=None)
        row = {"audit": audit.reference, "case_reference": case_reference, "audit_type": audit.audit_type,
               "cohort": audit.cohort, "service": self.services[audit.service_id], "team": self.teams[audit.team_id],
               "status": audit.status, "allocated_on": _day(audit.allocated_at), "due_on": audit.due_on.isoformat(),
               "graded_on": _day(audit.graded_at), "moderated_on": _day(audit.moderated_at),
               "closed_on": _day(audit.closed_at), "auditor_grade": audit.overall_grade or "",
               "moderated_grade": audit.moderated_grade or "", "moderation_outcome": audit.moderation_outcome or "",
               "feedback_child": statuses.get("child", ""), "feedback_family": statuses.get("family", ""),
               "feedback_professionals": statuses.get("professionals", ""), "actions": len(actions),
               "actions_completed": sum(a.status == "completed" for a in actions),
               "actions_open": sum(a.status in ("not_started", "in_progress") for a in actions),
               "head_of_service_notified": _day(notified), "anonymised": "yes" if anonymised else "no"}
        for area in AREAS:
            row[f"{area}_auditor"] = getattr(grades.get((area, "auditor")), "grade", "")
            row[f"{area}_moderated"] = getattr(grades.get((area, "moderator")), "grade", "")
        return row


def _grouped(session: Session, model, ids: list[int]) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in session.scalars(select(model).where(model.audit_id.in_(ids)).order_by(model.id)):
        grouped.setdefault(row.audit_id, []).append(row)
    return grouped


def _day(moment: datetime | None) -> str:
    return as_utc(moment).astimezone(LOCAL_ZONE).date().isoformat() if moment else ""
