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
from engine.qa.allocation_facts import RECENT_AUDIT_DAYS, AllocationFacts, latest_audit_since
from engine.qa.case_profile import profile_data
from engine.qa.models import COHORTS, Audit, Case, Team
from engine.qa.working_days import add_working_days
from engine.runtime import events
from engine.runtime.errors import FieldRefusal
from engine.runtime.instances import new_instance, start_instance
from engine.runtime.models import ProcessInstance

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


def allocate_audit(session: Session, request: AllocationRequest, allocated_by: User) -> Audit:
    """Create the audit record and start its audit process (the case file audit unless the request
    names another, as a thematic audit's focused audits do).

    Every audit starts here (single allocation, the cycle's and the thematic
    audit's draws), so its process data always holds the case's `cohort` and
    `case_profile`: the audit tool's cohort questions are conditions on `cohort`."""
    facts = AllocationFacts(session, clock.today())
    return start_audits(session, [check_allocation(session, request, allocated_by, facts)], allocated_by, facts)[0]


@dataclass(frozen=True)
class CheckedAllocation:
    """An audit its allocation's rules allow, built but not yet written or started."""
    request: AllocationRequest
    audit: Audit
    case: Case


def check_allocation(session: Session, request: AllocationRequest, allocated_by: User,
                     facts: AllocationFacts) -> CheckedAllocation:
    """Check an allocation against the rules and build its audit (`start_audits` writes and starts it).

    A batch (a cycle's confirmation) checks every allocation before starting any, with the
    facts `facts_for` read for them all; the facts follow the audits checked so far, so
    each allocation is checked as if the ones before it had started."""
    if not allocated_by.has_role(*ALLOCATOR_ROLES):
        raise AllocationError("", "Only the QA lead or a QA officer can allocate audits.")
    if request.audit_type not in AUDIT_TYPES:
        raise AllocationError("audit_type", "Select the type of audit: random, thematic or dip sample.")
    reference = case_references.normalised(request.case_reference)
    if problem := case_references.reference_error(reference):
        raise AllocationError("case_reference", problem)
    case = facts.case(reference)
    if case is None or case.status != "open":
        raise AllocationError("case_reference", f"There is no open case with the reference '{reference}'.")
    team = session.get(Team, case.team_id)
    if case.worker_id is None or team.manager_id is None:
        raise AllocationError("case_reference", "This case has no allocated worker or team manager on record.")
    open_audit = facts.open_audit(case.id)
    if open_audit is not None:
        raise AllocationError("case_reference", f"This case already has an audit under way ({open_audit.reference}).")
    recent = facts.recent_audit(case.id, clock.today())
    if recent is not None and not request.confirm_recent:
        raise AllocationError("confirm_recent", f"Case {case.reference} was audited in the last 12 months "
                                                f"({recent_audit_text(recent)}). Confirm to audit it again.")
    if request.auditor_id == case.worker_id:
        raise AllocationError("auditor_id", "The auditor cannot be the case's own allocated worker.")
    if request.moderator_id == request.auditor_id:
        raise AllocationError("moderator_id", "The moderator cannot be the auditor.")
    auditor = _person(facts, request.auditor_id, AUDITOR_ROLES, "auditor_id", "auditor")
    moderator = _person(facts, request.moderator_id, MODERATOR_ROLES, "moderator_id", "moderator")
    default_due, default_moderation_due = default_timescales(clock.today())
    due_on = request.due_on or default_due
    moderation_due_on = request.moderation_due_on or add_working_days(due_on, MODERATION_WORKING_DAYS)
    if due_on <= clock.today():
        raise AllocationError("due_on", "The audit due date must be in the future.")
    if moderation_due_on <= due_on:
        raise AllocationError("moderation_due_on", "Moderation must be due after the audit is due.")

    scale = facts.scale()  # the version start_audits starts grades on it
    year = clock.today().year
    audit = Audit(reference=facts.next_reference(year), audit_type=request.audit_type, case_id=case.id,
                  team_id=team.id, service_id=team.service_id, cohort=case.cohort,
                  grading_scale=scale.signature, judgement_area=scale.judgement_area_for(case.cohort),
                  auditor_id=auditor.id, moderator_id=moderator.id, worker_id=case.worker_id,
                  team_manager_id=team.manager_id, head_of_service_id=team.service.head_of_service_id,
                  allocated_by_id=allocated_by.id, allocated_at=clock.now(),
                  due_on=due_on, moderation_due_on=moderation_due_on)
    facts.allocated(audit, year)
    return CheckedAllocation(request, audit, case)


def start_audits(session: Session, checked: list[CheckedAllocation], allocated_by: User,
                 facts: AllocationFacts) -> list[Audit]:
    """Write the checked audits and their process instances' rows, then start each process in
    order, each recorded in the trail, and link each audit to its process. A batch's audit
    rows, instance rows and links are each written in one statement (on PostgreSQL; SQLite
    returns generated ids a row at a time), rather than one per audit."""
    instances = [_new_instance(facts, allocation, allocated_by) for allocation in checked]
    session.add_all([allocation.audit for allocation in checked] + [row for row in instances if row is not None])
    session.flush()
    instances = [_start_process(session, allocation, allocated_by, facts, row)
                 for allocation, row in zip(checked, instances)]
    for allocation, instance in zip(checked, instances):
        allocation.audit.instance_id = instance.id
    return [allocation.audit for allocation in checked]


def facts_for(session: Session, requests: list[AllocationRequest]) -> AllocationFacts:
    """What a batch of allocations reads (cases, their audits, people, versions, the scale),
    loaded for all of them in a few queries, for `check_allocation` and `start_audits`."""
    return AllocationFacts.preload(session, clock.today(), [request.case_reference for request in requests],
                                   {person for request in requests for person in (request.auditor_id, request.moderator_id)},
                                   {request.process_key for request in requests})


def _new_instance(facts: AllocationFacts, allocation: CheckedAllocation, allocated_by: User) -> ProcessInstance | None:
    """The audit's instance row, or None when its process is not published (start_instance says so)."""
    version = facts.version(allocation.request.process_key)
    return new_instance(version, allocation.audit.reference, allocated_by.id) if version is not None else None


def _start_process(session: Session, allocation: CheckedAllocation, allocated_by: User,
                   facts: AllocationFacts, row: ProcessInstance | None) -> ProcessInstance:
    audit, case, request = allocation.audit, allocation.case, allocation.request
    events.record(session, "audit.allocated", actor_id=allocated_by.id, subject=("audit", audit.id),
                  payload={"audit": audit.reference, "case": case.reference, "auditor_id": audit.auditor_id,
                           "moderator_id": audit.moderator_id, "worker_id": case.worker_id,
                           "team_manager_id": audit.team_manager_id, "due_on": audit.due_on,
                           "moderation_due_on": audit.moderation_due_on, "judgement_area": audit.judgement_area})
    start_data = {
        "audit_id": audit.id, "audit_reference": audit.reference, "case_ref": case.reference,
        "team_id": audit.team_id, "auditor": audit.auditor_id, "moderator": audit.moderator_id,
        "worker": case.worker_id, "team_manager": audit.team_manager_id,
        "head_of_service": audit.head_of_service_id, "audit_due": audit.due_on.isoformat(),
        "moderation_due": audit.moderation_due_on.isoformat(), "cohort": case.cohort, **request.start_data,
    }
    # The profile is for the model (form conditions, scripts); the hash-chained event, which
    # retention never touches, records that it was passed, not the child's circumstances.
    return start_instance(session, request.process_key, {**start_data, "case_profile": profile_data(case)},
                          actor_id=allocated_by.id, business_key=audit.reference,
                          logged={**start_data, "case_profile": "from the case register"},
                          version=facts.version(request.process_key), instance=row)


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


def _person(facts: AllocationFacts, user_id: int, roles: tuple[str, ...], field: str, label: str) -> User:
    user = facts.person(user_id) if user_id else None
    if user is None or not user.active:
        raise AllocationError(field, f"Choose the {label}.")
    if not user.has_role(*roles):
        raise AllocationError(field, f"{user.display_name} cannot be the {label}: they do not hold a role that can do this.")
    return user

