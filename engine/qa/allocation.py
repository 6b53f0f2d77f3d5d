"""Allocating a case for audit: the people, the timescales, and the process that follows.

The allocated worker and their team manager come from the case record; the head of
service from the team's service. Separation of duties is checked here, before any
process starts: the auditor is not the case's worker, the moderator is not the auditor.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import LOCAL_ZONE, clock
from engine.database import as_utc
from engine.qa import case_references
from engine.qa.allocation_batch import RECENT_AUDIT_DAYS, AllocationBatch, latest_audit_since
from engine.qa.case_profile import profile_data
from engine.qa.models import COHORTS, Audit, Case, Team
from engine.qa.working_days import add_working_days
from engine.runtime import events
from engine.runtime.errors import FieldRefusal
from engine.runtime.instances import start_instance

PROCESS_KEY = "case_file_audit"
AUDIT_WORKING_DAYS = 15
MODERATION_WORKING_DAYS = 10
AUDITOR_ROLES = ("team_manager", "head_of_service", "principal_social_worker", "qa_lead", "qa_officer")
MODERATOR_ROLES = ("head_of_service", "principal_social_worker", "qa_lead")
ALLOCATOR_ROLES = ("qa_lead", "qa_officer")
AUDIT_TYPES = {"random": "Random", "thematic": "Thematic", "dip_sample": "Dip sample"}
LOOKUP_LIMIT = 20


class AllocationError(FieldRefusal):
    """An allocation that cannot be made; `field` names the answer to fix."""


@dataclass
class AllocationRequest:
    case_reference: str
    auditor_id: int
    moderator_id: int
    audit_type: str = "random"
    due_on: date | None = None
    moderation_due_on: date | None = None
    confirm_recent: bool = False   # allocate even though the case was audited in the last 12 months
    # The process that runs the audit: the case file audit, or another audit process (a thematic
    # audit's focused audit) with `start_data` added to what every audit process is given.
    process_key: str = PROCESS_KEY
    start_data: dict = field(default_factory=dict)


def default_timescales(today: date) -> tuple[date, date]:
    """Audit due 15 working days after allocation; moderation 10 working days after that."""
    due_on = add_working_days(today, AUDIT_WORKING_DAYS)
    return due_on, add_working_days(due_on, MODERATION_WORKING_DAYS)


def allocate_audit(session: Session, request: AllocationRequest, allocated_by: User,
                   batch: AllocationBatch | None = None) -> Audit:
    """Create the audit record and start its audit process (the case file audit unless the request
    names another, as a thematic audit's focused audits do).

    Every audit starts here (single allocation, the cycle's and the thematic
    audit's draws), so its process data always holds the case's `cohort` and
    `case_profile`: the audit tool's cohort questions are conditions on `cohort`.
    A batch of allocations passes what `batch_for` preloaded for all its cases, and links
    its audits to their processes once they have all started; one allocation reads its
    facts as it goes."""
    batch = batch or AllocationBatch(session, clock.today())
    if not allocated_by.has_role(*ALLOCATOR_ROLES):
        raise AllocationError("", "Only the QA lead or a QA officer can allocate audits.")
    if request.audit_type not in AUDIT_TYPES:
        raise AllocationError("audit_type", "Select the type of audit: random, thematic or dip sample.")
    reference = case_references.normalised(request.case_reference)
    if problem := case_references.reference_error(reference):
        raise AllocationError("case_reference", problem)
    case = batch.case(reference)
    if case is None or case.status != "open":
        raise AllocationError("case_reference", f"There is no open case with the reference '{reference}'.")
    team = session.get(Team, case.team_id)
    if case.worker_id is None or team.manager_id is None:
        raise AllocationError("case_reference", "This case has no allocated worker or team manager on record.")
    open_audit = batch.open_audit(case.id)
    if open_audit is not None:
        raise AllocationError("case_reference", f"This case already has an audit under way ({open_audit.reference}).")
    recent = batch.recent_audit(case.id, clock.today())
    if recent is not None and not request.confirm_recent:
        raise AllocationError("confirm_recent", f"Case {case.reference} was audited in the last 12 months "
                                                f"({recent_audit_text(recent)}). Confirm to audit it again.")
    if request.auditor_id == case.worker_id:
        raise AllocationError("auditor_id", "The auditor cannot be the case's own allocated worker.")
    if request.moderator_id == request.auditor_id:
        raise AllocationError("moderator_id", "The moderator cannot be the auditor.")
    auditor = _person(batch, request.auditor_id, AUDITOR_ROLES, "auditor_id", "auditor")
    moderator = _person(batch, request.moderator_id, MODERATOR_ROLES, "moderator_id", "moderator")
    head_of_service_id = team.service.head_of_service_id
    default_due, default_moderation_due = default_timescales(clock.today())
    due_on = request.due_on or default_due
    moderation_due_on = request.moderation_due_on or add_working_days(due_on, MODERATION_WORKING_DAYS)
    if due_on <= clock.today():
        raise AllocationError("due_on", "The audit due date must be in the future.")
    if moderation_due_on <= due_on:
        raise AllocationError("moderation_due_on", "Moderation must be due after the audit is due.")

    scale = batch.scale()  # the version start_instance starts below grades on it
    year = clock.today().year
    audit = Audit(reference=batch.next_reference(year), audit_type=request.audit_type, case_id=case.id,
                  team_id=team.id, service_id=team.service_id, cohort=case.cohort,
                  grading_scale=scale.signature, judgement_area=scale.judgement_area_for(case.cohort),
                  auditor_id=auditor.id, moderator_id=moderator.id, worker_id=case.worker_id,
                  team_manager_id=team.manager_id, head_of_service_id=head_of_service_id,
                  allocated_by_id=allocated_by.id, allocated_at=clock.now(),
                  due_on=due_on, moderation_due_on=moderation_due_on)
    session.add(audit)
    session.flush()
    batch.allocated(audit, year)
    events.record(session, "audit.allocated", actor_id=allocated_by.id, subject=("audit", audit.id),
                  payload={"audit": audit.reference, "case": case.reference, "auditor_id": auditor.id,
                           "moderator_id": moderator.id, "worker_id": case.worker_id,
                           "team_manager_id": team.manager_id, "due_on": due_on,
                           "moderation_due_on": moderation_due_on, "judgement_area": audit.judgement_area})
    start_data = {
        "audit_id": audit.id, "audit_reference": audit.reference, "case_ref": case.reference,
        "team_id": team.id, "auditor": auditor.id, "moderator": moderator.id, "worker": case.worker_id,
        "team_manager": team.manager_id, "head_of_service": head_of_service_id,
        "audit_due": due_on.isoformat(), "moderation_due": moderation_due_on.isoformat(),
        "cohort": case.cohort, **request.start_data,
    }
    # The profile is for the model (form conditions, scripts); the hash-chained event, which
    # retention never touches, records that it was passed, not the child's circumstances.
    instance = start_instance(session, request.process_key, {**start_data, "case_profile": profile_data(case)},
                              actor_id=allocated_by.id, business_key=audit.reference,
                              logged={**start_data, "case_profile": "from the case register"},
                              version=batch.version(request.process_key))
    batch.link(audit, instance.id)
    return audit


def batch_for(session: Session, requests: list[AllocationRequest]) -> AllocationBatch:
    """What a batch of allocations reads (cases, their audits, people, versions, the scale),
    loaded for all of them in a few queries, to pass to each `allocate_audit`; the caller
    calls its `link_instances` once they have all started."""
    return AllocationBatch.preload(session, clock.today(), [request.case_reference for request in requests],
                                   {person for request in requests for person in (request.auditor_id, request.moderator_id)},
                                   {request.process_key for request in requests})


def recent_audit(session: Session, case_id: int, today: date) -> Audit | None:
    """The case's latest audit allocated in the last 12 months, if any (the cycle draw skips such cases)."""
    return latest_audit_since(session, case_id, today - timedelta(days=RECENT_AUDIT_DAYS))


def recent_audit_text(audit: Audit) -> str:
    allocated = as_utc(audit.allocated_at).astimezone(LOCAL_ZONE)
    return f"{audit.reference}, allocated {allocated.strftime('%-d %B %Y')}"


def find_open_cases(session: Session, user: User, text: str, today: date) -> list[dict]:
    """Open cases whose reference starts with `text` (case-insensitive), with any audit of the
    last 12 months, for the single allocation's look-up. No names: references, cohort, team."""
    prefix = text.strip().upper()
    if not prefix:
        return []
    cases = session.scalars(select(Case).where(Case.status == "open", Case.reference.startswith(prefix, autoescape=True))
                            .order_by(Case.reference).limit(LOOKUP_LIMIT)).all()
    found = []
    for case in cases:
        recent = recent_audit(session, case.id, today)
        found.append({"reference": case.reference, "cohort": COHORTS.get(case.cohort, case.cohort),
                      "team": case.team.name, "opened_on": case.opened_on,
                      "recent": recent_audit_text(recent) if recent else None,
                      "under_way": recent is not None and recent.status != "closed"})
    events.record(session, "case_register.searched", actor_id=user.id, subject=("case_register", "open"),
                  payload={"prefix": prefix, "found": len(found)})
    return found


def _person(batch: AllocationBatch, user_id: int, roles: tuple[str, ...], field: str, label: str) -> User:
    user = batch.person(user_id) if user_id else None
    if user is None or not user.active:
        raise AllocationError(field, f"Choose the {label}.")
    if not user.has_role(*roles):
        raise AllocationError(field, f"{user.display_name} cannot be the {label}: they do not hold a role that can do this.")
    return user

