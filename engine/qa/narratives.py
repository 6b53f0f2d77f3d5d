"""The QA lead's narrative on a six-weekly or annual report (issue 11, point 5).

Figures say what happened; the narrative says what it means: key findings, learning,
recommendations, what we will do differently, and questions for team meetings. One
narrative per report period and scope (the council, a service or a team), written by the
QA lead or a QA officer; every save that changes something is an event in the trail
carrying the sections changed, so the history of the text can be read back from it.
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import clock
from engine.qa.narrative_models import ReportNarrative
from engine.runtime import events

SECTIONS = {
    "key_findings": "Key findings",
    "learning": "Learning",
    "recommendations": "Recommendations",
    "do_differently": "What we will do differently",
    "team_questions": "Questions for team meetings",
}
MAX_SECTION_CHARS = 6000
WRITER_ROLES = ("qa_lead", "qa_officer")


def can_write(user) -> bool:
    """The QA lead and QA officers write the narrative; everyone else who reads reports reads it."""
    return user.has_role(*WRITER_ROLES)


def scope_key(service_id: int | None, team_id: int | None) -> str:
    """One spelling for a report's scope: a team, else a service, else the whole council."""
    if team_id:
        return f"team:{team_id}"
    return f"service:{service_id}" if service_id else "council"


def narrative_for(session: Session, period_key: str, scope: str) -> ReportNarrative | None:
    return session.scalar(select(ReportNarrative).where(ReportNarrative.period_key == period_key,
                                                        ReportNarrative.scope_key == scope))


def sections_of(narrative: ReportNarrative | None) -> list[tuple[str, str]]:
    """The written sections as (heading, text), leaving out those left blank."""
    if narrative is None:
        return []
    return [(label, getattr(narrative, key)) for key, label in SECTIONS.items() if getattr(narrative, key).strip()]


def values_of(narrative: ReportNarrative | None) -> dict[str, str]:
    """Each section's text by its key, to fill the form with."""
    return {key: getattr(narrative, key) if narrative else "" for key in SECTIONS}


def save(session: Session, period_key: str, scope: str, form: dict, user) -> tuple[bool, dict[str, str]]:
    """Write the sections from `form`. Returns (changed, errors): with errors nothing is
    written; an unchanged save (a second click) writes nothing and records nothing."""
    values = {key: (form.get(key) or "").replace("\r\n", "\n").strip() for key in SECTIONS}
    errors = {key: f"{label} must be {MAX_SECTION_CHARS} characters or fewer"
              for key, label in SECTIONS.items() if len(values[key]) > MAX_SECTION_CHARS}
    if errors:
        return False, errors
    narrative = narrative_for(session, period_key, scope)
    if narrative is None:
        if not any(values.values()):
            return False, {"key_findings": "Write at least one section"}
        narrative = ReportNarrative(period_key=period_key, scope_key=scope, written_by_id=user.id,
                                    written_at=clock.now(), changed_by_id=user.id, changed_at=clock.now(),
                                    **{key: "" for key in SECTIONS})
        session.add(narrative)
    changed = {key: value for key, value in values.items() if getattr(narrative, key) != value}
    if not changed:
        return False, {}
    for key, value in changed.items():
        setattr(narrative, key, value)
    narrative.changed_by_id, narrative.changed_at = user.id, clock.now()
    session.flush()
    events.record(session, "report.narrative_saved", actor_id=user.id, subject=("report", period_key),
                  payload={"period": period_key, "scope": scope, "narrative_id": narrative.id, "sections": changed})
    return True, {}
