"""The inspector export's records of the activities other than the case file audit.

Thematic audits, dip samples, practice weeks, multi-agency audits, the annual report (and
any process a process owner publishes) run as process instances. The export carries, for
the instances started in its period: a summary row per instance (activities/summary.csv),
every event of those instances with its hash (activities/events.json), and the thematic
and annual reports as PDF, so an inspector sees each activity as the case file audits are
seen. Case file audits themselves are exported audit by audit (engine/qa/trail_export.py).
"""
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import LOCAL_ZONE
from engine.database import as_utc
from engine.email_delivery import DEFAULT_COUNCIL_NAME
from engine.qa.activity_pdf import annual_report_pdf, thematic_pdf
from engine.qa.annual_report import SECTIONS
from engine.qa.thematic import thematic_report
from engine.qa.thematic_models import AnnualReport, ThematicAudit
from engine.runtime.models import Event, ProcessInstance, ProcessVersion
from engine.runtime.submissions import submissions_by_id

CASE_FILE_AUDIT = "case_file_audit"
SUMMARY_COLUMNS = ["activity", "activity_name", "instance", "reference", "status", "started_on", "ended_on", "events"]


def activity_names(session: Session) -> dict[str, str]:
    """Every published process by key, with its name as its newest version gives it: the choices
    of the export's activity filter."""
    newest = select(ProcessVersion.process_key, func.max(ProcessVersion.id).label("id")) \
        .group_by(ProcessVersion.process_key).subquery()
    rows = session.execute(select(ProcessVersion.process_key, ProcessVersion.manifest)
                           .join(newest, ProcessVersion.id == newest.c.id)).all()
    return dict(sorted(((key, manifest.get("name") or key) for key, manifest in rows), key=lambda item: item[1]))


@dataclass
class ActivityRecords:
    """What the export holds of the activities: rows for the summary, events, and files (name, bytes)."""
    summary: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)


def load_activity_records(session: Session, start: date, end: date, activity: str | None,
                          head_seq: int) -> ActivityRecords:
    """The instances of `activity` (or of every activity but the case file audit) started from
    `start` to `end`, with their events up to the chain head the export began at."""
    records = ActivityRecords()
    if activity == CASE_FILE_AUDIT:
        return records
    names = activity_names(session)
    clauses = [ProcessInstance.started_at >= datetime.combine(start, time(), LOCAL_ZONE),
               ProcessInstance.started_at < datetime.combine(end + timedelta(days=1), time(), LOCAL_ZONE),
               ProcessInstance.process_key == activity if activity else ProcessInstance.process_key != CASE_FILE_AUDIT]
    instances = session.scalars(select(ProcessInstance).where(*clauses)
                                .order_by(ProcessInstance.started_at, ProcessInstance.id)).all()
    if not instances:
        return records
    ids = [instance.id for instance in instances]
    records.events = _events(session, ids, head_seq)
    counts: dict[int, int] = {}
    for event in records.events:
        counts[event["instance_id"]] = counts.get(event["instance_id"], 0) + 1
    records.summary = [{"activity": i.process_key, "activity_name": names.get(i.process_key, i.process_key),
                        "instance": i.id, "reference": i.business_key, "status": i.status,
                        "started_on": _day(i.started_at), "ended_on": _day(i.ended_at), "events": counts.get(i.id, 0)}
                       for i in instances]
    records.files = _report_pdfs(session, ids)
    return records


def _events(session: Session, instance_ids: list[int], head_seq: int) -> list[dict]:
    """The instances' events as plain rows, in chain order, with what each submission held."""
    rows = []
    for row in session.execute(select(Event.__table__).where(Event.instance_id.in_(instance_ids),
                                                             Event.seq <= head_seq).order_by(Event.seq)).mappings():
        event = dict(row)
        event["payload"] = json.loads(event["payload"])
        rows.append(event)
    submissions = submissions_by_id(session, {e["payload"]["submission_id"] for e in rows
                                              if "submission_id" in e["payload"]})
    for event in rows:
        submission = submissions.get(event["payload"].get("submission_id"))
        if submission is not None:
            event["submitted_answers"] = None if submission.anonymised_at else submission.answers
    return rows


def _report_pdfs(session: Session, instance_ids: list[int]) -> list[tuple[str, bytes]]:
    """The thematic reports and annual reports these instances wrote, drawn as their pages draw them."""
    council = os.environ.get("QA_COUNCIL_NAME", DEFAULT_COUNCIL_NAME)
    files = [(f"activities/thematic_audit/{row.reference}.pdf", thematic_pdf(thematic_report(session, row), council))
             for row in session.scalars(select(ThematicAudit).where(ThematicAudit.instance_id.in_(instance_ids))
                                        .order_by(ThematicAudit.id))]
    for report in session.scalars(select(AnnualReport).where(AnnualReport.instance_id.in_(instance_ids))
                                  .order_by(AnnualReport.id)):
        signer = session.get(User, report.signed_off_by_id) if report.signed_off_by_id else None
        files.append((f"activities/annual_report/{report.reference}.pdf",
                      annual_report_pdf(report, SECTIONS, signer.display_name if signer else None, council)))
    return files


def _day(moment: datetime | None) -> str:
    return as_utc(moment).astimezone(LOCAL_ZONE).date().isoformat() if moment else ""
