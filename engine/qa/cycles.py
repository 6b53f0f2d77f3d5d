"""The six-weekly allocation cycle: start or schedule one, review its draw, confirm it.

A cycle is an instance of the `audit_cycle` process (processes/audit_cycle). The
process draws the sample, waits for the QA lead's review, starts the audits and,
when the cycle's moderation is due, closes it and schedules the next one. This
module holds what people do to a cycle (start it, swap an auditor or moderator,
remove a case, confirm) and the draw itself, which the process's service step and
the check that a draw can be reproduced both run. Every change is recorded in the
audit trail; every rule is checked here, on the server, whoever calls.
"""
import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.clock import LOCAL_ZONE, clock
from engine.qa.access import SEE_EVERY_AUDIT
from engine.qa.allocation import MODERATOR_ROLES
from engine.qa.cycle_models import SAMPLE_BASES, AuditCycle, CycleAllocation
from engine.qa.models import Audit, Case, Team
from engine.qa.sampling import DrawnAllocation, SampleError, draw_sample
from engine.runtime import events
from engine.runtime.errors import WorkflowError
from engine.runtime.instances import complete_task, start_instance
from engine.runtime.models import HumanTask
from engine.runtime.registry import latest_version

PROCESS_KEY = "audit_cycle"
REVIEW_TASK = "review_allocations"
START_EARLY_TASK = "start_early"
AUDITOR_ROLE = "team_manager"
MAX_SAMPLE_SIZE = 50
MAX_CADENCE_WEEKS = 52
VIEW_CYCLE_ROLES = (*SEE_EVERY_AUDIT, "head_of_service", "team_manager")


class CycleError(WorkflowError):
    """A cycle change refused; `field` names the answer to fix, when there is one."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CycleSettings:
    """How a cycle samples and how often cycles come round (the process manifest's `cycle`)."""
    cadence_weeks: int
    sample_basis: str
    sample_size: int
    start_time: time


def can_run_cycles(user: User) -> bool:
    """Starting, reviewing and confirming a cycle is the QA lead's (QA framework section 7)."""
    return user.has_role("qa_lead")


def can_view_cycles(user: User) -> bool:
    """Who may see cycles and their trackers (each tracker row is then scoped per audit)."""
    return user.has_role(*VIEW_CYCLE_ROLES)


def default_settings(session: Session) -> CycleSettings:
    """The settings the process owner published with the newest cycle model."""
    version = latest_version(session, PROCESS_KEY)
    if version is None:
        raise CycleError("The allocation cycle process is not published yet: run `python -m engine.cli publish`.")
    settings = version.manifest.get("cycle", {})
    return CycleSettings(cadence_weeks=int(settings.get("cadence_weeks", 6)),
                         sample_basis=settings.get("sample_basis", "per_team"),
                         sample_size=int(settings.get("sample_size", 2)),
                         start_time=time.fromisoformat(settings.get("start_time", "08:00")))


def check_settings(sample_basis: str, sample_size: int, cadence_weeks: int) -> None:
    """Refuse settings a draw cannot use, naming the answer to change."""
    if sample_basis not in SAMPLE_BASES:
        raise CycleError("Choose whether the sample size counts cases per team or audits per auditor.",
                         "sample_basis")
    if not 1 <= sample_size <= MAX_SAMPLE_SIZE:
        raise CycleError(f"The sample size must be between 1 and {MAX_SAMPLE_SIZE}.", "sample_size")
    if not 0 <= cadence_weeks <= MAX_CADENCE_WEEKS:
        raise CycleError(f"The weeks until the next cycle must be between 0 and {MAX_CADENCE_WEEKS}.",
                         "cadence_weeks")


def scheduled_cycle(session: Session) -> AuditCycle | None:
    """The cycle waiting for its start date, if any (there is at most one)."""
    return session.scalar(select(AuditCycle).where(AuditCycle.status == "scheduled")
                          .order_by(AuditCycle.number).limit(1))


def start_cycle(session: Session, started_by: User, *, sample_basis: str, sample_size: int,
                cadence_weeks: int) -> AuditCycle:
    """Start a cycle now: its sample is drawn at once and waits for the QA lead's review."""
    if not can_run_cycles(started_by):
        raise CycleError("Only the QA lead can start an allocation cycle.")
    check_settings(sample_basis, sample_size, cadence_weeks)
    _refuse_while_another_is_open(session)
    settings = default_settings(session)
    cycle = _new_cycle(session, starts_on=clock.today(), cadence_weeks=cadence_weeks,
                       sample_basis=sample_basis, sample_size=sample_size, created_by_id=started_by.id)
    events.record(session, "cycle.started", actor_id=started_by.id, subject=("audit_cycle", cycle.id),
                  payload=_settings_payload(cycle))
    _start_process(session, cycle, settings, start_now=True, actor_id=started_by.id)
    return cycle


def schedule_next_cycle(session: Session, previous: AuditCycle, actor_id: int | None) -> AuditCycle:
    """The cycle after `previous`, waiting at its start-date timer (with the same settings)."""
    settings = default_settings(session)
    cycle = _new_cycle(session, starts_on=previous.starts_on + timedelta(weeks=previous.cadence_weeks),
                       cadence_weeks=previous.cadence_weeks, sample_basis=previous.sample_basis,
                       sample_size=previous.sample_size, created_by_id=actor_id)
    events.record(session, "cycle.scheduled", actor_id=actor_id, subject=("audit_cycle", cycle.id),
                  payload={**_settings_payload(cycle), "after_cycle": previous.number})
    _start_process(session, cycle, settings, start_now=False, actor_id=actor_id)
    return cycle


def start_scheduled_cycle_early(session: Session, cycle: AuditCycle, user: User) -> AuditCycle:
    """Draw a scheduled cycle's sample now rather than on its start date."""
    if not can_run_cycles(user):
        raise CycleError("Only the QA lead can start an allocation cycle.")
    if cycle.status != "scheduled":
        raise CycleError(f"{cycle.label} has already started.")
    _refuse_while_another_is_open(session, besides=cycle)
    complete_task(session, _open_task(session, cycle, START_EARLY_TASK).id, user, {"start_now": True})
    return cycle


def allocations(session: Session, cycle: AuditCycle) -> list[CycleAllocation]:
    """The cycle's drawn cases, in the order the draw made them."""
    return list(session.scalars(select(CycleAllocation).where(CycleAllocation.cycle_id == cycle.id)
                                .order_by(CycleAllocation.id)))


def change_allocation(session: Session, allocation_id: int, user: User, *, auditor_id: int,
                      moderator_id: int) -> CycleAllocation:
    """Swap the auditor or moderator of a proposed allocation, within the draw's rules."""
    allocation = _reviewable(session, allocation_id, user)
    problems = allocation_problems(session, allocation, auditor_id, moderator_id)
    if problems:
        field, message = next(iter(problems.items()))
        raise CycleError(message, field)
    before = {"auditor_id": allocation.auditor_id, "moderator_id": allocation.moderator_id}
    after = {"auditor_id": auditor_id, "moderator_id": moderator_id}
    if before == after:
        return allocation
    allocation.auditor_id, allocation.moderator_id = auditor_id, moderator_id
    _record_change(session, allocation, user, "cycle.allocation_changed", {"before": before, "after": after})
    return allocation


def remove_allocation(session: Session, allocation_id: int, user: User, reason: str) -> CycleAllocation:
    """Take a case out of the cycle before its audit starts; the reason is kept."""
    allocation = _reviewable(session, allocation_id, user)
    reason = (reason or "").strip()
    if not reason:
        raise CycleError("Say why this case is removed from the cycle.", "reason")
    allocation.status, allocation.removal_reason = "removed", reason
    _record_change(session, allocation, user, "cycle.allocation_removed", {"reason": reason})
    return allocation


def allocation_problems(session: Session, allocation: CycleAllocation, auditor_id: int,
                        moderator_id: int) -> dict[str, str]:
    """What stops this auditor and moderator auditing the case now, by field.

    The draw's rules, re-checked against the case as it is today: the auditor is a
    team manager who is neither the case's worker nor its team's manager; the
    moderator is a head of service, the principal social worker or the QA lead, and
    never the auditor; the case is open with no other audit under way."""
    return _problems(_Facts.load(session, [allocation], {auditor_id, moderator_id}), allocation,
                     auditor_id, moderator_id)


@dataclass(frozen=True)
class _Facts:
    """What the rules read about a set of allocations, loaded in a few queries."""
    cases: dict[int, Case]
    managers: dict[int, int | None]  # team id -> its manager
    people: dict[int, User]
    under_audit: set[int]  # case ids with an audit under way

    @classmethod
    def load(cls, session: Session, chosen: list[CycleAllocation], people: set = frozenset()) -> "_Facts":
        case_ids = {a.case_id for a in chosen}
        people = {p for p in people if p} | {a.auditor_id for a in chosen} | {a.moderator_id for a in chosen}
        return cls(cases={c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))},
                   managers=dict(session.execute(select(Team.id, Team.manager_id)).all()),
                   people={u.id: u for u in session.scalars(select(User).where(User.id.in_(people)))},
                   under_audit=set(session.scalars(select(Audit.case_id).where(
                       Audit.case_id.in_(case_ids), Audit.status != "closed"))))


def _problems(facts: _Facts, allocation: CycleAllocation, auditor_id: int, moderator_id: int) -> dict[str, str]:
    problems: dict[str, str] = {}
    case = facts.cases[allocation.case_id]
    manager_id = facts.managers.get(case.team_id)
    if case.status != "open" or case.worker_id is None or manager_id is None:
        problems["case"] = f"Case {case.reference} is no longer open with a worker and a team manager: remove it."
    elif case.id in facts.under_audit:
        problems["case"] = f"Case {case.reference} already has an audit under way: remove it."
    auditor, moderator = facts.people.get(auditor_id), facts.people.get(moderator_id)
    if auditor is None or not auditor.active or not auditor.has_role(AUDITOR_ROLE):
        problems["auditor_id"] = "Choose a team manager as the auditor."
    elif auditor_id == case.worker_id:
        problems["auditor_id"] = f"{auditor.display_name} is the case's own worker and cannot audit it."
    elif auditor_id == manager_id:
        problems["auditor_id"] = f"{auditor.display_name} manages the case's team and cannot audit it."
    if moderator is not None and moderator_id == auditor_id:
        problems["moderator_id"] = "The moderator cannot be the auditor."
    elif moderator is None or not moderator.active or not moderator.has_role(*MODERATOR_ROLES):
        problems["moderator_id"] = "Choose a head of service, the principal social worker or the QA lead as the moderator."
    return problems


def confirm_cycle(session: Session, cycle: AuditCycle, user: User) -> AuditCycle:
    """The QA lead's confirmation: complete the review task, so the process starts the audits."""
    if not can_run_cycles(user):
        raise CycleError("Only the QA lead can confirm a cycle's allocations.")
    _lock(session, cycle)
    if cycle.status != "in_review":
        raise CycleError(f"{cycle.label} is not awaiting review.")
    complete_task(session, _open_task(session, cycle, REVIEW_TASK).id, user, {"confirmed": True})
    return cycle


def review_problems(session: Session, cycle: AuditCycle) -> list[str]:
    """Every proposed allocation that could not start now, one sentence each."""
    proposed = [allocation for allocation in allocations(session, cycle) if allocation.status == "proposed"]
    facts = _Facts.load(session, proposed)
    return [f"{facts.cases[allocation.case_id].reference}: {message}" for allocation in proposed
            for message in _problems(facts, allocation, allocation.auditor_id, allocation.moderator_id).values()]


def eligible_people(session: Session, allocation: CycleAllocation) -> tuple[list[User], list[User]]:
    """Team managers who may audit this case, and everyone who may moderate it."""
    case = session.get(Case, allocation.case_id)
    barred = {case.worker_id, session.get(Team, case.team_id).manager_id}
    auditors = [user for user in _holders(session, (AUDITOR_ROLE,)) if user.id not in barred]
    return auditors, _holders(session, MODERATOR_ROLES)


def loads(session: Session, cycle: AuditCycle) -> tuple[Counter, Counter]:
    """How many of the cycle's live allocations each person audits and moderates."""
    live = [a for a in allocations(session, cycle) if a.status != "removed"]
    return Counter(a.auditor_id for a in live), Counter(a.moderator_id for a in live)


def draw(session: Session, cycle: AuditCycle, seed: int, today: date) -> tuple[int, list[DrawnAllocation]]:
    """The cycle's draw: `draw_sample` with the cycle's cases per team, trimmed to an
    exact number of audits per auditor when the cycle counts per auditor. Returns the
    cases per team it used and the allocations; the same seed and register give the same."""
    if cycle.sample_basis == "per_team":
        return cycle.sample_size, draw_sample(session, seed=seed, per_team=cycle.sample_size, today=today)
    auditors = len(_holders(session, (AUDITOR_ROLE,)))
    teams = session.scalar(select(func.count(Team.id))) or 1
    wanted = cycle.sample_size * auditors
    per_team = math.ceil(wanted / teams)
    drawn = draw_sample(session, seed=seed, per_team=per_team, today=today)
    return per_team, _trim(drawn, wanted, random.Random(f"trim-{seed}"))


@dataclass(frozen=True)
class DrawCheck:
    reproduced: bool
    explanation: str


def verify_draw(session: Session, cycle: AuditCycle) -> DrawCheck:
    """Re-run the recorded draw (seed, cases per team, day) and compare it with what was drawn.

    The register moves on (audits start, cases close), so the check can only prove a
    draw while its cycle is still in review."""
    if cycle.seed is None:
        return DrawCheck(False, f"{cycle.label} has not been drawn yet.")
    if cycle.status != "in_review":
        return DrawCheck(False, "Its audits have started, so the register has moved on since the draw: "
                                "a draw can be re-run only while its cycle is in review.")
    _, again = draw(session, cycle, cycle.seed, cycle.drawn_on)
    recorded = [(a.case_id, a.drawn_auditor_id, a.drawn_moderator_id) for a in allocations(session, cycle)]
    if [(d.case_id, d.auditor_id, d.moderator_id) for d in again] == recorded:
        return DrawCheck(True, f"Re-running the draw with seed {cycle.seed} gives the same {len(recorded)} "
                               "cases, auditors and moderators.")
    return DrawCheck(False, "Re-running the draw gives different allocations: the case register or the "
                            "staff list has changed since the draw.")


def record_draw(session: Session, cycle: AuditCycle, actor_id: int | None, instance_id: int | None) -> int:
    """Draw the cycle with a fresh seed, store its proposals and put it in review.

    A draw the rules cannot make (no auditor outside a team, say) is kept as the
    cycle's `draw_problem` for the QA lead to read on the review page, rather than
    stopping the process: the review then has no cases, and confirming it closes
    the cycle on time. Returns how many cases were drawn."""
    seed = random.SystemRandom().randrange(2 ** 31)
    today = clock.today()
    try:
        per_team, drawn = draw(session, cycle, seed, today)
    except SampleError as error:
        per_team, drawn, cycle.draw_problem = None, [], str(error)
    cycle.seed, cycle.per_team, cycle.drawn_on, cycle.drawn_at = seed, per_team, today, clock.now()
    cycle.status = "in_review"
    for chosen in drawn:
        session.add(CycleAllocation(cycle_id=cycle.id, case_id=chosen.case_id, team_id=chosen.team_id,
                                    drawn_auditor_id=chosen.auditor_id, drawn_moderator_id=chosen.moderator_id,
                                    auditor_id=chosen.auditor_id, moderator_id=chosen.moderator_id))
    session.flush()
    events.record(session, "cycle.drawn", actor_id=actor_id, instance_id=instance_id,
                  subject=("audit_cycle", cycle.id),
                  payload={"cycle": cycle.number, "seed": seed, "per_team": per_team, "drawn_on": today,
                           "sample_basis": cycle.sample_basis, "sample_size": cycle.sample_size,
                           "problem": cycle.draw_problem,
                           "allocations": [{"case": d.case_reference, "auditor_id": d.auditor_id,
                                            "moderator_id": d.moderator_id} for d in drawn]})
    return len(drawn)


def moment(day: date, at: time) -> str:
    """`day` at the council's local time `at`, as the ISO UTC time a BPMN timeDate reads."""
    return datetime.combine(day, at, LOCAL_ZONE).astimezone(timezone.utc).isoformat()


def _trim(drawn: list[DrawnAllocation], wanted: int, rng: random.Random) -> list[DrawnAllocation]:
    """Drop allocations until `wanted` remain: each time one of the busiest auditor's,
    from the team with most cases drawn, its moderator the busiest (ties by `rng`)."""
    drawn = list(drawn)
    while len(drawn) > wanted:
        by_auditor = Counter(d.auditor_id for d in drawn)
        by_team = Counter(d.team_id for d in drawn)
        by_moderator = Counter(d.moderator_id for d in drawn)
        busiest = max(by_auditor.values())
        candidates = [d for d in drawn if by_auditor[d.auditor_id] == busiest]
        best = max((by_team[d.team_id], by_moderator[d.moderator_id]) for d in candidates)
        drawn.remove(rng.choice([d for d in candidates if (by_team[d.team_id], by_moderator[d.moderator_id]) == best]))
    return drawn


def _new_cycle(session: Session, **values) -> AuditCycle:
    number = (session.scalar(select(func.max(AuditCycle.number))) or 0) + 1
    cycle = AuditCycle(number=number, status="scheduled", created_at=clock.now(), **values)
    try:
        with session.begin_nested():
            session.add(cycle)
    except IntegrityError:
        raise CycleError("Another cycle was started at the same moment: look at the cycles list.")
    return cycle


def _start_process(session, cycle: AuditCycle, settings: CycleSettings, *, start_now: bool, actor_id) -> None:
    instance = start_instance(session, PROCESS_KEY, {
        "cycle_id": cycle.id, "cycle_label": cycle.label, "start_now": start_now,
        "cycle_starts_on": cycle.starts_on.isoformat(),
        "cycle_starts_at": moment(cycle.starts_on, settings.start_time),
        "cycle_start_time": settings.start_time.isoformat(timespec="minutes"),
    }, actor_id=actor_id, business_key=f"CYCLE-{cycle.number}")
    cycle.instance_id = instance.id


def _refuse_while_another_is_open(session: Session, besides: AuditCycle | None = None) -> None:
    """One draw at a time: two cycles in review could propose the same case twice, and a
    second chain of scheduled cycles would double the cadence."""
    for cycle in session.scalars(select(AuditCycle).where(AuditCycle.status.in_(("scheduled", "in_review")))):
        if cycle is besides:
            continue
        if cycle.status == "in_review":
            raise CycleError(f"{cycle.label} is awaiting review: confirm its allocations first.")
        raise CycleError(f"{cycle.label} is scheduled to start on {cycle.starts_on:%-d %B %Y}: "
                         "start it early instead of starting another.")


def _reviewable(session: Session, allocation_id: int, user: User) -> CycleAllocation:
    if not can_run_cycles(user):
        raise CycleError("Only the QA lead can review a cycle's allocations.")
    allocation = session.get(CycleAllocation, allocation_id)
    if allocation is None:
        raise CycleError("There is no such allocation.")
    cycle = _lock(session, session.get(AuditCycle, allocation.cycle_id))
    session.refresh(allocation)
    if cycle.status != "in_review" or allocation.status != "proposed":
        raise CycleError("This allocation can no longer be changed: its cycle's audits have started "
                         "or the case was removed.")
    return allocation


def _lock(session: Session, cycle: AuditCycle) -> AuditCycle:
    """The cycle row, locked and read afresh, so a change and a confirmation never cross."""
    return session.scalar(select(AuditCycle).where(AuditCycle.id == cycle.id).with_for_update()
                          .execution_options(populate_existing=True))


def _open_task(session: Session, cycle: AuditCycle, spec_name: str) -> HumanTask:
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == cycle.instance_id,
                                                  HumanTask.spec_name == spec_name, HumanTask.state == "ready"))
    if task is None:
        raise CycleError(f"{cycle.label} has moved on: refresh the page.")
    return task


def _record_change(session: Session, allocation: CycleAllocation, user: User, kind: str, payload: dict) -> None:
    cycle = session.get(AuditCycle, allocation.cycle_id)
    events.record(session, kind, actor_id=user.id, instance_id=cycle.instance_id,
                  subject=("audit_cycle", cycle.id),
                  payload={"cycle": cycle.number, "case": _reference(session, allocation), **payload})


def _reference(session: Session, allocation: CycleAllocation) -> str:
    return session.get(Case, allocation.case_id).reference


def _settings_payload(cycle: AuditCycle) -> dict:
    return {"cycle": cycle.number, "starts_on": cycle.starts_on, "sample_basis": cycle.sample_basis,
            "sample_size": cycle.sample_size, "cadence_weeks": cycle.cadence_weeks}


def _holders(session: Session, roles: tuple[str, ...]) -> list[User]:
    return list(session.scalars(select(User).where(
        User.active.is_(True), User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))))
        .order_by(User.display_name)))
