"""Learning and training needs (issue 11, point 6): what practitioners said they need in
their reflections ("learning or support needed") and the auditors' areas for development,
gathered by service and team for the QA and workforce team's training plan.

The text is read where it lives (practitioner_reflections.learning_needs,
audits.areas_for_development) for the audits a report period covers, so nothing is copied
and retention holds: text blanked by retention stays out. Audit references and the
practitioner's name are given (the plan needs to know who asked for what); never a child's.
Every view and export is recorded in the trail.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, select, true
from sqlalchemy.orm import Session, aliased

from engine.accounts import User
from engine.clock import LOCAL_ZONE
from engine.database import as_utc
from engine.qa.models import Audit, Reflection, Service, Team
from engine.qa.reports import Period, audits_in
from engine.qa.retention import ANONYMISED
from engine.runtime import events
from engine.spreadsheet_files import csv_bytes, xlsx_bytes

VIEW_ROLES = ("qa_lead", "qa_officer", "principal_social_worker")
SOURCES = {"learning_need": "Practitioner's learning or support need", "area_for_development": "Area for development"}
COLUMNS = (("service", "Service"), ("team", "Team"), ("source", "From"), ("text", "What is needed"),
           ("practitioner", "Practitioner"), ("reference", "Audit"), ("written_on", "Written on"))


def can_view(user) -> bool:
    """The QA team and the principal social worker (who leads workforce development)."""
    return user.has_role(*VIEW_ROLES)


@dataclass(frozen=True)
class NeedsScope:
    period: Period
    service_id: int | None = None


def gather(session: Session, scope: NeedsScope) -> list[dict]:
    """Every need written for the audits in scope, by service, team, then source and date."""
    where = and_(audits_in(scope.period), Audit.service_id == scope.service_id if scope.service_id else true())
    practitioner = aliased(User)
    base = (select(Service.name, Team.name, Audit.reference).join(Service, Service.id == Audit.service_id)
            .join(Team, Team.id == Audit.team_id).where(where))
    needs = session.execute(base.add_columns(Reflection.learning_needs, practitioner.display_name, Reflection.submitted_at)
                            .join(Reflection, Reflection.audit_id == Audit.id)
                            .join(practitioner, practitioner.id == Reflection.practitioner_id)).all()
    development = session.execute(base.add_columns(Audit.areas_for_development, Audit.graded_at)).all()
    rows = [_row(service, team, reference, "learning_need", text, name, at) for service, team, reference, text, name, at in needs]
    rows += [_row(service, team, reference, "area_for_development", text, "", at)
             for service, team, reference, text, at in development]
    kept = [row for row in rows if row["text"] and row["text"] != ANONYMISED]
    return sorted(kept, key=lambda r: (r["service"], r["team"], r["source"] != SOURCES["learning_need"],
                                       r["written_on"] or date.min, r["reference"]))


def by_team(rows: list[dict]) -> list[dict]:
    """How many of each kind of need each team has, for the summary table."""
    counts: dict = {}
    for row in rows:
        entry = counts.setdefault((row["service"], row["team"]), {"learning_need": 0, "area_for_development": 0})
        entry["learning_need" if row["source"] == SOURCES["learning_need"] else "area_for_development"] += 1
    return [{"service": service, "team": team, **values} for (service, team), values in counts.items()]


def record_view(session: Session, user, scope: NeedsScope, rows: list[dict], how: str) -> None:
    """Reading or exporting the needs is recorded, with the scope and how many rows were shown."""
    kind = "training_needs.viewed" if how == "page" else "training_needs.exported"
    events.record(session, kind, actor_id=user.id, subject=("training_needs", scope.period.key),
                  payload={"period": scope.period.key, "service_id": scope.service_id, "format": how,
                           "rows": len(rows)})


def export(rows: list[dict], how: str) -> bytes:
    """The needs as CSV or XLSX for the training plan."""
    if how == "csv":
        return csv_bytes(rows, COLUMNS)
    return xlsx_bytes(rows, COLUMNS, "Learning and training needs", wide=("text",))


def _row(service, team, reference, source, text, practitioner, at) -> dict:
    return {"service": service, "team": team, "reference": reference, "source": SOURCES[source],
            "text": (text or "").strip(), "practitioner": practitioner or "",
            "written_on": as_utc(at).astimezone(LOCAL_ZONE).date() if at else None}
