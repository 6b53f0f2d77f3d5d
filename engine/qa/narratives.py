"""The QA lead's narrative on a six-weekly or annual report (issue 11, point 5).

Figures say what happened; the narrative says what it means: key findings, learning,
recommendations, what we will do differently, and questions for team meetings. One
narrative per report period and scope (the council, a service or a team), written by the
QA lead or a QA officer; every save that changes something is an event in the trail
carrying the sections changed, so the history of the text can be read back from it.

When the draft is ready the writer submits it for sign-off; the principal social worker or
an assistant director signs it off, or returns it with a comment (it is a draft again).
Nobody signs off a narrative they wrote, changed or submitted. Signed off, it is published:
read-only, printed in the report's PDF with who signed it off and when, and the only
narrative the QA lead may publish to services and teams (engine/qa/learning.py). While it
awaits sign-off it cannot be changed either, so the signer signs off the text they read.
Every step is an event in the trail, and the people concerned are told.
"""
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.clock import LOCAL_ZONE, clock
from engine.database import as_utc
from engine.notifications import notify
from engine.qa.models import Service, Team
from engine.qa.narrative_models import ReportNarrative
from engine.qa.reports import parse_period
from engine.runtime import events
from engine.runtime.models import Event

SECTIONS = {
    "key_findings": "Key findings",
    "learning": "Learning",
    "recommendations": "Recommendations",
    "do_differently": "What we will do differently",
    "team_questions": "Questions for team meetings",
}
MAX_SECTION_CHARS = 6000
MAX_RETURN_COMMENT_CHARS = 2000
WRITER_ROLES = ("qa_lead", "qa_officer")
SIGNER_ROLES = ("principal_social_worker", "assistant_director")
STATUSES = {"draft": "Draft", "awaiting_sign_off": "Awaiting sign-off", "published": "Signed off and published"}


def can_write(user) -> bool:
    """The QA lead and QA officers write the narrative; everyone else who reads reports reads it."""
    return user.has_role(*WRITER_ROLES)


def can_sign_off(user) -> bool:
    """The principal social worker and assistant directors sign narratives off."""
    return user.has_role(*SIGNER_ROLES)


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
    written (a narrative awaiting sign-off or published is refused under the key
    "narrative"); an unchanged save (a second click) writes nothing and records nothing."""
    values = {key: (form.get(key) or "").replace("\r\n", "\n").strip() for key in SECTIONS}
    narrative = narrative_for(session, period_key, scope)
    refusal = edit_refusal(narrative)
    if refusal:
        return False, {"narrative": refusal}
    errors = {key: f"{label} must be {MAX_SECTION_CHARS} characters or fewer"
              for key, label in SECTIONS.items() if len(values[key]) > MAX_SECTION_CHARS}
    if errors:
        return False, errors
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


def edit_refusal(narrative: ReportNarrative | None) -> str | None:
    """Why the narrative cannot be changed now, or None if it can."""
    if narrative is None or narrative.status == "draft":
        return None
    if narrative.status == "published":
        return (f"This narrative was signed off on {_day(narrative.signed_off_at)} and is published: "
                "it can no longer be changed.")
    return ("This narrative is awaiting sign-off and cannot be changed until the person signing it off "
            "returns it.")


def submit(session: Session, narrative: ReportNarrative | None, user) -> str | None:
    """Send a draft for sign-off and tell every signer. Returns why not, or None."""
    if narrative is None or not sections_of(narrative):
        return "Write the narrative before submitting it for sign-off"
    if narrative.status != "draft":
        return edit_refusal(narrative)
    narrative.status, narrative.submitted_by_id, narrative.submitted_at = "awaiting_sign_off", user.id, clock.now()
    _record(session, "report.narrative_submitted", narrative, user)
    title = heading_of(session, narrative)
    for signer_id in _signers(session):
        if signer_id != user.id:
            notify(session, signer_id, "narrative_sign_off", f"A report narrative awaits your sign-off: {title}",
                   f"{user.display_name} has submitted the narrative of {title} for sign-off. "
                   "Read it, then sign it off or return it with a comment.",
                   link=f"/reports/narratives/{narrative.id}")
    return None


def sign_off_refusal(session: Session, narrative: ReportNarrative, user) -> str | None:
    """Why `user` may not sign off (or return) this narrative now, or None if they may."""
    if not can_sign_off(user):
        return "Only the principal social worker or an assistant director can sign off a narrative."
    if narrative.status != "awaiting_sign_off":
        return ("This narrative is already signed off and published." if narrative.status == "published"
                else "This narrative has not been submitted for sign-off.")
    if user.id in _authors(session, narrative):
        return "You wrote, changed or submitted this narrative: someone else must sign it off."
    return None


def sign_off(session: Session, narrative: ReportNarrative, user) -> str | None:
    """Sign the narrative off, which publishes it read-only. Returns why not, or None."""
    refusal = sign_off_refusal(session, narrative, user)
    if refusal:
        return refusal
    narrative.status, narrative.signed_off_by_id, narrative.signed_off_at = "published", user.id, clock.now()
    _record(session, "report.narrative_signed_off", narrative, user)
    notify(session, narrative.submitted_by_id, "narrative_signed_off",
           f"Narrative signed off: {heading_of(session, narrative)}",
           f"{user.display_name} signed off the narrative of {heading_of(session, narrative)}. It is published "
           "and can no longer be changed; you can now publish the report to services and teams.",
           link=f"/reports/narratives/{narrative.id}")
    return None


def return_for_changes(session: Session, narrative: ReportNarrative, user, comment: str) -> str | None:
    """Send the narrative back to its writers as a draft, with the signer's comment. Returns why not, or None."""
    refusal = sign_off_refusal(session, narrative, user)
    if refusal:
        return refusal
    comment = (comment or "").replace("\r\n", "\n").strip()
    if not comment:
        return "Say what needs to change before returning the narrative"
    if len(comment) > MAX_RETURN_COMMENT_CHARS:
        return f"The comment must be {MAX_RETURN_COMMENT_CHARS} characters or fewer"
    narrative.status = "draft"
    narrative.returned_by_id, narrative.returned_at, narrative.return_comment = user.id, clock.now(), comment
    _record(session, "report.narrative_returned", narrative, user, comment=comment)
    notify(session, narrative.submitted_by_id, "narrative_returned",
           f"Narrative returned: {heading_of(session, narrative)}",
           f"{user.display_name} returned the narrative of {heading_of(session, narrative)} with this comment:\n\n"
           f"{comment}", link=f"/reports/narratives/{narrative.id}")
    return None


def awaiting_sign_off(session: Session, user) -> list[ReportNarrative]:
    """The narratives `user` may sign off now, oldest submission first (none for anyone else)."""
    if not can_sign_off(user):
        return []
    waiting = session.scalars(select(ReportNarrative).where(ReportNarrative.status == "awaiting_sign_off")
                              .order_by(ReportNarrative.submitted_at, ReportNarrative.id)).all()
    return [narrative for narrative in waiting if user.id not in _authors(session, narrative)]


def recent(session: Session, limit: int = 20) -> list[ReportNarrative]:
    """The narratives most recently submitted, signed off or returned, for the sign-off page."""
    return session.scalars(select(ReportNarrative).where(ReportNarrative.submitted_at.is_not(None))
                           .order_by(ReportNarrative.submitted_at.desc(), ReportNarrative.id.desc())
                           .limit(limit)).all()


def heading_of(session: Session, narrative: ReportNarrative) -> str:
    """The report a narrative belongs to, as people name it: "2026/27 cycle 2: Children in care"."""
    try:
        period_label = parse_period(session, narrative.period_key).label
    except ValueError:
        period_label = narrative.period_key
    return f"{period_label}: {scope_label(session, narrative.scope_key)}"


def scope_label(session: Session, scope: str) -> str:
    kind, _, number = scope.partition(":")
    model = {"team": Team, "service": Service}.get(kind)
    found = session.get(model, int(number)) if model and number.isdigit() else None
    return found.name if found else "All services"


def report_query(narrative: ReportNarrative) -> dict:
    """The query string of the report page the narrative is on."""
    kind, _, number = narrative.scope_key.partition(":")
    return {"period": narrative.period_key, "service": number if kind == "service" else "",
            "team": number if kind == "team" else ""}


def sign_off_line(session: Session, narrative: ReportNarrative | None) -> str:
    """Where the narrative stands, in one sentence for the page and the PDF."""
    if narrative is None:
        return ""
    if narrative.status == "published":
        return (f"Signed off by {_name(session, narrative.signed_off_by_id)} on "
                f"{_day(narrative.signed_off_at)}, and published.")
    if narrative.status == "awaiting_sign_off":
        return (f"Draft awaiting sign-off: submitted by {_name(session, narrative.submitted_by_id)} on "
                f"{_day(narrative.submitted_at)}.")
    return "Draft: not yet signed off."


def _day(moment: datetime) -> str:
    return as_utc(moment).astimezone(LOCAL_ZONE).strftime("%-d %B %Y")


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else "someone no longer known"


def _signers(session: Session) -> list[int]:
    return session.scalars(select(User.id).join(UserRole).where(
        UserRole.role.in_(SIGNER_ROLES), User.active.is_(True)).distinct().order_by(User.id)).all()


def _authors(session: Session, narrative: ReportNarrative) -> set[int]:
    """Everyone who wrote, changed or submitted the narrative, from the row and from the trail."""
    authors = {narrative.written_by_id, narrative.changed_by_id, narrative.submitted_by_id}
    for actor_id, payload in session.execute(select(Event.actor_id, Event.payload).where(
            Event.subject_type == "report", Event.subject_id == narrative.period_key,
            Event.kind == "report.narrative_saved")):
        if json.loads(payload).get("narrative_id") == narrative.id:
            authors.add(actor_id)
    return authors - {None}


def _record(session: Session, kind: str, narrative: ReportNarrative, user, **extra) -> None:
    session.flush()
    events.record(session, kind, actor_id=user.id, subject=("report", narrative.period_key),
                  payload={"period": narrative.period_key, "scope": narrative.scope_key,
                           "narrative_id": narrative.id, **extra})
