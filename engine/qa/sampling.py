"""The random draw of cases for a six-weekly audit cycle, with the rules people expect.

- Cases are drawn at random per team (a sample size per team), skipping any case
  audited in the last 12 months or with an audit under way.
- Each case gets an auditor: a team manager who is neither the case's worker nor its
  team's manager (so, by default, from another team), the least-loaded first.
- Each audit gets a moderator drawn evenly from the heads of service, the principal
  social worker and the QA lead, never the auditor.
- The draw is fully determined by its seed, which is recorded, so anyone can re-run
  it and get the same allocations: the draw can be shown to be fair.
"""
import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.qa.models import Audit, Case, Team

RECENT_AUDIT_DAYS = 365
MODERATOR_ROLES = ("head_of_service", "principal_social_worker", "qa_lead")


@dataclass(frozen=True)
class DrawnAllocation:
    case_id: int
    case_reference: str
    team_id: int
    auditor_id: int
    moderator_id: int


class SampleError(ValueError):
    """The draw cannot be made as asked (for example, no eligible auditor)."""


def draw_sample(session: Session, *, seed: int, per_team: int, today: date,
                team_ids: list[int] | None = None) -> list[DrawnAllocation]:
    """Draw `per_team` cases from each team (or the teams listed) with auditors and moderators."""
    rng = random.Random(seed)
    teams = list(session.scalars(select(Team).order_by(Team.id)))
    if team_ids is not None:
        teams = [team for team in teams if team.id in set(team_ids)]
    people = ReviewerAllocator(session, rng, manager_of={team.id: team.manager_id for team in teams})
    ineligible = recently_audited_cases(session, today)
    for team in teams:
        eligible = list(session.scalars(select(Case).where(
            Case.team_id == team.id, Case.status == "open", Case.worker_id.is_not(None),
            Case.opened_on <= today).order_by(Case.id)))  # never a case whose file opens after the draw
        eligible = [case for case in eligible if case.id not in ineligible]
        for case in rng.sample(eligible, min(per_team, len(eligible))):
            people.assign(case, team.name)
    return people.evened_out()


def recently_audited_cases(session: Session, today: date) -> set[int]:
    """Cases audited in the last 12 months or with an audit under way: never drawn again."""
    return set(session.scalars(select(Audit.case_id).where(
        (Audit.allocated_at >= today - timedelta(days=RECENT_AUDIT_DAYS)) | (Audit.status != "closed"))))


class ReviewerAllocator:
    """Gives each drawn case an auditor and a moderator by the draw's rules, keeping the load
    even; shared by the cycle's draw and the thematic audit's (engine/qa/thematic.py)."""

    def __init__(self, session: Session, rng: random.Random, manager_of: dict[int, int | None]):
        self.session, self.rng, self.manager_of = session, rng, manager_of
        auditors = _holders(session, ("team_manager",))
        moderators = _holders(session, MODERATOR_ROLES)
        if not auditors or not moderators:
            raise SampleError("There are no team managers to audit or no moderators to moderate.")
        self.audit_load = {user_id: 0 for user_id in auditors}
        self.moderation_load = {user_id: 0 for user_id in moderators}
        self.drawn: list[DrawnAllocation] = []

    def assign(self, case: Case, team_name: str) -> None:
        """An auditor from outside the case's team (not its worker) and a moderator who is not the auditor."""
        excluded = {case.worker_id, self.manager_of.get(case.team_id)}
        auditor = _least_loaded(self.rng, self.audit_load, excluded)
        if auditor is None:
            raise SampleError(f"No team manager outside {team_name} is free to audit case {case.reference}.")
        moderator = _least_loaded(self.rng, self.moderation_load, {auditor})
        if moderator is None:
            raise SampleError(f"No moderator other than the auditor is available for case {case.reference}.")
        self.audit_load[auditor] += 1
        self.moderation_load[moderator] += 1
        self.drawn.append(DrawnAllocation(case.id, case.reference, case.team_id, auditor, moderator))

    def evened_out(self) -> list[DrawnAllocation]:
        return _even_out_auditors(self.drawn, self.audit_load, excluded_for={
            d.case_id: {self.session.get(Case, d.case_id).worker_id, self.manager_of.get(d.team_id), d.moderator_id}
            for d in self.drawn})


def _even_out_auditors(drawn, load, excluded_for) -> list[DrawnAllocation]:
    """Greedy allocation can end with one auditor two audits ahead of another (the
    last team's own manager may be the only one left with fewer). Move audits from
    the busiest to the idlest auditor while a move keeps every rule."""
    drawn = list(drawn)
    while True:
        busiest, idlest = max(load, key=load.get), min(load, key=load.get)
        if load[busiest] - load[idlest] <= 1:
            return drawn
        for index, allocation in enumerate(drawn):
            if allocation.auditor_id == busiest and idlest not in excluded_for[allocation.case_id]:
                drawn[index] = DrawnAllocation(allocation.case_id, allocation.case_reference, allocation.team_id,
                                               idlest, allocation.moderator_id)
                load[busiest] -= 1
                load[idlest] += 1
                break
        else:
            return drawn


def _holders(session: Session, roles: tuple[str, ...]) -> list[int]:
    return list(session.scalars(select(User.id).join(UserRole).where(
        UserRole.role.in_(roles), User.active.is_(True)).distinct().order_by(User.id)))


def _least_loaded(rng: random.Random, load: dict[int, int], excluded: set) -> int | None:
    candidates = [user_id for user_id in load if user_id not in excluded]
    if not candidates:
        return None
    lowest = min(load[user_id] for user_id in candidates)
    return rng.choice([user_id for user_id in candidates if load[user_id] == lowest])
