"""The thematic audit's timescales in working days: the QA lead is told when the sample is
overdue; before the findings deadline they are reminded, after it told, and five working days
on the commissioner is told; each notice is a notification and an event."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine.clock import clock
from engine.notification_models import Notification
from engine.qa.models import Service
from engine.qa.thematic_models import ThematicAudit
from engine.qa.timescales import working_days_before
from engine.qa.working_days import add_working_days
from engine.runtime.instances import claim_task, complete_task
from engine.runtime.models import Event, HumanTask
from engine.runtime.starting import start_process
from tests.conftest import user_named
from tests.test_timescales import scheduler  # noqa: F401  (the fixture)

COMMISSIONED = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)  # a Monday


def notices(session, kind: str) -> list[tuple[int, str]]:
    return [(n.recipient_id, n.subject) for n in session.scalars(
        select(Notification).where(Notification.kind == kind).order_by(Notification.id))]


def test_thematic_reminders_overdue_notices_and_escalation(session, scheduler):  # noqa: F811
    clock.set(COMMISSIONED)
    psw, lead = user_named(session, "psw"), user_named(session, "qa.lead")
    service_id = session.scalar(select(Service.id).where(Service.name == "Children in Care"))
    deadline = add_working_days(COMMISSIONED.date(), 40)
    instance = start_process(session, psw, "thematic_audit", {
        "theme": "Permanence", "question": "Is permanence planned early?", "why_now": "review",
        "cohort": "child_in_care", "sample_size": 2, "tool": "case_file_audit",
        "deadline": deadline.isoformat()}, service_id)
    session.commit()
    sample_due = session.scalar(select(HumanTask.due_on).where(HumanTask.instance_id == instance.id))
    assert sample_due == add_working_days(COMMISSIONED.date(), 5)

    scheduler(datetime.combine(sample_due, datetime.min.time(), timezone.utc) + timedelta(hours=12))
    assert notices(session, "overdue") == []
    scheduler(datetime.combine(add_working_days(sample_due, 1), datetime.min.time(), timezone.utc) + timedelta(hours=9))
    overdue = notices(session, "overdue")
    assert overdue and all("Draw the thematic sample was due on" in subject for _, subject in overdue)
    assert lead.id in {recipient for recipient, _ in overdue}  # offered to the QA lead role: every QA lead is told

    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready"))
    claim_task(session, task.id, lead)
    complete_task(session, task.id, lead, {"seed": 11, "confirmed": True})
    session.commit()
    assert session.scalar(select(ThematicAudit.status)) == "in_review"
    # Drawn late, the review is due two working days after the draw; the working day after, the QA lead is told.
    review = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready",
                                                    HumanTask.spec_name == "review_sample"))
    assert review.due_on == add_working_days(clock.today(), 2)
    scheduler(datetime.combine(review.due_on, datetime.min.time(), timezone.utc) + timedelta(hours=12))
    assert [s for _, s in notices(session, "overdue") if "Review the thematic sample" in s] == []
    scheduler(datetime.combine(add_working_days(review.due_on, 1), datetime.min.time(), timezone.utc) + timedelta(hours=9))
    assert [s for _, s in notices(session, "overdue") if "Review the thematic sample was due on" in s]
    review = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready",
                                                    HumanTask.spec_name == "review_sample"))
    complete_task(session, review.id, lead, {"confirmed": True})
    session.commit()
    assert session.scalar(select(ThematicAudit.status)) == "audits_running"

    at_nine = lambda day: datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=9)  # noqa: E731
    scheduler(datetime.fromisoformat(working_days_before(deadline, 3)) + timedelta(minutes=1))
    assert [s for _, s in notices(session, "reminder") if "thematic findings" in s]
    scheduler(at_nine(add_working_days(deadline, 1)))
    assert [s for _, s in notices(session, "overdue") if "Write the thematic findings was due on" in s]
    assert [s for _, s in notices(session, "escalation") if "thematic findings" in s] == []
    scheduler(at_nine(add_working_days(deadline, 5)))
    assert [r for r, s in notices(session, "escalation") if "thematic findings" in s] == [psw.id]
    kinds = set(session.scalars(select(Event.kind).where(Event.instance_id == instance.id)))
    assert {"activity.overdue", "activity.reminder", "activity.escalation", "timer.fired"} <= kinds
