"""The annual QA report's and the multi-agency audit's timescales, run on the injected clock.

The annual report is started on Monday 1 March 2027 with its sections due on Monday 15 March:
  the reminder (3 working days before)          Wednesday 10 March, 08:00
  overdue (the working day after)               Tuesday 16 March, 08:00
  escalation to the director (5 working days)   Monday 22 March, 08:00
A multi-agency audit's sections are due on Monday 15 March too: the partner is reminded on
10 March and, still not done on 22 March, the QA lead who invited them is told.
(March is before British Summer Time, so 08:00 in London is 08:00 UTC.)
"""
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.notification_models import Notification
from engine.qa.models import Case
from engine.runtime.models import Event, HumanTask, InstanceStart, ProcessInstance
from tests.test_annual_report import SECTIONS
from tests.test_timescales import scheduler  # noqa: F401  (the fixture)
from tests.test_web_lifecycle import Browsers, read

STARTED = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)
DUE = date(2027, 3, 15)
REMINDER = datetime(2027, 3, 10, 8, 0, tzinfo=timezone.utc)
OVERDUE = datetime(2027, 3, 16, 8, 0, tzinfo=timezone.utc)
ESCALATION = datetime(2027, 3, 22, 8, 0, tzinfo=timezone.utc)
A_MOMENT = timedelta(seconds=1)


def dated(prefix: str, day: date) -> dict:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def notices(session, kind: str, subject_starts: str) -> set[str]:
    """Who (by sign-in name) got a notification of `kind` whose subject starts so."""
    return read(session, lambda s: set(s.scalars(select(User.username).join(
        Notification, Notification.recipient_id == User.id).where(
        Notification.kind == kind, Notification.subject.like(f"{subject_starts}%")))))


def holders(session, role: str) -> set[str]:
    return read(session, lambda s: set(s.scalars(select(User.username).join(UserRole).where(
        UserRole.role == role, User.active.is_(True)))))


def test_the_annual_report_reminds_then_escalates_to_the_director(app, session, scheduler):  # noqa: F811
    clock.set(STARTED)
    started = Browsers(app)["qa.lead"].post("/start/annual_report", data={"year": "2026", **dated("due_on", DUE)})
    assert started.status_code == 302
    title = "Reminder: Write the annual QA report"
    scheduler(REMINDER - A_MOMENT)
    assert notices(session, "reminder", title) == set()  # not yet
    scheduler(REMINDER + A_MOMENT)
    assert notices(session, "reminder", title) == holders(session, "qa_lead")  # unclaimed: every QA lead
    scheduler(OVERDUE + A_MOMENT)
    assert notices(session, "overdue", "Overdue: Write the annual QA report") == holders(session, "qa_lead")
    assert notices(session, "escalation", "Escalation: Write the annual QA report") == set()
    scheduler(ESCALATION - A_MOMENT)
    assert notices(session, "escalation", "Escalation: Write the annual QA report") == set()
    scheduler(ESCALATION + A_MOMENT)
    assert notices(session, "escalation", "Escalation: Write the annual QA report") == holders(session, "director")

    # Written late, the director's sign-off is due 10 working days later and has its own timers.
    lead = Browsers(app)["qa.lead"]
    write = int(started.location.rsplit("/", 1)[1])
    lead.post(f"/tasks/{write}", data={"action": "claim"})
    assert lead.post(f"/tasks/{write}", data={**SECTIONS, "action": "complete"}).status_code == 302
    sign_off = read(session, lambda s: s.scalar(select(HumanTask).where(HumanTask.spec_name == "sign_off",
                                                                       HumanTask.state == "ready")))
    assert sign_off.due_on == date(2027, 4, 7)  # 22 March + 10 working days (Good Friday, Easter Monday)
    scheduler(datetime(2027, 4, 14, 7, 0, tzinfo=timezone.utc) + A_MOMENT)  # 5 working days after, 08:00 BST
    assert notices(session, "escalation", "Escalation: Sign off the annual QA report") == {"qa.lead"}


def test_a_partners_section_reminds_the_partner_then_escalates_to_the_qa_lead(app, session, scheduler):  # noqa: F811
    clock.set(STARTED)
    case_id = read(session, lambda s: s.scalar(select(Case.id).where(Case.status == "open").order_by(Case.id)))
    started = Browsers(app)["qa.lead"].post("/start/multi_agency_audit", data={
        "about": str(case_id), "focus": "Information sharing", **dated("sections_due", DUE),
        "partners.0.agency": "health", "partners.0.username": "partner.health"})
    assert started.status_code == 302
    scheduler(REMINDER + A_MOMENT)
    assert notices(session, "reminder", "Reminder: Complete your agency's section") == {"partner.health"}
    scheduler(ESCALATION + A_MOMENT)
    assert notices(session, "escalation", "Escalation: Complete your agency's section") == {"qa.lead"}
    # The joint discussion is due 5 working days after the sections (22 March): its own escalation
    # goes to the assistant directors once it is 5 working days late.
    audit_id = read(session, lambda s: s.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == "multi_agency_audit")))
    assert read(session, lambda s: s.scalar(select(InstanceStart.instance_id).where(
        InstanceStart.parent_instance_id == audit_id))) is not None
    scheduler(datetime(2027, 3, 31, 7, 0, tzinfo=timezone.utc) + A_MOMENT)  # 5 working days on, Easter, 08:00 BST
    assert notices(session, "escalation", "Escalation: Hold the joint discussion") == holders(session, "assistant_director")


def test_a_thematic_recommendation_is_followed_up_in_working_days_once_each(app, session, database_url):
    from engine.database import make_session_factory
    from engine.qa import activity_actions
    from engine.qa.demo_activities import run_thematic_history
    from engine.qa.models import AuditAction
    from engine.qa.timescales import working_days_after, working_days_before
    run_thematic_history(session, sample_size=1, seed=5)
    session.commit()
    action_id, due = read(session, lambda s: s.execute(select(AuditAction.id, AuditAction.due_on).where(
        AuditAction.source == "thematic")).one())
    factory = make_session_factory(database_url)

    def follow_up_at(moment: datetime) -> int:
        session.rollback()
        clock.set(moment)
        return activity_actions.run_scheduled(factory)["notices"]

    subject = "action THM-"
    reminder = datetime.fromisoformat(working_days_before(due, 3))
    assert follow_up_at(reminder - A_MOMENT) == 0
    assert follow_up_at(reminder + A_MOMENT) == 1 and follow_up_at(reminder + timedelta(hours=2)) == 0  # once
    assert notices(session, "reminder", f"Reminder: thematic audit {subject}") == {"hos.cic"}  # its owner
    overdue = datetime.fromisoformat(working_days_after(due, 1))
    assert follow_up_at(overdue + A_MOMENT) == 1
    assert notices(session, "overdue", f"Overdue: thematic audit {subject}") == {"hos.cic"}
    escalation = datetime.fromisoformat(working_days_after(due, 6))
    assert follow_up_at(escalation - A_MOMENT) == 0
    assert follow_up_at(escalation + A_MOMENT) == 1 and follow_up_at(escalation + timedelta(days=3)) == 0
    assert notices(session, "escalation", f"Escalation: thematic audit {subject}") == {"psw"}  # who commissioned it
    trail = read(session, lambda s: [kind for kind in s.scalars(select(Event.kind).where(
        Event.subject_type == "audit_action", Event.subject_id == str(action_id)).order_by(Event.seq))])
    assert trail == ["action.reminder", "action.overdue", "action.escalation"]
    factory.kw["bind"].dispose()


def test_the_follow_up_timescales_are_settings(app, session, database_url, monkeypatch):
    """QA_ACTION_REMINDER_DAYS / _OVERDUE_DAYS / _ESCALATION_DAYS move the notices: here 5, 2 and 4."""
    from engine.database import make_session_factory
    from engine.qa import activity_actions
    from engine.qa.demo_activities import run_thematic_history
    from engine.qa.models import AuditAction
    from engine.qa.timescales import working_days_after, working_days_before
    monkeypatch.setenv("QA_ACTION_REMINDER_DAYS", "5")
    monkeypatch.setenv("QA_ACTION_OVERDUE_DAYS", " 2 ")
    monkeypatch.setenv("QA_ACTION_ESCALATION_DAYS", "4")
    run_thematic_history(session, sample_size=1, seed=5)
    session.commit()
    due = read(session, lambda s: s.scalar(select(AuditAction.due_on).where(AuditAction.source == "thematic")))
    factory = make_session_factory(database_url)

    def follow_up_at(moment: datetime) -> int:
        session.rollback()
        clock.set(moment)
        return activity_actions.run_scheduled(factory)["notices"]

    reminder = datetime.fromisoformat(working_days_before(due, 5))
    assert follow_up_at(reminder - A_MOMENT) == 0 and follow_up_at(reminder + A_MOMENT) == 1
    overdue = datetime.fromisoformat(working_days_after(due, 2))
    assert follow_up_at(datetime.fromisoformat(working_days_after(due, 1)) + A_MOMENT) == 0  # not the default's day
    assert follow_up_at(overdue + A_MOMENT) == 1
    escalation = datetime.fromisoformat(working_days_after(due, 4))
    assert follow_up_at(escalation - A_MOMENT) == 0 and follow_up_at(escalation + A_MOMENT) == 1
    assert notices(session, "escalation", "Escalation: thematic audit action THM-") == {"psw"}
    factory.kw["bind"].dispose()


def test_a_wrong_follow_up_timescale_stops_the_scheduler_at_start(monkeypatch, caplog):
    import logging

    import pytest

    from engine import scheduler as scheduler_module
    from engine.qa.activity_actions import FollowUpDays, follow_up_days
    assert follow_up_days({}) == FollowUpDays(reminder=3, overdue=1, escalation=6)
    wrong = [({"QA_ACTION_REMINDER_DAYS": "three"}, "QA_ACTION_REMINDER_DAYS must be a whole number"),
             ({"QA_ACTION_OVERDUE_DAYS": "0"}, "QA_ACTION_OVERDUE_DAYS must be a whole number of working days from 1"),
             ({"QA_ACTION_ESCALATION_DAYS": "-2"}, "QA_ACTION_ESCALATION_DAYS must be a whole number"),
             ({"QA_ACTION_REMINDER_DAYS": "61"}, "from 1 to 60, not '61'"),
             ({"QA_ACTION_OVERDUE_DAYS": "6"},
              "QA_ACTION_ESCALATION_DAYS (6) must be more than QA_ACTION_OVERDUE_DAYS (6)")]
    for environ, message in wrong:
        with pytest.raises(ValueError) as refused:
            follow_up_days(environ)
        assert message in str(refused.value)
    monkeypatch.setattr(scheduler_module, "configure_logging", lambda: None)
    monkeypatch.setattr(scheduler_module, "_add_jobs", lambda *args: pytest.fail("jobs added despite a bad setting"))
    monkeypatch.setenv("QA_ACTION_ESCALATION_DAYS", "soon")
    with caplog.at_level(logging.ERROR, logger="engine.scheduler"), pytest.raises(SystemExit) as stopped:
        scheduler_module.main()
    assert stopped.value.code == 1
    assert "scheduler not started: QA_ACTION_ESCALATION_DAYS must be a whole number" in caplog.text
    with pytest.raises(ValueError):
        scheduler_module.start_background_scheduler("sqlite://")
