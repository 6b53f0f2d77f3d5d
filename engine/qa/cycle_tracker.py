"""The audit allocation tracker of one cycle: who audits which case, when, and how it stands.

The QA framework's "audit allocation tracker" (section 7, step 1) as a query over
the audits a cycle started, scoped to what the reader may see (engine.qa.access):
the QA team and senior leaders see every row, a head of service their service's,
a team manager their team's and the audits they do. Reading it and exporting it
(XLSX or CSV) are recorded in the audit trail, with the number of rows.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import LOCAL_ZONE, clock
from engine.database import as_utc
from engine.qa.access import audit_scope
from engine.qa.cycle_models import AuditCycle
from engine.qa.grading_scale import grade_label
from engine.qa.models import AUDIT_STATUSES, Audit, Team
from engine.runtime import events

COLUMNS = (
    ("case", "Case reference"), ("audit", "Audit"), ("team", "Team"), ("auditor", "Auditor"),
    ("worker", "Allocated worker"), ("team_manager", "Team manager"), ("moderator", "Moderator"),
    ("allocated", "Allocated"), ("due", "Audit due"), ("completed", "Audit completed"),
    ("moderation_due", "Moderation due"), ("moderated", "Moderated"), ("status", "Status"),
    ("grade", "Auditor's grade"), ("moderated_grade", "Moderated grade"),
)
EXPORT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class TrackerRow:
    audit_id: int
    values: dict  # column key -> value: text, a date, or None
    overdue: str | None  # "audit" or "moderation" when that stage is past due and not done


def tracker_rows(session: Session, cycle: AuditCycle, reader: User) -> list[TrackerRow]:
    """The cycle's audits the reader may see, in case reference order (nothing is recorded)."""
    audits = session.scalars(select(Audit).where(Audit.cycle_id == cycle.id, audit_scope(reader))
                             .order_by(Audit.reference)).all()
    people = _names(session, {getattr(audit, f"{part}_id") for audit in audits
                              for part in ("auditor", "worker", "team_manager", "moderator")})
    teams = {team.id: team.name for team in session.scalars(select(Team))}
    today = clock.today()
    return [TrackerRow(audit.id, {
        "case": audit.case.reference, "audit": audit.reference, "team": teams.get(audit.team_id, ""),
        "auditor": people.get(audit.auditor_id), "worker": people.get(audit.worker_id),
        "team_manager": people.get(audit.team_manager_id), "moderator": people.get(audit.moderator_id),
        "allocated": _day(audit.allocated_at), "due": audit.due_on, "completed": _day(audit.graded_at),
        "moderation_due": audit.moderation_due_on, "moderated": _day(audit.moderated_at),
        "status": AUDIT_STATUSES.get(audit.status, audit.status),
        "grade": grade_label(audit.overall_grade, ""), "moderated_grade": grade_label(audit.moderated_grade, ""),
    }, _overdue(audit, today)) for audit in audits]


def read_tracker(session: Session, cycle: AuditCycle, reader: User) -> list[TrackerRow]:
    """The tracker as the page shows it; the read is recorded (it lists children's cases)."""
    rows = tracker_rows(session, cycle, reader)
    events.record(session, "cycle.tracker_viewed", actor_id=reader.id, subject=("audit_cycle", cycle.id),
                  payload={"cycle": cycle.number, "rows": len(rows)})
    return rows


def export_tracker(session: Session, cycle: AuditCycle, reader: User, kind: str) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of the tracker as XLSX or CSV; the export is recorded."""
    if kind not in EXPORT_TYPES:
        raise ValueError(f"Unknown export type '{kind}'")
    rows = tracker_rows(session, cycle, reader)
    content = _xlsx(cycle, rows) if kind == "xlsx" else _csv(rows)
    events.record(session, "cycle.tracker_exported", actor_id=reader.id, subject=("audit_cycle", cycle.id),
                  payload={"cycle": cycle.number, "format": kind, "rows": len(rows)})
    return f"cycle-{cycle.number}-allocation-tracker.{kind}", EXPORT_TYPES[kind], content


def _xlsx(cycle: AuditCycle, rows: list[TrackerRow]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"Cycle {cycle.number}"
    sheet.append([label for _, label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.values[key] for key, _ in COLUMNS])
    for index, (key, _) in enumerate(COLUMNS, start=1):
        if key in ("allocated", "due", "completed", "moderation_due", "moderated"):
            for cell in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell[0].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[TrackerRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow(["" if row.values[key] is None else str(row.values[key]) for key, _ in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the UTF-8


def _overdue(audit: Audit, today: date) -> str | None:
    if audit.graded_at is None and audit.due_on < today:
        return "audit"
    if audit.graded_at is not None and audit.moderated_at is None and audit.moderation_due_on < today:
        return "moderation"
    return None


def _day(moment: datetime | None) -> date | None:
    return as_utc(moment).astimezone(LOCAL_ZONE).date() if moment else None


def _names(session: Session, user_ids: set[int]) -> dict[int, str]:
    return {user.id: user.display_name for user in session.scalars(select(User).where(User.id.in_(user_ids)))}
