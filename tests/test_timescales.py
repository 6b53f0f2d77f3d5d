"""Timescales from the model, run on the injected clock: reminders, overdue, escalation.

Each test allocates a real case file audit and moves the clock; the scheduler's own
function (`fire_due_timers`, in its own sessions) fires whatever the model's timers
say is due. The expected dates are worked out by hand below, bank holidays included:
allocated on Monday 7 December 2026, the audit is due 15 working days later on
30 December (25 and 28 December are bank holidays), so
  the reminder (3 working days before)        Wednesday 23 December, 08:00
  overdue (the working day after)             Thursday 31 December, 08:00
  to the head of service (6 working days after) Friday 8 January 2027 (1 January is a holiday)
Moderation is due 10 working days after the audit, on Thursday 14 January 2027.
"""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.database import as_utc, make_session_factory
from engine.notification_models import Notification
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Audit, Case, Service, Team
from engine.runtime.events import verify_chain
from engine.runtime.instances import complete_task
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.timers import fire_due_timers
from tests import answers
from tests.conftest import user_named

ALLOCATED = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
REMINDER = datetime(2026, 12, 23, 8, 0, tzinfo=timezone.utc)
OVERDUE = datetime(2026, 12, 31, 8, 0, tzinfo=timezone.utc)
TO_HEAD_OF_SERVICE = datetime(2027, 1, 8, 8, 0, tzinfo=timezone.utc)
MODERATION_REMINDER = datetime(2027, 1, 11, 8, 0, tzinfo=timezone.utc)
MODERATION_OVERDUE = datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)
MODERATION_TO_ASSISTANT_DIRECTOR = datetime(2027, 1, 22, 8, 0, tzinfo=timezone.utc)
A_MOMENT = timedelta(seconds=1)


@pytest.fixture
def scheduler(database_url, session):
    """What the scheduler runs: fire every due timer at a given moment, in its own sessions.

    The test's session ends its read first: SQLite takes the write lock when a transaction begins."""
    factory = make_session_factory(database_url)

    def fire_at(moment: datetime) -> int:
        session.rollback()
        clock.set(moment)
        return fire_due_timers(factory)
    yield fire_at
    factory.kw["bind"].dispose()


def _allocate(session, auditor="tm.mash1", moderator="hos.cincp", skip=0) -> Audit:
    clock.set(ALLOCATED)
    auditor_user = user_named(session, auditor)
    case = session.scalars(select(Case).join(Team).where(Team.manager_id != auditor_user.id)
                           .order_by(Case.id).offset(skip).limit(1)).one()
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor_user.id,
                                                      user_named(session, moderator).id), user_named(session, "qa.lead"))
    session.commit()
    return audit


def _task(session, audit, spec_name) -> HumanTask | None:
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                  HumanTask.spec_name == spec_name, HumanTask.state == "ready"))


def _do(session, audit, spec_name, user_id, data) -> None:
    task = _task(session, audit, spec_name)
    assert task is not None, f"{spec_name} is not open"
    complete_task(session, task.id, session.get(User, user_id), data)
    session.commit()


def _notes(session, user_id, kind) -> list[Notification]:
    rows = session.scalars(select(Notification).where(Notification.recipient_id == user_id, Notification.kind == kind)
                           .order_by(Notification.id)).all()
    session.rollback()  # end the read: the scheduler writes in its own transaction next
    return list(rows)


def _events(session, kind) -> list[Event]:
    rows = session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)).all()
    session.rollback()
    return list(rows)


def _next_timer(session, audit):
    value = session.get(ProcessInstance, audit.instance_id, populate_existing=True).next_timer_at
    session.rollback()
    return as_utc(value)


def _audit_done(session, audit, grade="good", actions=0) -> None:
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool(grade)),
                       ("record_feedback", answers.FEEDBACK), ("grade_audit", answers.grading(grade, actions=actions))):
        _do(session, audit, spec, audit.auditor_id, data)


def test_reminder_then_overdue_then_head_of_service_on_the_injected_clock(session, scheduler):
    audit = _allocate(session)
    reference = f"case {audit.case.reference}, {audit.reference}"
    prepare = _task(session, audit, "prepare_audit")
    assert _next_timer(session, audit) == REMINDER

    assert scheduler(REMINDER - A_MOMENT) == 0
    assert scheduler(REMINDER + A_MOMENT) == 1
    (reminder,) = _notes(session, audit.auditor_id, "reminder")
    assert reminder.subject == f"Reminder: the audit is due on 30 December 2026 ({reference})"
    assert reminder.link == f"/tasks/{prepare.id}"
    assert _task(session, audit, "prepare_audit").id == prepare.id  # the timer did not interrupt the work
    assert _next_timer(session, audit) == OVERDUE

    clock.set(datetime(2026, 12, 24, 10, 0, tzinfo=timezone.utc))
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    assert scheduler(OVERDUE + A_MOMENT) == 1
    tool = _task(session, audit, "complete_audit_tool")
    assert tool.due_on < clock.today()  # every inbox and list shows it overdue
    (overdue,) = _notes(session, audit.auditor_id, "overdue")
    assert overdue.subject == f"Overdue: the audit was due on 30 December 2026 ({reference})"
    assert overdue.link == f"/tasks/{tool.id}" and "the worker's team manager has been told" in overdue.text
    (to_manager,) = _notes(session, audit.team_manager_id, "escalation")
    assert to_manager.subject == f"Escalation: the audit is overdue ({reference})"
    assert "1 working day overdue" in to_manager.text and to_manager.link == f"/audits/{audit.id}"
    assert _notes(session, audit.head_of_service_id, "escalation") == []

    assert scheduler(TO_HEAD_OF_SERVICE - A_MOMENT) == 0
    assert scheduler(TO_HEAD_OF_SERVICE + A_MOMENT) == 1
    (to_head,) = _notes(session, audit.head_of_service_id, "escalation")
    assert "6 working days overdue" in to_head.text  # 31 December, 4 to 8 January: 1 January is a holiday
    assert _next_timer(session, audit) is None  # nothing more is waiting on the audit stage

    kinds = [(e.kind, e.payload) for e in _events(session, "audit.overdue_escalated")]
    assert [('"team_manager"' in payload, '"head_of_service"' in payload) for _, payload in kinds] == \
        [(True, False), (False, True)]
    assert len(_events(session, "audit.reminder_sent")) == 1 and len(_events(session, "audit.overdue")) == 1
    assert verify_chain(session).ok


def test_finishing_the_audit_cancels_its_timers_and_moderation_gets_its_own(session, scheduler):
    audit = _allocate(session)
    _audit_done(session, audit)
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    assert _next_timer(session, audit) == MODERATION_REMINDER

    assert scheduler(MODERATION_REMINDER + A_MOMENT) == 1
    assert _events(session, "audit.reminder_sent")[0].payload.count('"stage":"moderation"') == 1
    (reminder,) = _notes(session, audit.moderator_id, "reminder")
    assert reminder.subject.startswith("Reminder: moderation of the audit is due on 14 January 2027")

    assert scheduler(MODERATION_OVERDUE + A_MOMENT) == 1
    qa_lead = user_named(session, "qa.lead")
    assert len(_notes(session, audit.moderator_id, "overdue")) == 1
    (to_qa_lead,) = _notes(session, qa_lead.id, "escalation")
    assert to_qa_lead.subject.startswith("Escalation: moderation of the audit is overdue")

    assert scheduler(MODERATION_TO_ASSISTANT_DIRECTOR + A_MOMENT) == 1
    director = session.get(Service, audit.service_id).assistant_director_id
    session.rollback()
    assert len(_notes(session, director, "escalation")) == 1
    assert _notes(session, audit.auditor_id, "reminder") == []  # the audit's own timers never fired

    _do(session, audit, "moderate_audit", audit.moderator_id, answers.MODERATION_AGREED)
    assert _task(session, audit, "confirm_closure") is not None


def test_an_inadequate_audit_tells_the_head_of_service_at_once_and_a_late_acknowledgement_escalates(session, scheduler):
    audit = _allocate(session)
    clock.set(datetime(2026, 12, 29, 14, 0, tzinfo=timezone.utc))  # graded the day before the audit is due
    _audit_done(session, audit, grade="inadequate", actions=1)
    acknowledge = _task(session, audit, "acknowledge_escalation")
    assert acknowledge.due_on.isoformat() == "2026-12-30"  # one working day; the reflections are due that day too
    assert _task(session, audit, "add_reflections").due_on == acknowledge.due_on
    (urgent,) = _notes(session, audit.head_of_service_id, "inadequate_audit")
    assert urgent.subject == f"Inadequate audit: immediate attention needed (case {audit.case.reference}, {audit.reference})"
    assert "by 30 December 2026" in urgent.text and urgent.link == f"/audits/{audit.id}"
    assert len(_notes(session, audit.team_manager_id, "inadequate_audit")) == 1
    assert [n.link for n in _notes(session, audit.head_of_service_id, "new_task")] == [f"/tasks/{acknowledge.id}"]

    assert scheduler(datetime(2026, 12, 30, 8, 0, 1, tzinfo=timezone.utc)) == 1  # the morning it is due
    (reminder,) = _notes(session, audit.head_of_service_id, "reminder")
    assert reminder.link == f"/tasks/{acknowledge.id}"
    assert _notes(session, audit.worker_id, "reminder") == []  # the reflections are not this timer's work
    assert scheduler(datetime(2026, 12, 31, 8, 0, 1, tzinfo=timezone.utc)) == 1  # not acknowledged in time
    assert len(_notes(session, audit.head_of_service_id, "overdue")) == 1
    director = session.get(Service, audit.service_id).assistant_director_id
    session.rollback()
    (to_director,) = _notes(session, director, "escalation")
    assert "acknowledgement (inadequate audit) is overdue" in to_director.subject

    _do(session, audit, "acknowledge_escalation", audit.head_of_service_id, answers.ACKNOWLEDGEMENT)
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    assert _next_timer(session, audit) == MODERATION_REMINDER  # only moderation's timers wait now


def test_an_overdue_action_tells_its_owner_and_team_manager_then_the_head_of_service(session, scheduler):
    audit = _allocate(session)
    _audit_done(session, audit, grade="requires_improvement", actions=1)  # A1 due Monday 11 January, owned by the worker
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    _do(session, audit, "moderate_audit", audit.moderator_id, answers.MODERATION_AGREED)
    review = _task(session, audit, "review_action")
    assert review.assignee_id == audit.team_manager_id and "Update the chronology" in review.title
    (new_task,) = [n for n in _notes(session, audit.team_manager_id, "new_task") if n.link == f"/tasks/{review.id}"]
    assert new_task.subject == f"New task: Review an audit action in supervision (case {audit.case.reference}, {audit.reference})"
    assert "Update the chronology" not in new_task.text  # the action's own wording stays in the app

    assert scheduler(datetime(2027, 1, 6, 8, 0, 1, tzinfo=timezone.utc)) == 1  # 3 working days before
    for person in (audit.team_manager_id, audit.worker_id):
        (reminder,) = _notes(session, person, "reminder")
        assert reminder.subject.startswith("Reminder: audit action A1 is due on 11 January 2027")
    assert scheduler(datetime(2027, 1, 12, 8, 0, 1, tzinfo=timezone.utc)) == 1
    assert [len(_notes(session, p, "overdue")) for p in (audit.team_manager_id, audit.worker_id)] == [1, 1]
    assert _notes(session, audit.head_of_service_id, "escalation") == []
    assert scheduler(datetime(2027, 1, 19, 8, 0, 1, tzinfo=timezone.utc)) == 1
    (to_head,) = _notes(session, audit.head_of_service_id, "escalation")
    assert to_head.subject.startswith("Escalation: audit action A1 is overdue")
    assert "Please" not in to_head.subject and "Update the chronology" not in to_head.text  # no action wording

    _do(session, audit, "review_action", audit.team_manager_id, answers.action_review())
    assert _next_timer(session, audit) is None


def test_a_scheduler_that_was_down_catches_up_once_and_skips_stale_reminders(session, scheduler):
    first, second = _allocate(session), _allocate(session, skip=1)
    assert scheduler(TO_HEAD_OF_SERVICE + timedelta(days=3)) == 2  # both audits, every timer due since
    assert scheduler(TO_HEAD_OF_SERVICE + timedelta(days=4)) == 0  # and each fired exactly once
    for audit in (first, second):
        told = [(n.kind, n.recipient_id) for n in session.scalars(select(Notification).where(
            Notification.subject.contains(audit.reference), Notification.kind != "new_task"))]
        assert sorted(told) == sorted([("overdue", audit.auditor_id), ("escalation", audit.team_manager_id),
                                       ("escalation", audit.head_of_service_id)])  # no stale reminder
    assert len(_events(session, "audit.reminder_skipped")) == 2
    assert len(_events(session, "audit.overdue_escalated")) == 4
