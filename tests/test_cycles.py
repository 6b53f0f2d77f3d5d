"""The allocation cycle through the engine: draw, review, confirm, close, and the next cycle.

Time is the injected clock: a whole six-week cycle, and the start of the next one,
runs in a second by moving the clock and firing the due timers as the scheduler would.
"""
import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.database import make_session_factory
from engine.qa import cycles
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.cycle_models import AuditCycle, CycleAllocation
from engine.qa.models import Audit, Case, Team
from engine.runtime.errors import InvalidFormData
from engine.runtime.events import verify_chain
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.timers import fire_due_timers
from tests.conftest import user_named

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # a Tuesday


@pytest.fixture(autouse=True)
def on_the_first_of_december():
    clock.set(START)


def start(session, **settings):
    settings = {"sample_basis": "per_team", "sample_size": 2, "cadence_weeks": 6, **settings}
    cycle = cycles.start_cycle(session, user_named(session, "qa.lead"), **settings)
    session.commit()
    return cycle


def events_of(session, kind):
    return [json.loads(e.payload) | {"actor_id": e.actor_id}
            for e in session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq))]


def open_tasks(session, cycle):
    return session.scalars(select(HumanTask).where(HumanTask.instance_id == cycle.instance_id,
                                                   HumanTask.state == "ready")).all()


def fire(session, database_url, moment):
    """Move the clock and let the scheduler's timer job run (the test's session ends its read first)."""
    session.rollback()
    clock.set(moment)
    fire_due_timers(make_session_factory(database_url))
    session.expire_all()


def test_a_started_cycle_is_drawn_with_its_seed_and_waits_for_the_qa_leads_review(session):
    cycle = start(session)
    teams = session.scalars(select(Team)).all()
    drawn = cycles.allocations(session, cycle)
    assert cycle.status == "in_review" and cycle.per_team == 2 and cycle.drawn_on == date(2026, 12, 1)
    assert len(drawn) == 2 * len(teams) and {a.status for a in drawn} == {"proposed"}
    assert Counter(a.team_id for a in drawn) == {team.id: 2 for team in teams}
    assert all((a.auditor_id, a.moderator_id) == (a.drawn_auditor_id, a.drawn_moderator_id) for a in drawn)
    [recorded] = events_of(session, "cycle.drawn")
    assert recorded["seed"] == cycle.seed and len(recorded["allocations"]) == len(drawn)
    [review] = open_tasks(session, cycle)
    assert (review.spec_name, review.role, review.assignee_id) == ("review_allocations", "qa_lead", None)
    assert review.title == "Review the cycle's allocations: Cycle 1" and review.business_key == "CYCLE-1"
    check = cycles.verify_draw(session, cycle)
    assert check.reproduced and str(cycle.seed) in check.explanation


def test_a_sample_per_auditor_gives_every_team_manager_the_same_number_of_audits(session):
    cycle = start(session, sample_basis="per_auditor", sample_size=1)
    managers = session.scalars(select(UserRole.user_id).where(UserRole.role == "team_manager")).all()
    drawn = cycles.allocations(session, cycle)
    assert len(drawn) == len(managers)
    assert Counter(a.auditor_id for a in drawn) == {manager: 1 for manager in managers}
    assert cycles.verify_draw(session, cycle).reproduced


def test_swaps_keep_the_draws_rules_and_are_recorded(session):
    cycle = start(session)
    qa_lead = user_named(session, "qa.lead")
    allocation = cycles.allocations(session, cycle)[0]
    case = session.get(Case, allocation.case_id)
    own_manager = session.get(Team, case.team_id).manager_id
    refusals = {
        "own team manager": dict(auditor_id=own_manager, moderator_id=allocation.moderator_id),
        "the worker": dict(auditor_id=case.worker_id, moderator_id=allocation.moderator_id),
        "moderator is auditor": dict(auditor_id=allocation.auditor_id, moderator_id=allocation.auditor_id),
        "a practitioner moderating": dict(auditor_id=allocation.auditor_id, moderator_id=case.worker_id),
    }
    for label, people in refusals.items():
        with pytest.raises(cycles.CycleError) as refused:
            cycles.change_allocation(session, allocation.id, qa_lead, **people)
        session.rollback()
        assert refused.value.field in ("auditor_id", "moderator_id"), label
    assert "manages the case's team" in _refusal(session, allocation, qa_lead, own_manager, allocation.moderator_id)

    other = next(user.id for user in cycles.eligible_people(session, allocation)[0] if user.id != allocation.auditor_id)
    psw = user_named(session, "psw").id
    cycles.change_allocation(session, allocation.id, qa_lead, auditor_id=other, moderator_id=psw)
    session.commit()
    session.refresh(allocation)
    assert (allocation.auditor_id, allocation.moderator_id) == (other, psw)
    assert allocation.drawn_auditor_id != other or allocation.drawn_moderator_id != psw
    [changed] = events_of(session, "cycle.allocation_changed")
    assert changed["case"] == case.reference and changed["after"] == {"auditor_id": other, "moderator_id": psw}
    assert changed["actor_id"] == qa_lead.id


def _refusal(session, allocation, user, auditor_id, moderator_id) -> str:
    try:
        cycles.change_allocation(session, allocation.id, user, auditor_id=auditor_id, moderator_id=moderator_id)
    except cycles.CycleError as refused:
        session.rollback()
        return str(refused)
    raise AssertionError("the change was accepted")


def test_only_the_qa_lead_starts_reviews_and_confirms(session):
    with pytest.raises(cycles.CycleError):
        cycles.start_cycle(session, user_named(session, "qa.officer1"), sample_basis="per_team", sample_size=2,
                           cadence_weeks=6)
    session.rollback()
    cycle = start(session)
    allocation = cycles.allocations(session, cycle)[0]
    for username in ("qa.officer1", "hos.cincp", "tm.mash1"):
        person = user_named(session, username)
        with pytest.raises(cycles.CycleError):
            cycles.remove_allocation(session, allocation.id, person, "not mine to remove")
        with pytest.raises(cycles.CycleError):
            cycles.confirm_cycle(session, cycle, person)
        session.rollback()
    assert session.get(CycleAllocation, allocation.id).status == "proposed"


def test_one_draw_at_a_time(session):
    cycle = start(session)
    with pytest.raises(cycles.CycleError, match="Cycle 1 is awaiting review"):
        start(session)
    session.rollback()
    assert session.scalars(select(AuditCycle)).all() == [cycle]


def test_confirming_starts_one_audit_per_remaining_allocation(session):
    cycle = start(session)
    qa_lead = user_named(session, "qa.lead")
    removed, *kept = cycles.allocations(session, cycle)
    with pytest.raises(cycles.CycleError, match="Say why"):
        cycles.remove_allocation(session, removed.id, qa_lead, "  ")
    session.rollback()
    cycles.remove_allocation(session, removed.id, qa_lead, "Case closing this week")
    cycles.confirm_cycle(session, cycle, qa_lead)
    session.commit()

    audits = session.scalars(select(Audit).where(Audit.cycle_id == cycle.id)).all()
    assert len(audits) == len(kept)
    by_case = {audit.case_id: audit for audit in audits}
    assert removed.case_id not in by_case
    for allocation in kept:
        session.refresh(allocation)
        audit = by_case[allocation.case_id]
        assert (allocation.status, allocation.audit_id) == ("started", audit.id)
        assert (audit.auditor_id, audit.moderator_id, audit.audit_type) == (allocation.auditor_id, allocation.moderator_id, "random")
        assert audit.allocated_by_id == qa_lead.id
        first = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id))
        assert (first.spec_name, first.assignee_id, first.state) == ("prepare_audit", audit.auditor_id, "ready")
    assert cycle.status == "audits_started" and cycle.confirmed_by_id == qa_lead.id
    assert cycle.closes_on == max(audit.moderation_due_on for audit in audits) + timedelta(days=1)
    instance = session.get(ProcessInstance, cycle.instance_id)
    assert instance.next_timer_at is not None and instance.next_timer_at.date() == cycle.closes_on
    assert open_tasks(session, cycle) == []
    [confirmed] = events_of(session, "cycle.confirmed")
    assert confirmed["removed"] == 1 and len(confirmed["audits"]) == len(kept)
    assert verify_chain(session).ok


def test_a_case_that_got_an_audit_since_the_draw_stops_the_confirmation_until_removed(session):
    cycle = start(session)
    qa_lead = user_named(session, "qa.lead")
    allocation = cycles.allocations(session, cycle)[3]
    case = session.get(Case, allocation.case_id)
    allocate_audit(session, AllocationRequest(case.reference, allocation.auditor_id, allocation.moderator_id), qa_lead)
    session.commit()
    assert cycles.review_problems(session, cycle) == [f"{case.reference}: Case {case.reference} already has an audit under way: remove it."]
    with pytest.raises(InvalidFormData) as refused:
        cycles.confirm_cycle(session, cycle, qa_lead)
    session.rollback()
    assert case.reference in refused.value.errors["confirmed"]
    assert session.scalars(select(Audit).where(Audit.cycle_id == cycle.id)).all() == []
    assert session.get(AuditCycle, cycle.id).status == "in_review"
    cycles.remove_allocation(session, allocation.id, qa_lead, "Audited separately this month")
    cycles.confirm_cycle(session, cycle, qa_lead)
    session.commit()
    assert len(session.scalars(select(Audit).where(Audit.cycle_id == cycle.id)).all()) == len(cycles.allocations(session, cycle)) - 1


def test_a_whole_cycle_on_the_injected_clock_then_the_next_one_starts_by_itself(session, database_url):
    cycle = start(session)
    qa_lead = user_named(session, "qa.lead")
    cycles.confirm_cycle(session, cycle, qa_lead)
    session.commit()
    first_cases = {a.case_id for a in cycles.allocations(session, cycle)}
    closes = cycle.closes_on

    fire(session, database_url, datetime(closes.year, closes.month, closes.day, 7, 59, tzinfo=timezone.utc))
    assert session.get(AuditCycle, cycle.id).status == "audits_started"
    fire(session, database_url, datetime(closes.year, closes.month, closes.day, 8, 1, tzinfo=timezone.utc))
    cycle = session.get(AuditCycle, cycle.id)
    assert cycle.status == "closed" and cycle.closed_at is not None
    assert session.get(ProcessInstance, cycle.instance_id).status == "completed"
    [closed] = events_of(session, "cycle.closed")
    assert closed["audits"] == len(first_cases) and closed["next_cycle"] == 2

    following = session.scalar(select(AuditCycle).where(AuditCycle.number == 2))
    assert following.status == "scheduled" and following.starts_on == date(2027, 1, 12)
    assert (following.sample_basis, following.sample_size, following.cadence_weeks) == ("per_team", 2, 6)
    [waiting] = open_tasks(session, following)
    assert (waiting.spec_name, waiting.role, waiting.due_on) == ("start_early", "qa_lead", date(2027, 1, 12))
    instance = session.get(ProcessInstance, following.instance_id)
    assert instance.next_timer_at.replace(tzinfo=timezone.utc) == datetime(2027, 1, 12, 8, 0, tzinfo=timezone.utc)

    fire(session, database_url, datetime(2027, 1, 12, 7, 59, tzinfo=timezone.utc))
    assert session.get(AuditCycle, following.id).status == "scheduled"
    fire(session, database_url, datetime(2027, 1, 12, 8, 1, tzinfo=timezone.utc))
    following = session.get(AuditCycle, following.id)
    assert following.status == "in_review" and following.drawn_on == date(2027, 1, 12)
    assert session.get(HumanTask, waiting.id).state == "cancelled"
    assert [t.spec_name for t in open_tasks(session, following)] == ["review_allocations"]
    again = {a.case_id for a in cycles.allocations(session, following)}
    assert again and not again & first_cases  # audited in the last 12 months: not drawn again
    [drawn] = [e for e in events_of(session, "cycle.drawn") if e["cycle"] == 2]
    assert drawn["actor_id"] is None  # the scheduler drew it
    assert verify_chain(session).ok


def close_first_cycle(session, database_url, **settings) -> AuditCycle:
    """Start and confirm cycle 1, then move the clock to its close and let the timers fire."""
    cycle = start(session, **settings)
    cycles.confirm_cycle(session, cycle, user_named(session, "qa.lead"))
    session.commit()
    fire(session, database_url, datetime.combine(cycle.closes_on, datetime.min.time(), timezone.utc) + timedelta(hours=9))
    assert session.get(AuditCycle, cycle.id).status == "closed"
    return session.get(AuditCycle, cycle.id)


def test_a_next_cycle_whose_start_date_has_passed_is_drawn_as_the_last_one_closes(session, database_url):
    first = close_first_cycle(session, database_url, cadence_weeks=1)
    following = session.scalar(select(AuditCycle).where(AuditCycle.number == 2))
    assert following.starts_on == date(2026, 12, 8) and following.status == "in_review"
    assert following.drawn_on == first.closes_on


def test_a_scheduled_cycle_can_be_started_early(session, database_url):
    close_first_cycle(session, database_url)
    following = cycles.scheduled_cycle(session)
    assert following.number == 2 and following.starts_on == date(2027, 1, 12)
    with pytest.raises(cycles.CycleError, match="Cycle 2 is scheduled to start on 12 January 2027"):
        start(session)
    session.rollback()
    [waiting] = open_tasks(session, following)
    cycles.start_scheduled_cycle_early(session, following, user_named(session, "qa.lead"))
    session.commit()
    assert following.status == "in_review" and following.drawn_on == clock.today() < following.starts_on
    assert session.get(HumanTask, waiting.id).state == "completed"
    assert session.get(ProcessInstance, following.instance_id).next_timer_at is None


def test_no_next_cycle_when_cadence_is_zero(session, database_url):
    first = close_first_cycle(session, database_url, cadence_weeks=0)
    assert session.scalars(select(AuditCycle)).all() == [first]


def test_a_draw_the_rules_cannot_make_is_shown_for_review_and_closes_without_audits(session, database_url):
    keep = user_named(session, "tm.mash1")
    for manager in session.scalars(select(User).join(UserRole).where(UserRole.role == "team_manager")):
        manager.active = manager.id == keep.id
    session.commit()
    cycle = start(session)
    assert cycle.status == "in_review" and cycle.draw_problem and "MASH 1" in cycle.draw_problem
    assert cycles.allocations(session, cycle) == []
    cycles.confirm_cycle(session, cycle, user_named(session, "qa.lead"))
    session.commit()
    fire(session, database_url, START + timedelta(days=1, hours=1))
    assert session.get(AuditCycle, cycle.id).status == "closed"


def test_the_cycle_model_ships_with_a_diagram_of_every_step():
    from lxml import etree
    from engine.runtime.diagram_layout import NS
    from engine.runtime.registry import PROCESSES_DIR
    root = etree.parse(str(PROCESSES_DIR / "audit_cycle" / "audit_cycle.bpmn")).getroot()
    process = root.find("bpmn:process", NS)
    nodes = {child.get("id") for child in process if etree.QName(child).localname not in ("laneSet", "sequenceFlow", "documentation")}
    flows = {flow.get("id") for flow in process.findall("bpmn:sequenceFlow", NS)}
    shapes = {shape.get("bpmnElement"): shape.find("dc:Bounds", NS) for shape in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {edge.get("bpmnElement") for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert nodes <= set(shapes) and flows == edges
    host, timer = shapes["start_early"], shapes["start_date_reached"]
    bottom = float(host.get("y")) + float(host.get("height"))
    assert float(timer.get("y")) < bottom < float(timer.get("y")) + float(timer.get("height"))  # on the task's edge


def test_the_actions_tracker_goes_to_heads_of_service_and_review_managers_when_the_cycle_closes(session, database_url):
    """Framework section 7: on completion of the cycle the tracker is distributed to the heads of
    service for the relevant areas and the conference and review managers."""
    from engine.notification_models import Notification
    from engine.qa.models import Service
    from engine.runtime.instances import complete_task
    from tests import answers
    cycle = start(session)
    qa_lead = user_named(session, "qa.lead")
    cycles.confirm_cycle(session, cycle, qa_lead)
    session.commit()
    audit = session.scalar(select(Audit).where(Audit.cycle_id == cycle.id).order_by(Audit.id))
    for spec_name, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool()),
                            ("record_feedback", answers.FEEDBACK), ("grade_audit", answers.grading("good", actions=1))):
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                      HumanTask.spec_name == spec_name, HumanTask.state == "ready"))
        complete_task(session, task.id, session.get(User, audit.auditor_id), data)
        session.commit()
    closes = cycle.closes_on
    fire(session, database_url, datetime(closes.year, closes.month, closes.day, 8, 1, tzinfo=timezone.utc))
    [closed] = events_of(session, "cycle.closed")
    assert closed["tracker_rows_distributed"] == 1
    [distributed] = events_of(session, "tracker.distributed")
    head_of_service = session.get(Service, audit.service_id).head_of_service_id
    recipients = {sent["user_id"] for sent in distributed["recipients"]}
    assert recipients == {head_of_service, user_named(session, "cr.manager").id}
    assert distributed["actor_id"] == qa_lead.id  # in the name of the QA lead who confirmed the cycle
    sent = session.scalars(select(Notification).where(Notification.recipient_id == head_of_service,
                                                      Notification.subject.like("Audit actions tracker%"))).all()
    assert len(sent) == 1 and "/tracker?" in sent[0].link


# What each audit a confirmation starts costs in SQL: its workflow written to its instance,
# its first task, the auditor's notification (a new instance has no open task rows to read) and, on
# SQLite, its audit and instance rows (PostgreSQL writes the cycle's audit rows in one INSERT
# and their instance rows in another; SQLite returns generated ids a row at a time).
# Everything else (cases, their audits, people, the process version, the grading scale, the
# next reference, the links back to the cycle) is read or written once for the whole cycle:
# a query added per audit fails here.
STATEMENTS_PER_AUDIT = {"postgresql": 3, "sqlite": 5}


def test_confirming_a_cycle_costs_a_fixed_number_of_statements_per_audit(session):
    from tests.test_statement_counts import counted
    counts = []
    for per_team in (1, 2):  # the same teams, so the same team managers are told each time
        cycle = start(session, sample_size=per_team, cadence_weeks=0)
        session.expunge_all()  # a request starts with nothing loaded but the signed-in person
        qa_lead = user_named(session, "qa.lead")
        with counted(session) as statements:
            cycles.confirm_cycle(session, session.get(AuditCycle, cycle.id), qa_lead)
            session.commit()
        started = session.scalars(select(Audit).where(Audit.cycle_id == cycle.id)).all()
        counts.append((len(started), len(statements), statements))
    (fewer, fewer_statements, _), (more, more_statements, listed) = counts
    teams = len(session.scalars(select(Team)).all())
    assert (fewer, more) == (teams, 2 * teams)
    per_audit = STATEMENTS_PER_AUDIT[session.get_bind().dialect.name]
    assert more_statements - fewer_statements <= per_audit * (more - fewer), "\n".join(listed)
