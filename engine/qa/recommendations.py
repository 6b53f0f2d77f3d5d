"""Recommendations of thematic audits and dip samples, tracked until they are shown done.

A thematic audit's recommendations become tracked rows when the commissioner signs it off
(published); a dip sample's when the head of service records it. Each is overdue after its
due date until the QA lead records it completed with its evidence. The QA team and senior
leaders see every one; a head of service those about their own service.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.qa.access import SEE_EVERY_AUDIT
from engine.qa.models import Service
from engine.qa.thematic_models import Recommendation
from engine.runtime import events
from engine.runtime.errors import InvalidFormData, NotAllowed, WorkflowError

ACTIVITIES = {"thematic": "Thematic audit", "dip_sample": "Dip sample"}
UPDATER_ROLES = ("qa_lead",)


class RecommendationNotFound(WorkflowError):
    pass


@dataclass(frozen=True)
class RecommendationSource:
    """Where recommendations come from: the activity, its reference, instance and service."""
    activity: str
    reference: str
    instance_id: int
    service_id: int


def track_recommendations(session: Session, source: RecommendationSource, rows: list[dict], actor_id: int | None) -> int:
    """Make one tracked row per recommendation (`recommendation`, `due_on`, optional `owner`)."""
    for number, row in enumerate(rows, start=1):
        session.add(Recommendation(activity=source.activity, reference=f"{source.reference}/R{number}",
                                   instance_id=source.instance_id, service_id=source.service_id,
                                   text=row["recommendation"], owner=row.get("owner", "head_of_service"),
                                   due_on=_date(row["due_on"])))
    session.flush()
    if rows:
        events.record(session, "recommendations.tracked", actor_id=actor_id, instance_id=source.instance_id,
                      subject=(source.activity, source.reference), payload={"count": len(rows)})
    return len(rows)


def may_read_recommendations(user: User) -> bool:
    return user.has_role(*SEE_EVERY_AUDIT, "head_of_service")


def visible_recommendations(session: Session, user: User, activity: str | None = None) -> list[Recommendation]:
    """The recommendations `user` may see, optionally of one activity, soonest due first."""
    query = select(Recommendation).order_by(Recommendation.status.desc(), Recommendation.due_on, Recommendation.id)
    if not user.has_role(*SEE_EVERY_AUDIT):
        query = query.where(Recommendation.service_id.in_(
            select(Service.id).where(Service.head_of_service_id == user.id)))
    if activity:
        query = query.where(Recommendation.activity == activity)
    return list(session.scalars(query))


def complete_recommendation(session: Session, user: User, recommendation_id: int, evidence: str) -> Recommendation:
    """The QA lead records a recommendation done, with the evidence; a second time changes nothing."""
    if not user.has_role(*UPDATER_ROLES):
        raise NotAllowed("Only the QA lead records a recommendation as done.")
    found = session.get(Recommendation, recommendation_id)
    if found is None:
        raise RecommendationNotFound("There is no such recommendation.")
    if found.status == "completed":
        return found
    evidence = (evidence or "").strip()
    if not evidence:
        raise InvalidFormData({"evidence": "Enter the evidence that the recommendation is done"})
    found.status, found.evidence, found.completed_at, found.completed_by_id = "completed", evidence, clock.now(), user.id
    events.record(session, "recommendation.completed", actor_id=user.id, instance_id=found.instance_id,
                  subject=("recommendation", found.id), payload={"reference": found.reference})
    return found


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
