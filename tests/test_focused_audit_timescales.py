"""A thematic audit's focused audit has the case file audit's timescales in working days, from
its own diagram: allocated on Monday 7 December 2026 its tool is due on 30 December, so (as
worked out by hand in tests/test_timescales.py) the auditor is reminded on 23 December, told
it is overdue on 31 December with the worker's team manager, and the head of service is told
on 8 January 2027; the moderator's check, due 14 January, is reminded on 11 January and
escalated to the assistant director on 22 January."""
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.notification_models import Notification
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.focused_tool import PROCESS_KEY, focused_tool_form
from engine.qa.models import Audit, Case, Service, Team
from engine.runtime.instances import complete_task
from engine.runtime.models import Event, HumanTask
from tests.conftest import user_named
from tests.test_timescales import scheduler  # noqa: F401  (the fixture)
from tests.test_timescales import (A_MOMENT, ALLOCATED, MODERATION_OVERDUE, MODERATION_REMINDER,
                                   MODERATION_TO_ASSISTANT_DIRECTOR, OVERDUE, REMINDER, TO_HEAD_OF_SERVICE)

QUESTIONS = [{"key": "q1", "question": "Was the child seen alone?"}]


def told(session, kind: str, about: str) -> set[str]:
    """Who (by sign-in name) was sent a notice of `kind` whose subject starts with `about`."""
    return set(session.scalars(select(User.username).join(Notification, Notification.recipient_id == User.id)
                               .where(Notification.kind == kind, Notification.subject.like(f"{about}%"))))


def test_a_focused_audit_reminds_then_escalates_in_working_days(session, scheduler):  # noqa: F811
    clock.set(ALLOCATED)
    auditor, moderator = user_named(session, "tm.mash1"), user_named(session, "hos.cincp")
    case = session.scalars(select(Case).join(Team).where(Team.manager_id != auditor.id).order_by(Case.id)).first()
    audit = allocate_audit(session, AllocationRequest(
        case.reference, auditor.id, moderator.id, audit_type="thematic", process_key=PROCESS_KEY,
        start_data={"focused_tool": focused_tool_form("Neglect", QUESTIONS)}), user_named(session, "qa.lead"))
    session.commit()
    audit_id, instance_id = audit.id, audit.instance_id
    team_manager = session.get(User, audit.team_manager_id).username
    head = session.get(User, session.get(Service, audit.service_id).head_of_service_id).username
    assistant_director = session.get(User, session.get(Service, audit.service_id).assistant_director_id).username

    scheduler(REMINDER - A_MOMENT)
    assert told(session, "reminder", "Reminder: the audit") == set()
    scheduler(REMINDER + A_MOMENT)
    assert told(session, "reminder", "Reminder: the audit is due on 30 December 2026") == {"tm.mash1"}
    scheduler(OVERDUE + A_MOMENT)
    assert told(session, "overdue", "Overdue: the audit was due on 30 December 2026") == {"tm.mash1"}
    assert told(session, "escalation", "Escalation: the audit is overdue") == {team_manager} - {"tm.mash1"}
    scheduler(TO_HEAD_OF_SERVICE - A_MOMENT)
    assert head not in told(session, "escalation", "Escalation: the audit is overdue")
    scheduler(TO_HEAD_OF_SERVICE + A_MOMENT)
    assert head in told(session, "escalation", "Escalation: the audit is overdue")

    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready"))
    complete_task(session, task.id, session.get(User, auditor.id), {"focused": {"q1": "yes", "notes": "Seen."}})
    session.commit()
    scheduler(MODERATION_REMINDER - A_MOMENT)
    assert told(session, "reminder", "Reminder: moderation") == set()
    scheduler(MODERATION_REMINDER + A_MOMENT)
    assert told(session, "reminder", "Reminder: moderation of the audit is due on 14 January 2027") == {"hos.cincp"}
    scheduler(MODERATION_OVERDUE + A_MOMENT)
    assert told(session, "overdue", "Overdue: moderation of the audit") == {"hos.cincp"}
    assert told(session, "escalation", "Escalation: moderation of the audit is overdue") == {"qa.lead"}
    scheduler(MODERATION_TO_ASSISTANT_DIRECTOR - A_MOMENT)
    assert assistant_director not in told(session, "escalation", "Escalation: moderation of the audit is overdue")
    scheduler(MODERATION_TO_ASSISTANT_DIRECTOR + A_MOMENT)
    assert told(session, "escalation", "Escalation: moderation of the audit is overdue") == {"qa.lead",
                                                                                            assistant_director}
    trail = list(session.scalars(select(Event.kind).where(Event.subject_type == "audit",
                                                          Event.subject_id == str(audit_id),
                                                          Event.kind.like("audit.%")).order_by(Event.seq)))
    assert trail.count("audit.reminder_sent") == 2 and trail.count("audit.overdue_escalated") == 4
    assert session.get(Audit, audit_id).status == "awaiting_moderation"
