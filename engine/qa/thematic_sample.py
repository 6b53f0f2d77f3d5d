"""The thematic audit's draw and the QA lead's review of it, as the six-weekly cycle's
(engine/qa/cycles.py): the draw is seeded and recorded, the QA lead may remove a case or swap
it for another eligible one before confirming, and the audits start from the reviewed sample.

Eligible means: in the commission's service (and cohort, if it names one), open with an
allocated worker, not audited in the last 12 months nor with an audit under way (the draw's
exclusions, engine/qa/sampling.py), and not already in this sample. The draw keeps every
eligible case in its seeded order (`ThematicAudit.sequence`): the sample is its head, and a
swap without a named case takes the next case of that order that is still eligible. Every
change keeps the reason and who made it, on the case's row and in the audit trail.
"""
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.qa import case_references
from engine.qa.models import COHORTS, Case, Service, Team
from engine.qa.sampling import ReviewerAllocator, SampleError, recently_audited_cases
from engine.qa.thematic_models import ThematicAudit, ThematicSampleCase
from engine.runtime import events
from engine.runtime.errors import InvalidFormData, WorkflowError
from engine.runtime.instances import complete_task
from engine.runtime.models import HumanTask

REVIEW_TASK = "review_sample"
REVIEWER_ROLE = "qa_lead"


class SampleReviewError(WorkflowError):
    """A review change refused; `field` names the answer to fix, when there is one."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def may_review(user: User, thematic: ThematicAudit) -> bool:
    """The QA lead reviews the draw, never the thematic audit's own commissioner (its lane's rule)."""
    return user.has_role(REVIEWER_ROLE) and user.id != thematic.commissioned_by_id


def rows(session: Session, thematic: ThematicAudit) -> list[ThematicSampleCase]:
    """Every case the draw proposed or a swap brought in, in the order they came."""
    return list(session.scalars(select(ThematicSampleCase).where(ThematicSampleCase.thematic_id == thematic.id)
                                .order_by(ThematicSampleCase.id)))


def proposed(session: Session, thematic: ThematicAudit) -> list[ThematicSampleCase]:
    """The cases the sample holds now: what confirming starts an audit for."""
    return [row for row in rows(session, thematic) if row.status == "proposed"]


def draw(session: Session, thematic: ThematicAudit, seed: int, actor_id: int | None) -> list[ThematicSampleCase]:
    """Order the eligible cases by `seed`, propose the first `sample_size` with auditors and
    moderators by the cycle's rules, and put the thematic audit in review."""
    eligible = _eligible_cases(session, thematic)
    if not eligible:
        raise InvalidFormData({"seed": "No open case matches the commission's service and cohort "
                                       "without a recent or open audit."})
    rng = random.Random(seed)
    order = list(eligible)
    rng.shuffle(order)
    try:
        people = _allocator(session, rng)
        for case in order[:thematic.sample_size]:
            people.assign(case, case.team.name)
        drawn = people.evened_out()
    except SampleError as problem:
        raise InvalidFormData({"seed": str(problem)})
    thematic.seed, thematic.sequence, thematic.status = seed, [case.id for case in order], "in_review"
    made = [ThematicSampleCase(thematic_id=thematic.id, case_id=chosen.case_id, position=position,
                               auditor_id=chosen.auditor_id, moderator_id=chosen.moderator_id, status="proposed")
            for position, chosen in enumerate(drawn)]
    session.add_all(made)
    session.flush()
    events.record(session, "thematic.sample_drawn", actor_id=actor_id, instance_id=thematic.instance_id,
                  subject=("thematic_audit", thematic.id),
                  payload={"seed": seed, "eligible": len(eligible), "sample_size": thematic.sample_size,
                           "allocations": [{"case": d.case_reference, "auditor_id": d.auditor_id,
                                            "moderator_id": d.moderator_id} for d in drawn]})
    return made


def remove_case(session: Session, row_id: int, user: User, reason: str) -> ThematicSampleCase:
    """Take a proposed case out of the sample before the audits start; the reason is kept."""
    row, thematic = _reviewable(session, row_id, user)
    reason = _reason(reason, "removed from the sample")
    _mark(row, "removed", reason, user)
    _record(session, thematic, user, "thematic.sample_case_removed",
            {"case": _reference(session, row.case_id), "reason": reason})
    return row


def swap_case(session: Session, row_id: int, user: User, reason: str, replacement: str = "") -> ThematicSampleCase:
    """Swap a proposed case for another eligible one: the case named, or else the next eligible
    case of the draw's seeded order. The new case gets an auditor and a moderator by the draw's
    rules; both rows keep the reason. Returns the case brought in."""
    row, thematic = _reviewable(session, row_id, user)
    reason = _reason(reason, "swapped")
    taken = {other.case_id for other in rows(session, thematic)}
    if replacement.strip():
        case = _named_case(session, thematic, replacement, taken)
    else:
        case = _next_in_sequence(session, thematic, taken)
    live = [other for other in proposed(session, thematic) if other.id != row.id]
    try:
        people = _allocator(session, random.Random(f"swap-{thematic.seed}-{row.id}"), live)
        people.assign(case, case.team.name)
    except SampleError as problem:
        raise SampleReviewError(str(problem), "replacement")
    chosen = people.drawn[-1]
    sequence = thematic.sequence or []
    brought = ThematicSampleCase(thematic_id=thematic.id, case_id=case.id, status="proposed", replaces_id=row.id,
                                 position=sequence.index(case.id) if case.id in sequence else len(sequence),
                                 auditor_id=chosen.auditor_id, moderator_id=chosen.moderator_id)
    _mark(row, "swapped_out", reason, user)
    _mark(brought, "proposed", reason, user)
    session.add(brought)
    session.flush()
    _record(session, thematic, user, "thematic.sample_case_swapped",
            {"case": _reference(session, row.case_id), "replaced_by": case.reference, "reason": reason,
             "from_sequence": not replacement.strip(), "auditor_id": chosen.auditor_id,
             "moderator_id": chosen.moderator_id})
    return brought


def confirm(session: Session, thematic: ThematicAudit, user: User) -> None:
    """The QA lead's confirmation: complete the review task, so the process starts the audits."""
    _check_reviewer(user, thematic)
    _lock(session, thematic)
    if thematic.status != "in_review":
        raise SampleReviewError(f"Thematic audit {thematic.reference} is not awaiting review.")
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == thematic.instance_id,
                                                  HumanTask.spec_name == REVIEW_TASK, HumanTask.state == "ready"))
    if task is None:
        raise SampleReviewError(f"Thematic audit {thematic.reference} has moved on: refresh the page.")
    complete_task(session, task.id, user, {"confirmed": True})


def _eligible_cases(session: Session, thematic: ThematicAudit, taken: set = frozenset()) -> list[Case]:
    query = select(Case).join(Team).where(Team.service_id == thematic.service_id, Case.status == "open",
                                          Case.worker_id.is_not(None), Case.opened_on <= clock.today()
                                          ).order_by(Case.id)  # never a case whose file opens after the draw
    if thematic.cohort:
        query = query.where(Case.cohort == thematic.cohort)
    excluded = recently_audited_cases(session, clock.today()) | set(taken)
    return [case for case in session.scalars(query) if case.id not in excluded]


def _named_case(session: Session, thematic: ThematicAudit, replacement: str, taken: set) -> Case:
    """The case the QA lead named, or why it cannot join the sample, as a message against it."""
    reference = case_references.normalised(replacement)
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise SampleReviewError(f"There is no case with the reference {reference}.", "replacement")
    team = session.get(Team, case.team_id)
    if case.id in taken:
        problem = f"Case {reference} is already in this sample (or was taken out of it)."
    elif team.service_id != thematic.service_id:
        problem = (f"Case {reference} is not in {session.get(Service, thematic.service_id).name}, "
                   "the service the commission is about.")
    elif thematic.cohort and case.cohort != thematic.cohort:
        problem = f"Case {reference} is not in the {COHORTS[thematic.cohort].lower()} cohort the commission asks for."
    elif case.status != "open" or case.worker_id is None:
        problem = f"Case {reference} is not open with an allocated worker."
    elif case.id in recently_audited_cases(session, clock.today()):
        problem = f"Case {reference} was audited in the last 12 months or has an audit under way."
    else:
        return case
    raise SampleReviewError(f"{problem} Choose an eligible case, or leave the case blank to take the next one drawn.",
                            "replacement")


def _next_in_sequence(session: Session, thematic: ThematicAudit, taken: set) -> Case:
    eligible = {case.id: case for case in _eligible_cases(session, thematic, taken)}
    for case_id in thematic.sequence or []:
        if case_id in eligible:
            return eligible[case_id]
    raise SampleReviewError("No other case of the draw is still eligible: name an eligible case, or remove this one.",
                            "replacement")


def _allocator(session: Session, rng: random.Random, live: list[ThematicSampleCase] = ()) -> ReviewerAllocator:
    """The draw's allocator, its loads counting the cases already proposed (`live`)."""
    people = ReviewerAllocator(session, rng, manager_of=dict(session.execute(select(Team.id, Team.manager_id)).all()))
    for other in live:
        if other.auditor_id in people.audit_load:
            people.audit_load[other.auditor_id] += 1
        if other.moderator_id in people.moderation_load:
            people.moderation_load[other.moderator_id] += 1
    return people


def _reviewable(session: Session, row_id: int, user: User) -> tuple[ThematicSampleCase, ThematicAudit]:
    row = session.get(ThematicSampleCase, row_id)
    if row is None:
        raise SampleReviewError("There is no such case in the sample.")
    thematic = _lock(session, session.get(ThematicAudit, row.thematic_id))
    _check_reviewer(user, thematic)
    session.refresh(row)
    if thematic.status != "in_review" or row.status != "proposed":
        raise SampleReviewError("This case can no longer be changed: the audits have started, or it was "
                                "already removed or swapped.")
    return row, thematic


def _check_reviewer(user: User, thematic: ThematicAudit) -> None:
    if not may_review(user, thematic):
        raise SampleReviewError("Only the QA lead, not the commissioner, can review the thematic sample.")


def _lock(session: Session, thematic: ThematicAudit) -> ThematicAudit:
    """The thematic audit's row, locked and read afresh, so a change and a confirmation never cross."""
    return session.scalar(select(ThematicAudit).where(ThematicAudit.id == thematic.id).with_for_update()
                          .execution_options(populate_existing=True))


def _reason(reason: str, done: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise SampleReviewError(f"Say why this case is {done}.", "reason")
    return reason


def _mark(row: ThematicSampleCase, status: str, reason: str, user: User) -> None:
    row.status, row.reason, row.changed_by_id, row.changed_at = status, reason, user.id, clock.now()


def _record(session: Session, thematic: ThematicAudit, user: User, kind: str, payload: dict) -> None:
    events.record(session, kind, actor_id=user.id, instance_id=thematic.instance_id,
                  subject=("thematic_audit", thematic.id), payload={"reference": thematic.reference, **payload})


def _reference(session: Session, case_id: int) -> str:
    return session.get(Case, case_id).reference
