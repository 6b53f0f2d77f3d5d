"""A whole six-weekly cycle on the injected clock, from the case register to the tracker.

The QA lead imports the register (a bad row is reported by line; then the good rows
only), starts a cycle, removes one case at review and confirms; one audit is done at
once and the rest are left. Moving the clock as the scheduler would: a reminder three
working days before the audits are due, then overdue notices and escalation to each
worker's team manager, then the cycle closes and the next is scheduled. Dates by hand:
started Tuesday 1 December 2026, audits due 22 December, the reminder on 17 December,
overdue on 23 December, moderation due 8 January 2027, the cycle closes 9 January.
"""
from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import select, update

from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.notification_models import Notification
from engine.qa import cycles
from engine.qa.case_register import import_register
from engine.qa.cycle_models import AuditCycle
from engine.qa.cycle_tracker import tracker_rows
from engine.qa.models import Audit, Case, Team
from engine.runtime.events import verify_chain
from engine.runtime.instances import complete_task
from engine.runtime.models import HumanTask
from engine.runtime.timers import fire_due_timers
from tests import answers
from tests.conftest import user_named

STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
REGISTER = ("case_reference,cohort,team,worker,opened_on,age_band\n"
            "REG0001,Child in need,MASH 1,sw.mash1.1,2026-06-01,5-9\n"
            "REG0002,Child protection,MASH 1,sw.mash1.2,01/07/2026,10-15\n"
            "REG0003,Child in need,Nowhere,sw.mash1.1,2026-06-01,0-4\n").encode()


def _fire(session, factory, moment) -> int:
    session.rollback()
    clock.set(moment)
    return fire_due_timers(factory)


def _kinds(session, audit_references) -> Counter:
    """How many notifications of each kind name one of these audits."""
    notes = session.scalars(select(Notification)).all()
    return Counter(note.kind for note in notes if any(ref in note.subject for ref in audit_references))


def _complete(session, audit, spec_name, user_id, data) -> None:
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                  HumanTask.spec_name == spec_name, HumanTask.state == "ready"))
    complete_task(session, task.id, session.get(User, user_id), data)
    session.commit()


def test_register_cycle_reminder_overdue_escalation_completion_and_tracker(session, database_url):
    clock.set(STARTED)
    qa_lead = user_named(session, "qa.lead")
    mash1 = session.scalar(select(Team).where(Team.name == "MASH 1"))
    session.execute(update(Case).where(Case.team_id == mash1.id).values(status="closed"))  # the old export

    refused = import_register(session, "register.csv", REGISTER, actor_id=qa_lead.id)
    assert refused.errors == [(4, "there is no team called 'Nowhere'")] and not refused.applied
    imported = import_register(session, "register.csv", REGISTER, actor_id=qa_lead.id, apply_good_rows=True)
    assert (imported.created, imported.applied) == (2, True)
    session.commit()

    cycle = cycles.start_cycle(session, qa_lead, sample_basis="per_team", sample_size=1, cadence_weeks=6)
    session.commit()
    proposed = cycles.allocations(session, cycle)
    mash_case = next(session.get(Case, a.case_id) for a in proposed if a.team_id == mash1.id)
    assert mash_case.reference in {"REG0001", "REG0002"}  # drawn from the imported register
    removed = next(a for a in proposed if a.team_id != mash1.id)
    cycles.remove_allocation(session, removed.id, qa_lead, "Case transferring to another authority")
    cycles.confirm_cycle(session, cycle, qa_lead)
    session.commit()

    audits = session.scalars(select(Audit).where(Audit.cycle_id == cycle.id).order_by(Audit.id)).all()
    assert len(audits) == len(proposed) - 1 and {a.due_on.isoformat() for a in audits} == {"2026-12-22"}
    references = [audit.reference for audit in audits]
    assert _kinds(session, references)["new_task"] == len(audits)  # each auditor told of their audit

    done = next(audit for audit in audits if audit.case_id == mash_case.id)
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool()),
                       ("record_feedback", answers.FEEDBACK), ("grade_audit", answers.grading("good", actions=0))):
        _complete(session, done, spec, done.auditor_id, data)
    _complete(session, done, "add_reflections", done.worker_id, answers.REFLECTION)
    _complete(session, done, "moderate_audit", done.moderator_id, answers.MODERATION_AGREED)
    _complete(session, done, "confirm_closure", qa_lead.id, answers.CLOSURE)
    waiting = [audit for audit in audits if audit.id != done.id]

    factory = make_session_factory(database_url)
    assert _fire(session, factory, datetime(2026, 12, 17, 8, 0, 1, tzinfo=timezone.utc)) == len(waiting)
    assert _kinds(session, references)["reminder"] == len(waiting)
    assert _kinds(session, [done.reference])["reminder"] == 0  # finished before its reminder

    assert _fire(session, factory, datetime(2026, 12, 23, 8, 0, 1, tzinfo=timezone.utc)) == len(waiting)
    kinds = _kinds(session, references)
    assert (kinds["overdue"], kinds["escalation"]) == (len(waiting), len(waiting))
    for audit in waiting:
        to_manager = session.scalars(select(Notification).where(
            Notification.recipient_id == audit.team_manager_id, Notification.kind == "escalation",
            Notification.subject.contains(audit.reference))).all()
        assert len(to_manager) == 1, audit.reference

    rows = {row.values["audit"]: row for row in tracker_rows(session, cycle, qa_lead)}
    assert set(rows) == set(references)
    finished = rows[done.reference].values
    assert (finished["status"], finished["grade"], finished["moderated_grade"]) == ("Closed", "Good", "Good")
    assert finished["completed"].isoformat() == finished["moderated"].isoformat() == "2026-12-01"
    assert rows[done.reference].overdue is None
    assert {rows[audit.reference].overdue for audit in waiting} == {"audit"}

    _fire(session, factory, datetime(2027, 1, 9, 8, 0, 1, tzinfo=timezone.utc))
    assert session.get(AuditCycle, cycle.id, populate_existing=True).status == "closed"
    assert session.scalar(select(AuditCycle).where(AuditCycle.number == 2)).status == "scheduled"
    assert _kinds(session, references)["escalation"] == 2 * len(waiting)  # the heads of service too, on 4 January
    assert verify_chain(session).ok
    factory.kw["bind"].dispose()
