"""Learning that cascades (issue 11, point 6): the QA lead publishes a report's narrative
with its figures, or a 7-minute briefing, to chosen services or teams; team managers and
practitioners in those teams, and the heads of those services, read what was published to
them, and each first reading is kept so the QA team sees who has read it. A report is
published only once its narrative is signed off (engine/qa/narratives.py), so teams read
the signed-off text, with who signed it off and when.

What is published is frozen as it stood (a later edit or a new audit does not change what a
team was sent) and carries counts only, with the small-number rule applied for every reader:
the readers cannot open the audits behind the figures, so any count from 1 to 4 reads
"fewer than 5" (engine/qa/compliance.py). Every publication, opening and reading is an event.
"""
import json
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.qa.compliance import SMALL_NUMBER
from engine.qa.findings import IMPACTS
from engine.qa.learning_models import LearningAudience, LearningPublication, LearningReading
from engine.qa.models import Service, Team
from engine.runtime import events

BRIEFING_SECTIONS = {
    "what_happened": "What happened",
    "why_it_matters": "Why it matters",
    "do_differently": "What to do differently",
    "team_questions": "Questions for team meetings",
}
KINDS = {"report": "Report", "briefing": "7-minute briefing"}
MAX_TITLE_CHARS = 200
MAX_SECTION_CHARS = 4000
PUBLISHER_ROLES = ("qa_lead",)
OVERSEER_ROLES = ("qa_lead", "qa_officer")
READER_ROLES = ("team_manager", "practitioner")
SERVICE_READER_ROLES = ("head_of_service",)


def can_publish(user) -> bool:
    """Only the QA lead publishes learning to services and teams."""
    return user.has_role(*PUBLISHER_ROLES)


def oversees(user) -> bool:
    """The QA team see everything published and who has read it."""
    return user.has_role(*OVERSEER_ROLES)


def is_reader(user) -> bool:
    """Team managers and practitioners read what was published to their team or service;
    heads of service what was published to the services they head or to teams in them."""
    return (bool(user.team_id) and user.has_role(*READER_ROLES)) or user.has_role(*SERVICE_READER_ROLES)


def can_open_learning(user) -> bool:
    return oversees(user) or is_reader(user)


@dataclass(frozen=True)
class Audience:
    """The services and teams chosen for a publication."""
    service_ids: frozenset[int]
    team_ids: frozenset[int]


def read_audience(session: Session, service_texts: list[str], team_texts: list[str]) -> tuple[Audience | None, str | None]:
    """The audience ticked on a form; (None, message) if none was ticked or one is unknown."""
    services = {int(t) for t in service_texts if t.isdigit()}
    teams = {int(t) for t in team_texts if t.isdigit()}
    if len(services) != len(set(service_texts)) or len(teams) != len(set(team_texts)):
        return None, "Choose services and teams from the list"
    if not services and not teams:
        return None, "Choose at least one service or team to publish to"
    known_services = set(session.scalars(select(Service.id).where(Service.id.in_(services))))
    known_teams = set(session.scalars(select(Team.id).where(Team.id.in_(teams))))
    if known_services != services or known_teams != teams:
        return None, "Choose services and teams from the list"
    return Audience(frozenset(services), frozenset(teams)), None


def read_briefing(form: dict) -> tuple[dict, dict[str, str]]:
    """A briefing's title and sections from a form, and a message per field that is wrong."""
    values = {key: (form.get(key) or "").replace("\r\n", "\n").strip() for key in ("title", *BRIEFING_SECTIONS)}
    errors = {}
    if not values["title"]:
        errors["title"] = "Enter a title"
    elif len(values["title"]) > MAX_TITLE_CHARS:
        errors["title"] = f"The title must be {MAX_TITLE_CHARS} characters or fewer"
    for key, label in BRIEFING_SECTIONS.items():
        if not values[key]:
            errors[key] = f"Enter {label[0].lower() + label[1:]}"
        elif len(values[key]) > MAX_SECTION_CHARS:
            errors[key] = f"{label} must be {MAX_SECTION_CHARS} characters or fewer"
    return values, errors


def briefing_body(values: dict) -> dict:
    return {"sections": [[label, values[key]] for key, label in BRIEFING_SECTIONS.items()], "figures": []}


def report_body(report: dict) -> dict:
    """A report as teams read it: the signed-off narrative, who signed it off and when, and
    counts only, small numbers hidden."""
    completion, grades = report["completion"]["totals"], report["grades"]
    figures = [["Audits allocated", count_text(completion["allocated"])],
               ["Audits completed", count_text(completion["completed"])],
               *[[f"Graded {label}", count_text(grades["overall"][key])] for key, label in report["scale"].labels.items()]]
    headlines = report["compliance"]["headlines"]
    for label, cell in zip(headlines["measures"], headlines["overall"]):
        if cell["base"]:
            figures.append([label, f"{count_text(cell['count'])} of {count_text(cell['base'])} audits answered Yes"
                            if cell["count"] is not None and cell["base"] >= SMALL_NUMBER
                            else f"answered in {count_text(cell['base'])} audits"])
    impact = report["impact"]
    for value, label in IMPACTS.items():
        cell = impact["overall"][value]
        if impact["base"]:
            figures.append([f"What has changed for the child: {label.lower()}", count_text(cell["count"])])
    return {"period": report["period"].label, "scope": report["scope_label"],
            "sections": [list(pair) for pair in report["narrative_sections"]],
            "signed_off": report["narrative_sign_off"], "figures": figures}


def count_text(count: int | None) -> str:
    """A count as a reader who cannot open the audits sees it: 1 to 4 reads "fewer than 5"."""
    if count is None or 0 < count < SMALL_NUMBER:
        return "fewer than 5"
    return str(count)


def publish(session: Session, kind: str, title: str, body: dict, audience: Audience, user) -> tuple[LearningPublication, bool]:
    """Publish `body` to `audience`. Returns (publication, created): the same content already
    published to the same audience (a second click) is returned as it was, not published twice."""
    text = json.dumps(body, sort_keys=True)
    for earlier in session.scalars(select(LearningPublication).where(
            LearningPublication.kind == kind, LearningPublication.title == title, LearningPublication.body == text)):
        if audience_of(session, earlier) == audience:
            return earlier, False
    publication = LearningPublication(kind=kind, title=title, body=text, published_by_id=user.id,
                                      published_at=clock.now())
    session.add(publication)
    session.flush()
    session.add_all([LearningAudience(publication_id=publication.id, service_id=service_id)
                     for service_id in sorted(audience.service_ids)]
                    + [LearningAudience(publication_id=publication.id, team_id=team_id)
                       for team_id in sorted(audience.team_ids)])
    events.record(session, "learning.published", actor_id=user.id, subject=("learning_publication", publication.id),
                  payload={"kind": kind, "title": title, "services": sorted(audience.service_ids),
                           "teams": sorted(audience.team_ids)})
    return publication, True


def audience_of(session: Session, publication: LearningPublication) -> Audience:
    rows = session.execute(select(LearningAudience.service_id, LearningAudience.team_id)
                           .where(LearningAudience.publication_id == publication.id)).all()
    return Audience(frozenset(s for s, _ in rows if s), frozenset(t for _, t in rows if t))


def _addressed_to(user):
    """Publications sent to the user's team or the service their team belongs to, and for a
    head of service, to the services they head or any team in them."""
    audiences = []
    if user.team_id and user.has_role(*READER_ROLES):
        service_id = select(Team.service_id).where(Team.id == user.team_id).scalar_subquery()
        audiences += [LearningAudience.team_id == user.team_id, LearningAudience.service_id == service_id]
    if user.has_role(*SERVICE_READER_ROLES):
        headed = select(Service.id).where(Service.head_of_service_id == user.id)
        audiences += [LearningAudience.service_id.in_(headed),
                      LearningAudience.team_id.in_(select(Team.id).where(Team.service_id.in_(headed)))]
    return LearningPublication.id.in_(select(LearningAudience.publication_id).where(or_(*audiences)))


def publications_for(session: Session, user) -> list[dict]:
    """What the user may open, newest first: everything for the QA team (with how many have
    read it), what was sent to their team or service for a reader (with whether they have)."""
    query = select(LearningPublication).order_by(LearningPublication.published_at.desc(), LearningPublication.id.desc())
    if not oversees(user):
        if not is_reader(user):
            return []
        query = query.where(_addressed_to(user))
    publications = session.scalars(query).all()
    read_counts: dict[int, int] = {}
    for publication_id, in session.execute(select(LearningReading.publication_id).where(
            LearningReading.publication_id.in_([p.id for p in publications]))):
        read_counts[publication_id] = read_counts.get(publication_id, 0) + 1
    read_by_me = set(session.scalars(select(LearningReading.publication_id).where(LearningReading.user_id == user.id)))
    return [{"publication": p, "kind": KINDS[p.kind], "readers": read_counts.get(p.id, 0), "read": p.id in read_by_me}
            for p in publications]


def open_publication(session: Session, publication_id: int, user) -> dict | None:
    """The publication for `user` to read, or None if it is not theirs to open. A reader's
    first opening is kept as a reading; every opening is an event."""
    query = select(LearningPublication).where(LearningPublication.id == publication_id)
    if not oversees(user):
        if not is_reader(user):
            return None
        query = query.where(_addressed_to(user))
    publication = session.scalar(query)
    if publication is None:
        return None
    first_reading = False
    if is_reader(user) and session.scalar(select(LearningReading.id).where(
            LearningReading.publication_id == publication.id, LearningReading.user_id == user.id)) is None:
        session.add(LearningReading(publication_id=publication.id, user_id=user.id, first_read_at=clock.now()))
        first_reading = True
    events.record(session, "learning.read", actor_id=user.id, subject=("learning_publication", publication.id),
                  payload={"first_reading": first_reading})
    session.flush()
    return {"publication": publication, "kind": KINDS[publication.kind], "body": json.loads(publication.body),
            "audience": _audience_names(session, audience_of(session, publication)),
            "readers": _readers(session, publication) if oversees(user) else None}


def _audience_names(session: Session, audience: Audience) -> list[str]:
    services = session.scalars(select(Service.name).where(Service.id.in_(audience.service_ids)).order_by(Service.name))
    teams = session.scalars(select(Team.name).where(Team.id.in_(audience.team_ids)).order_by(Team.name))
    return [f"{name} (service)" for name in services] + list(teams)


def _readers(session: Session, publication: LearningPublication) -> list[dict]:
    rows = session.execute(select(User.display_name, Team.name, LearningReading.first_read_at)
                           .join(User, User.id == LearningReading.user_id).join(Team, Team.id == User.team_id, isouter=True)
                           .where(LearningReading.publication_id == publication.id)
                           .order_by(LearningReading.first_read_at, User.display_name)).all()
    return [{"name": name, "team": team or "", "read_at": read_at} for name, team, read_at in rows]
