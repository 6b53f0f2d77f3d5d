"""The cycle's random draw: reproducible from its seed, fair, and within the rules."""
from collections import Counter
from datetime import date

from sqlalchemy import select

from engine.accounts import User
from engine.qa.models import Case, Team
from engine.qa.sampling import draw_sample

TODAY = date(2026, 12, 1)


def test_the_same_seed_draws_the_same_sample_and_another_seed_differs(session):
    first = draw_sample(session, seed=42, per_team=2, today=TODAY)
    assert first == draw_sample(session, seed=42, per_team=2, today=TODAY)
    assert first != draw_sample(session, seed=43, per_team=2, today=TODAY)


def test_the_draw_keeps_the_rules(session):
    drawn = draw_sample(session, seed=1, per_team=2, today=TODAY)
    teams = session.scalars(select(Team)).all()
    assert len(drawn) == 2 * len(teams)
    assert Counter(a.team_id for a in drawn) == {team.id: 2 for team in teams}
    manager_of = {team.id: team.manager_id for team in teams}
    for allocation in drawn:
        case = session.get(Case, allocation.case_id)
        assert allocation.auditor_id not in (case.worker_id, manager_of[case.team_id])
        assert allocation.moderator_id != allocation.auditor_id
        assert "team_manager" in session.get(User, allocation.auditor_id).roles
    audit_load = Counter(a.auditor_id for a in drawn).values()
    moderation_load = Counter(a.moderator_id for a in drawn).values()
    assert max(audit_load) - min(audit_load) <= 1
    assert max(moderation_load) - min(moderation_load) <= 1


def test_cases_audited_in_the_last_twelve_months_are_skipped(session):
    from engine.qa.allocation import AllocationRequest, allocate_audit
    from tests.conftest import user_named
    team = session.scalar(select(Team).where(Team.name == "Leaving Care 1"))
    cases = session.scalars(select(Case).where(Case.team_id == team.id)).all()
    for case in cases[:-1]:
        allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                  user_named(session, "hos.cincp").id), user_named(session, "qa.lead"))
    session.commit()
    drawn = draw_sample(session, seed=5, per_team=3, today=TODAY, team_ids=[team.id])
    assert [a.case_id for a in drawn] == [cases[-1].id]
