"""Compliments and complaints as intelligence: entered one by one or imported from the
complaints system's export (CSV/XLSX), counted by theme beside the audit findings.

Imports work as the case register's do: every bad row is named by line, nothing is written
unless every row is good (or the good rows only are asked for), and the same file twice
changes nothing, since each row carries the complaints system's reference.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.spreadsheet_rows import parse_date, read_rows
from engine.qa.complaints_models import ComplimentOrComplaint
from engine.qa.models import Service, Team
from engine.runtime import events

KINDS = {"compliment": "Compliment", "complaint": "Complaint"}
THEMES = {
    "communication": "Communication and keeping people informed",
    "timeliness": "Delays and timeliness",
    "listening": "Being listened to",
    "decisions": "Decisions and how they were explained",
    "worker_changes": "Changes of worker",
    "assessment_quality": "Quality of assessment",
    "family_time": "Contact and family time",
    "placement": "Placements and where children live",
    "information_sharing": "Information sharing and records",
    "staff_conduct": "Staff attitude and conduct",
    "support_offered": "Support offered",
    "other": "Other",
}
STAGES = {"informal": "Informal resolution", "stage_1": "Stage 1", "stage_2": "Stage 2 (investigation)",
          "stage_3": "Stage 3 (review panel)", "ombudsman": "Local Government Ombudsman"}
OUTCOMES = {"open": "Open", "upheld": "Upheld", "partly_upheld": "Partly upheld", "not_upheld": "Not upheld",
            "withdrawn": "Withdrawn"}
IMPORT_COLUMNS = ("reference", "type", "received", "service", "theme")
OPTIONAL_IMPORT_COLUMNS = ("team", "stage", "outcome", "learning")
RECORDERS = ("qa_lead", "qa_officer")
READERS = RECORDERS + ("principal_social_worker", "assistant_director", "director", "head_of_service")


class LogEntryError(ValueError):
    """An entry that cannot be recorded as given; `field` names the answer to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class LogImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    applied: bool = False


def can_read(user: User) -> bool:
    return user.has_role(*READERS)


def can_record(user: User) -> bool:
    return user.has_role(*RECORDERS)


def record_entry(session: Session, user: User, answers: dict) -> ComplimentOrComplaint:
    """Add one compliment or complaint typed in on the page."""
    _check_recorder(user)
    parsed = _parse(answers, _lookups(session))
    if isinstance(parsed, LogEntryError):
        raise parsed
    if session.scalar(select(ComplimentOrComplaint.id).where(ComplimentOrComplaint.reference == parsed["reference"])):
        raise LogEntryError("reference", f"{parsed['reference']} is already in the log.")
    entry = ComplimentOrComplaint(**parsed, recorded_by_id=user.id, recorded_at=clock.now())
    session.add(entry)
    session.flush()
    events.record(session, "complaints_log.recorded", actor_id=user.id, subject=("complaints_log", entry.id),
                  payload={"reference": entry.reference, "kind": entry.kind, "theme": entry.theme})
    return entry


def import_log(session: Session, user: User, filename: str, content: bytes,
               apply_good_rows: bool = False) -> LogImportReport:
    """Check every row of an export, then apply it (or its good rows only, when asked)."""
    _check_recorder(user)
    rows = list(read_rows(filename, content, IMPORT_COLUMNS))
    report = LogImportReport(rows=len(rows))
    lookups = _lookups(session)
    seen: dict[str, int] = {}
    good = []
    for line, row in rows:
        parsed = _parse({"reference": row.get("reference"), "kind": row.get("type"), "received_on": row.get("received"),
                         "service": row.get("service"), "team": row.get("team"), "theme": row.get("theme"),
                         "stage": row.get("stage"), "outcome": row.get("outcome"), "learning": row.get("learning")},
                        lookups)
        if not isinstance(parsed, LogEntryError) and parsed["reference"] in seen:
            parsed = LogEntryError("reference", f"{parsed['reference']} is already on line {seen[parsed['reference']]}")
        if isinstance(parsed, LogEntryError):
            report.errors.append((line, str(parsed)))
            continue
        seen[parsed["reference"]] = line
        good.append(parsed)
    if report.errors and not apply_good_rows:
        return report
    existing = {entry.reference: entry for entry in session.scalars(select(ComplimentOrComplaint))}
    for parsed in good:
        entry = existing.get(parsed["reference"])
        if entry is None:
            session.add(ComplimentOrComplaint(**parsed, recorded_by_id=user.id, recorded_at=clock.now()))
            report.created += 1
        elif all(getattr(entry, key) == value for key, value in parsed.items()):
            report.unchanged += 1
        else:
            for key, value in parsed.items():
                setattr(entry, key, value)
            report.updated += 1
    report.applied = True
    events.record(session, "complaints_log.imported", actor_id=user.id, payload={
        "file": filename, "rows": report.rows, "created": report.created, "updated": report.updated,
        "unchanged": report.unchanged, "rejected_lines": [line for line, _ in report.errors]})
    return report


def read_entries(session: Session, user: User, kind: str | None = None, theme: str | None = None,
                 service_id: int | None = None, limit: int = 500) -> list[ComplimentOrComplaint]:
    """The log as `user` may read it (a head of service: their own service), newest first;
    the read is recorded like every other."""
    events.record(session, "complaints_log.viewed", actor_id=user.id,
                  payload={"kind": kind, "theme": theme, "service_id": service_id})
    query = select(ComplimentOrComplaint).where(_scope(user), _filters(kind, theme, service_id))
    return list(session.scalars(query.order_by(ComplimentOrComplaint.received_on.desc()).limit(limit)))


def themes_summary(session: Session, start: date, end: date, service_id: int | None = None,
                   team_id: int | None = None, reader: User | None = None) -> list[dict]:
    """Per theme between `start` and `end` (both included): compliments, complaints, and
    complaints upheld in whole or part: the intelligence reports set beside audit findings.
    With `reader`, only what they may read (a head of service: their own service)."""
    where = and_(ComplimentOrComplaint.received_on >= start, ComplimentOrComplaint.received_on <= end,
                 _filters(None, None, service_id), _scope(reader) if reader else true())
    if team_id:
        where = and_(where, ComplimentOrComplaint.team_id == team_id)
    counts = session.execute(select(ComplimentOrComplaint.theme, ComplimentOrComplaint.kind,
                                    ComplimentOrComplaint.outcome, func.count())
                             .where(where).group_by(ComplimentOrComplaint.theme, ComplimentOrComplaint.kind,
                                                    ComplimentOrComplaint.outcome)).all()
    table = {}
    for theme, kind, outcome, count in counts:
        row = table.setdefault(theme, {"theme": theme, "label": THEMES.get(theme, theme), "compliments": 0,
                                       "complaints": 0, "upheld": 0})
        row["compliments" if kind == "compliment" else "complaints"] += count
        if kind == "complaint" and outcome in ("upheld", "partly_upheld"):
            row["upheld"] += count
    return sorted(table.values(), key=lambda row: (-row["complaints"], -row["compliments"], row["label"]))


# A theme in the log can be looked at more closely: the process started, and the start form's
# fields a link fills in from the theme's row (the starter checks them before starting).
COMMISSIONS = {"thematic_audit": ("Commission a thematic audit", "theme", "why_now_detail"),
               "dip_sample": ("Dip sample", None, "focus")}


def commission_links(row: dict, startable_keys: set[str]) -> list[tuple[str, str, dict]]:
    """For one row of `themes_summary`, what `startable_keys` allow to be started about it:
    (the link's words, the process key, the start form's suggested answers). A thematic audit
    is commissioned on the theme with its figures as what prompted it; a dip sample looks at
    the theme's complaints."""
    figures = (f"Complaints: {row['complaints']} in 12 months, {row['upheld']} upheld in whole or part; "
               f"compliments: {row['compliments']}")
    links = []
    for key, (words, theme_field, reason_field) in COMMISSIONS.items():
        if key not in startable_keys:
            continue
        answers = {theme_field: row["label"], reason_field: figures} if theme_field else \
            {reason_field: f"{row['label']}. {figures}"}
        links.append((words, key, answers))
    return links


def _scope(user: User):
    if user.has_role(*(role for role in READERS if role != "head_of_service")):
        return ComplimentOrComplaint.id.isnot(None)
    return ComplimentOrComplaint.service_id.in_(select(Service.id).where(Service.head_of_service_id == user.id))


def _filters(kind, theme, service_id):
    clauses = [ComplimentOrComplaint.id.isnot(None)]
    if kind:
        clauses.append(ComplimentOrComplaint.kind == kind)
    if theme:
        clauses.append(ComplimentOrComplaint.theme == theme)
    if service_id:
        clauses.append(ComplimentOrComplaint.service_id == service_id)
    return and_(*clauses)


def _lookups(session: Session) -> dict:
    return {"services": {s.name.lower(): s for s in session.scalars(select(Service))},
            "teams": {t.name.lower(): t for t in session.scalars(select(Team))}}


def _parse(answers: dict, lookups: dict) -> dict | LogEntryError:
    """The entry's columns from answers typed or imported, or the first problem with them."""
    text = {key: str(value if value is not None else "").strip() for key, value in answers.items()}
    reference = text.get("reference", "").upper()
    if not reference or len(reference) > 40:
        return LogEntryError("reference", "Enter the complaints system's reference (up to 40 characters).")
    kind = _key(text.get("kind"), KINDS)
    if kind is None:
        return LogEntryError("kind", "Say whether it is a compliment or a complaint.")
    received_on = parse_date(answers.get("received_on"))
    if received_on is None:
        return LogEntryError("received_on", "Enter the date it was received, like 2026-11-03 or 03/11/2026.")
    if received_on > clock.today():
        return LogEntryError("received_on", "The date received cannot be in the future.")
    service = lookups["services"].get(text.get("service", "").lower())
    if service is None:
        return LogEntryError("service", f"There is no service called '{text.get('service', '')}'.")
    team = None
    if text.get("team"):
        team = lookups["teams"].get(text["team"].lower())
        if team is None or team.service_id != service.id:
            return LogEntryError("team", f"There is no team called '{text['team']}' in {service.name}.")
    theme = _key(text.get("theme"), THEMES)
    if theme is None:
        return LogEntryError("theme", f"'{text.get('theme', '')}' is not a known theme ({', '.join(THEMES.values())}).")
    stage = outcome = None
    if kind == "complaint":
        stage = _key(text.get("stage"), STAGES)
        outcome = _key(text.get("outcome") or "open", OUTCOMES)
        if stage is None:
            return LogEntryError("stage", f"A complaint needs its stage ({', '.join(STAGES.values())}).")
        if outcome is None:
            return LogEntryError("outcome", f"'{text.get('outcome')}' is not a known outcome ({', '.join(OUTCOMES.values())}).")
    return {"reference": reference, "kind": kind, "received_on": received_on, "service_id": service.id,
            "team_id": team.id if team else None, "theme": theme, "stage": stage, "outcome": outcome,
            "learning": text.get("learning", "")[:4000]}


def _key(value: str | None, choices: dict[str, str]) -> str | None:
    """A choice given by its key or its label, in any case."""
    wanted = (value or "").strip().lower()
    for key, label in choices.items():
        if wanted in (key, label.lower(), key.replace("_", " ")):
            return key
    return None


def _check_recorder(user: User) -> None:
    if not can_record(user):
        raise PermissionError("Only the QA team records compliments and complaints.")
