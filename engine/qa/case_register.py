"""Importing the open-case register exported from the case management system.

A file (CSV or XLSX) lists one open case per row: case reference, cohort, team,
allocated worker (username or email), date opened, and optionally the age band and
the case profile (engine/qa/case_profile.py: legal status, placement moves, missing
episodes, disability, first language, referrals, s47 enquiries). Every row is checked
before anything is written: a file with bad rows changes nothing unless the importer
asks for the good rows only. Importing the same file twice changes nothing; a changed
worker, team or profile value updates the case; a profile column the file leaves out
leaves what is stored, a blank cell clears it. A file with a column that looks like a
child's name or date of birth is refused whole.
"""
from dataclasses import dataclass, field
from typing import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.qa import case_references
from engine.qa.case_profile import PROFILE_ALIASES, PROFILE_COLUMNS, identifying_column, parse_profile
from engine.qa.models import COHORTS, Case, Team
from engine import spreadsheet_rows
from engine.runtime import events
from engine.spreadsheet_rows import SpreadsheetFormatError as RegisterFormatError, parse_date  # noqa: F401

COLUMNS = ("case_reference", "cohort", "team", "worker", "opened_on")
OPTIONAL_COLUMNS = ("age_band", *PROFILE_COLUMNS)
COHORT_BY_LABEL = {label.lower(): key for key, label in COHORTS.items()} | {key: key for key in COHORTS}
PROGRESS_EVERY = 200


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    applied: bool = False


def read_rows(filename: str, content: bytes) -> Iterator[tuple[int, dict]]:
    """(line number, row) pairs of a register file; the header is line 1."""
    return spreadsheet_rows.read_rows(filename, content, COLUMNS, aliases=PROFILE_ALIASES | {
        column: column for column in PROFILE_COLUMNS}, refused=_identifying)


def _identifying(header: str) -> str | None:
    if identifying_column(header):
        return (f"The column '{header.strip()}' looks like a child's name or date of birth. The register never "
                "holds names or dates of birth: remove the column and import the file again.")
    return None


def import_register(session: Session, filename: str, content: bytes, *, actor_id: int | None,
                    apply_good_rows: bool = False,
                    progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check every row, then apply the file (or only its good rows when asked)."""
    rows = list(read_rows(filename, content))
    report = ImportReport(rows=len(rows))
    teams = {t.name.lower(): t for t in session.scalars(select(Team))}
    people = {}
    for user in session.scalars(select(User).where(User.active.is_(True))):
        people[user.username.lower()] = user
        if user.email:
            people[user.email.lower()] = user
    existing = {c.reference: c for c in session.scalars(select(Case))}
    seen: dict[str, int] = {}
    changes = []
    for index, (line, row) in enumerate(rows, start=1):
        parsed, problem = _parse(row, teams, people)
        if problem is None and parsed["reference"] in seen:
            problem = f"case {parsed['reference']} is already on line {seen[parsed['reference']]}"
        if problem:
            report.errors.append((line, problem))
        else:
            seen[parsed["reference"]] = line
            changes.append(parsed)
        if progress and index % PROGRESS_EVERY == 0:
            progress(index, len(rows))
    if report.errors and not apply_good_rows:
        return report
    for parsed in changes:
        _apply(session, existing, parsed, report)
    report.applied = True
    if progress:
        progress(len(rows), len(rows))
    events.record(session, "case_register.imported", actor_id=actor_id, payload={
        "file": filename, "rows": report.rows, "created": report.created, "updated": report.updated,
        "unchanged": report.unchanged, "rejected_lines": [line for line, _ in report.errors]})
    return report


def cases_needing_a_worker(session: Session) -> list[tuple[Case, User | None]]:
    """Open cases whose allocated worker has left (deactivated) or who have none, with that worker."""
    return list(session.execute(
        select(Case, User).outerjoin(User, User.id == Case.worker_id)
        .where(Case.status == "open", (Case.worker_id.is_(None)) | (User.active.is_(False)))
        .order_by(Case.reference)).all())


def _parse(row: dict, teams: dict, people: dict) -> tuple[dict | None, str | None]:
    reference = case_references.normalised(row.get("case_reference", ""))
    if problem := case_references.reference_problem(reference):
        return None, problem
    cohort = COHORT_BY_LABEL.get(str(row.get("cohort", "")).strip().lower())
    if cohort is None:
        return None, f"'{row.get('cohort')}' is not a known cohort ({', '.join(COHORTS.values())})"
    team = teams.get(str(row.get("team", "")).strip().lower())
    if team is None:
        return None, f"there is no team called '{row.get('team')}'"
    worker = people.get(str(row.get("worker", "")).strip().lower())
    if worker is None:
        return None, f"there is no active member of staff '{row.get('worker')}'"
    opened_on = parse_date(row.get("opened_on"))
    if opened_on is None:
        return None, f"'{row.get('opened_on')}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)"
    profile, problem = parse_profile(row, set(row))
    if problem:
        return None, problem
    return {"reference": reference, "cohort": cohort, "team_id": team.id, "worker_id": worker.id,
            "opened_on": opened_on, "age_band": str(row.get("age_band") or "").strip()[:20], **profile}, None


def _apply(session: Session, existing: dict, parsed: dict, report: ImportReport) -> None:
    case = existing.get(parsed["reference"])
    if case is None:
        session.add(Case(**{key: value for key, value in parsed.items() if key != "reference"},
                         reference=parsed["reference"], status="open"))
        report.created += 1
        return
    wanted = {key: value for key, value in parsed.items() if key != "reference"}
    wanted["status"] = "open"
    before = {key: getattr(case, key) for key in wanted}
    if before == wanted:
        report.unchanged += 1
        return
    for key, value in wanted.items():
        setattr(case, key, value)
    report.updated += 1
