"""Importing the staff list an HR system or Active Directory exports (CSV or XLSX).

One row per person: employee id, display name, mail, username (or userPrincipalName),
job title, team (or department), and optionally the manager's email, roles (separated by
; or ,), start date and leaving date. The import makes its changes through the
organisation service, as an administrator would by hand, so the same rules hold and the
same events are written.

Every row is tried first inside a savepoint that is then rolled back: the preview lists
exactly what applying would do (who joins, who moves team, who leaves, whose roles or
details change) and every bad row by line, with the service's own messages. Nothing is
applied unless asked, and a file with bad rows only with "good rows only". People are
matched by employee id, then username, then email, so importing the same file again
changes nothing. Someone missing from the file is left alone (an export may be partial):
a leaver is someone whose leaving date has passed (a future one is kept,
and the scheduler deactivates them the day after it). Roles left blank stay as managed in the
product; the system administrator role is never granted or removed by import.
"""
from dataclasses import dataclass, field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accounts import ROLES, User
from engine.clock import clock
from engine.organisation import directory
from engine.organisation.directory import PersonDetails
from engine.qa.models import Team
from engine.runtime import events
from engine.runtime.errors import WorkflowError
from engine.spreadsheet_rows import SpreadsheetFormatError, parse_date, read_rows

COLUMNS = ("employee_id", "display_name", "email", "username", "job_title", "team")
OPTIONAL_COLUMNS = ("manager_email", "roles", "start_date", "leaving_date")
ALIASES = {"employeeid": "employee_id", "employee_number": "employee_id", "displayname": "display_name",
           "name": "display_name", "mail": "email", "userprincipalname": "username", "samaccountname": "username",
           "title": "job_title", "jobtitle": "job_title", "department": "team", "manager": "manager_email",
           "managermail": "manager_email", "startdate": "start_date", "leavingdate": "leaving_date",
           "enddate": "leaving_date"}
ROLE_BY_LABEL = {label.lower(): key for key, label in ROLES.items()} | {key: key for key in ROLES}
NOT_IMPORTED_ROLES = {directory.ADMINISTRATOR}
CHANGE_KINDS = {"joins": "Joining", "moves": "Moving team", "leaves": "Leaving", "roles": "Roles changing",
                "details": "Details changing"}

__all__ = ["SpreadsheetFormatError", "StaffImportReport", "import_staff"]


@dataclass
class StaffImportReport:
    rows: int = 0
    changes: list[tuple[int, str, str]] = field(default_factory=list)  # (line, kind, what)
    errors: list[tuple[int, str]] = field(default_factory=list)
    applied: bool = False

    def of_kind(self, kind: str) -> list[tuple[int, str]]:
        return [(line, what) for line, change_kind, what in self.changes if change_kind == kind]

    @property
    def unchanged(self) -> int:
        changed_lines = {line for line, _, _ in self.changes}
        bad_lines = {line for line, _ in self.errors}
        return self.rows - len(changed_lines | bad_lines)


def import_staff(session: Session, filename: str, content: bytes, *, by: User | None, apply: bool = False,
                 good_rows_only: bool = False) -> StaffImportReport:
    """Preview the file's changes; with `apply`, make them (all, or the good rows when asked).

    `by` must be a system administrator (None: the system itself, from the command line).
    Raises SpreadsheetFormatError when the file cannot be read at all."""
    directory.require_manager(by)
    rows = list(read_rows(filename, content, COLUMNS, ALIASES))
    preview = _try(session, rows, by, keep=False)
    if not apply or (preview.errors and not good_rows_only):
        return preview
    bad_lines = {line for line, _ in preview.errors}
    report = _try(session, [(line, row) for line, row in rows if line not in bad_lines], by, keep=True)
    report.rows, report.errors = preview.rows, preview.errors + report.errors
    report.applied = True
    events.record(session, "staff_import.applied", actor_id=by.id if by else None, payload={
        "file": filename, "rows": report.rows, "rejected_lines": sorted({line for line, _ in report.errors}),
        **{kind: len(report.of_kind(kind)) for kind in CHANGE_KINDS}})
    return report


def _try(session: Session, rows: list[tuple[int, dict]], by: User | None, *, keep: bool) -> StaffImportReport:
    """Make every row's changes, each row in its own savepoint so a refused row changes nothing;
    unless `keep`, undo the lot afterwards (and forget its events): that is the preview."""
    report = StaffImportReport(rows=len(rows))
    mark = events.pending_count(session)
    outer = session.begin_nested()
    try:
        people_by_line = {}
        seen: dict[tuple[str, str], int] = {}
        for line, row in rows:
            person = _row_in_savepoint(session, report, line, lambda: _apply_row(session, by, line, row, seen, report))
            if person is not None:
                people_by_line[line] = person
        for line, row in rows:
            if line in people_by_line and str(row.get("manager_email") or "").strip():
                _row_in_savepoint(session, report, line,
                                  lambda: _set_line_manager(session, by, people_by_line[line], row, report, line))
    finally:
        if keep:
            outer.commit()
        else:
            outer.rollback()
            events.discard_since(session, mark)
    return report


def _row_in_savepoint(session: Session, report: StaffImportReport, line: int, work):
    mark, changes = events.pending_count(session), len(report.changes)
    savepoint = session.begin_nested()
    try:
        result = work()
    except (WorkflowError, RowError) as refused:
        savepoint.rollback()
        events.discard_since(session, mark)
        del report.changes[changes:]
        report.errors.append((line, "; ".join(getattr(refused, "by_field", {"": str(refused)}).values())))
        return None
    savepoint.commit()
    return result


class RowError(ValueError):
    """A row the import itself cannot read (as opposed to one the organisation service refuses)."""


def _apply_row(session: Session, by: User | None, line: int, row: dict, seen: dict,
               report: StaffImportReport) -> User:
    wanted = _parse(session, row)
    for key in ("employee_id", "username", "email"):
        value = getattr(wanted["details"], key)
        if value and (key, value.lower()) in seen:
            raise RowError(f"the {key.replace('_', ' ')} {value} is already on line {seen[(key, value.lower())]}")
    for key in ("employee_id", "username", "email"):
        value = getattr(wanted["details"], key)
        if value:
            seen[(key, value.lower())] = line
    person = _match(session, wanted["details"])
    reason = f"Staff import, line {line}"
    details, roles, leaving = wanted["details"], wanted["roles"], wanted["leaving"]
    if person is None:
        person, _ = directory.create_person(session, by, details, sorted(roles or ()), reason=reason)
        report.changes.append((line, "joins", f"{details.display_name} ({details.username})"))
        if leaving:
            directory.deactivate_person(session, by, person.id, reason, leaving_on=details.active_to)
        return person
    name = person.display_name
    if details.team_id != person.team_id and details.team_id is not None:
        directory.move_person(session, by, person.id, details.team_id, reason)
        report.changes.append((line, "moves", f"{name} to {session.get(Team, details.team_id).name}"))
    details.team_id, details.line_manager_id = person.team_id, person.line_manager_id
    differences = _differences(person, details)
    if differences:
        directory.change_person(session, by, person.id, None, details)
        report.changes.append((line, "details", f"{name}: {', '.join(differences)}"))
    if roles is not None:
        _sync_roles(session, by, person, roles, reason, report, line)
    if leaving and person.active:
        directory.deactivate_person(session, by, person.id, reason, leaving_on=details.active_to)
        report.changes.append((line, "leaves", f"{name} (leaving date {details.active_to:%d/%m/%Y})"))
    return person


def _sync_roles(session: Session, by, person: User, roles: set[str], reason: str, report, line: int) -> None:
    held = person.roles - NOT_IMPORTED_ROLES
    added, removed = sorted(roles - held), sorted(held - roles)
    for role in added:
        directory.grant_role(session, by, person.id, role, reason)
    for role in removed:
        directory.remove_role(session, by, person.id, role, reason)
    if added or removed:
        what = [f"gains {ROLES[role]}" for role in added] + [f"loses {ROLES[role]}" for role in removed]
        report.changes.append((line, "roles", f"{person.display_name}: {', '.join(what)}"))


def _set_line_manager(session: Session, by, person: User, row: dict, report, line: int) -> None:
    email = str(row.get("manager_email")).strip().lower()
    manager = session.scalar(select(User).where(func.lower(User.email) == email))
    if manager is None:
        raise RowError(f"there is no member of staff with the email {email} to be the line manager")
    if manager.id == person.line_manager_id:
        return
    details = PersonDetails(**{key: getattr(person, key) for key in PersonDetails.__dataclass_fields__})
    details.line_manager_id = manager.id
    directory.change_person(session, by, person.id, None, details)
    if not any(entry[0] == line and entry[1] == "joins" for entry in report.changes):
        report.changes.append((line, "details", f"{person.display_name}: line manager {manager.display_name}"))


def _parse(session: Session, row: dict) -> dict:
    text = {key: str(row.get(key) or "").strip() for key in COLUMNS + OPTIONAL_COLUMNS}
    for key in ("employee_id", "display_name", "email", "username"):
        if not text[key]:
            raise RowError(f"the {key.replace('_', ' ')} is missing")
    team = session.scalar(select(Team).where(func.lower(Team.name) == text["team"].lower())) if text["team"] else None
    if text["team"] and team is None:
        raise RowError(f"there is no team called '{text['team']}'")
    dates = {}
    for key in ("start_date", "leaving_date"):
        dates[key] = parse_date(row.get(key)) if text[key] else None
        if text[key] and dates[key] is None:
            raise RowError(f"'{text[key]}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
    roles = None
    if text["roles"]:
        names = [part.strip().lower() for part in text["roles"].replace(";", ",").split(",") if part.strip()]
        unknown = [name for name in names if name not in ROLE_BY_LABEL]
        if unknown:
            raise RowError(f"'{unknown[0]}' is not a role ({', '.join(ROLES)})")
        roles = {ROLE_BY_LABEL[name] for name in names}
        if roles & NOT_IMPORTED_ROLES:
            raise RowError("the system administrator role is granted on the organisation pages, not by import")
    details = PersonDetails(username=text["username"].lower(), display_name=text["display_name"],
                            email=text["email"].lower(), job_title=text["job_title"],
                            team_id=team.id if team else None, employee_id=text["employee_id"],
                            active_from=dates["start_date"], active_to=dates["leaving_date"])
    # A leaving date is the last working day: deactivated from the day after (engine/organisation/leavers.py).
    leaving = dates["leaving_date"] is not None and dates["leaving_date"] < clock.today()
    return {"details": details, "roles": roles, "leaving": leaving}


def _match(session: Session, details: PersonDetails) -> User | None:
    """The person this row describes: by employee id, then username, then email."""
    for column, value in ((User.employee_id, details.employee_id), (func.lower(User.username), details.username),
                          (func.lower(User.email), details.email)):
        person = session.scalar(select(User).where(column == value)) if value else None
        if person is not None:
            return person
    return None


DETAIL_FIELDS = {"username": "username", "display_name": "name", "email": "email", "job_title": "job title",
                 "employee_id": "employee id", "active_from": "start date", "active_to": "leaving date"}


def _differences(person: User, details: PersonDetails) -> list[str]:
    return [label for key, label in DETAIL_FIELDS.items() if getattr(person, key) != getattr(details, key)]
