"""A practice week over HTTP as the real people: the QA lead starts it from the Start page,
each head of service gets an observation on the framework's template, the QA lead's summary
waits for every one, and the timer starts the next practice week when it is due."""
import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.notification_models import Notification
from engine.qa.practice_week import add_months
from engine.qa.working_days import add_working_days
from engine.runtime.instances import complete_task
from engine.runtime.models import Event, HumanTask, InstanceStart, ProcessInstance
from tests.test_timescales import scheduler  # noqa: F401  (the fixture)
from tests.test_web_lifecycle import Browsers, read

STARTS = datetime(2027, 1, 11, 9, 0, tzinfo=timezone.utc)
OBSERVATION = {"practitioner": "A social worker in Safeguarding 1", "setting": "home_visit", "family_consent": "yes",
               "observed": "Clear explanation of the plan to the parent.", "strengths": "Warm, direct.",
               "development": "Check the child's understanding.", "feedback_given": "Given after the visit.",
               "practitioner_reflection": "Will use the three houses tool next time.", "action": "complete"}


def dated(prefix: str, day: date) -> dict:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def observation_tasks(session, week_id: int) -> list[tuple[int, int]]:
    def query(s):
        children = s.scalars(select(InstanceStart.instance_id).where(InstanceStart.parent_instance_id == week_id))
        return [(task.id, task.assignee_id) for task in s.scalars(select(HumanTask).where(
            HumanTask.instance_id.in_(children), HumanTask.state == "ready").order_by(HumanTask.id))]
    return read(session, query)


def test_a_practice_week_from_start_to_the_next_one(app, session, scheduler):  # noqa: F811
    clock.set(STARTS)
    browsers = Browsers(app)
    lead = browsers["qa.lead"]
    starts = STARTS.date()
    bad = lead.post("/start/practice_week", data={**dated("week_starts", starts),
                                                   **dated("observations_due", starts - timedelta(days=1)),
                                                   "every_months": "6"})
    assert bad.status_code == 422 and "must be due on or after the week starts" in bad.get_data(as_text=True)
    started = lead.post("/start/practice_week", data={**dated("week_starts", starts),
                                                       **dated("observations_due", starts + timedelta(days=4)),
                                                       "every_months": "6"})
    assert started.status_code == 302 and "/tasks/" in started.location  # the QA lead's review is theirs to claim
    week_id = read(session, lambda s: s.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == "practice_week")))
    heads = read(session, lambda s: set(s.scalars(select(User.id).join(UserRole).where(
        UserRole.role == "head_of_service", User.active.is_(True)))))
    tasks = observation_tasks(session, week_id)
    assert {assignee for _, assignee in tasks} == heads and len(tasks) == len(heads)

    hos_id = read(session, lambda s: s.scalar(select(User.id).where(User.username == "hos.cincp")))
    mine = next(task for task, assignee in tasks if assignee == hos_id)
    assert f"/tasks/{mine}" in browsers["hos.cincp"].get("/inbox").get_data(as_text=True)
    assert browsers["hos.cincp"].post(f"/tasks/{mine}", data=OBSERVATION).status_code == 302

    scheduler(datetime.combine(add_working_days(starts + timedelta(days=4), 1), datetime.min.time(), timezone.utc)
              + timedelta(hours=9))
    overdue = read(session, lambda s: set(s.scalars(select(Notification.recipient_id).where(
        Notification.kind == "overdue", Notification.subject.like("Overdue: Record an observation of practice%")))))
    assert overdue == heads - {hos_id}  # only those who have not recorded theirs
    lead = Browsers(app)["qa.lead"]  # the clock moved on past the earlier session's idle time

    review = int(started.location.rsplit("/", 1)[1])
    lead.post(f"/tasks/{review}", data={"action": "claim"})
    early = lead.post(f"/tasks/{review}", data={"summary": "Too soon", "action": "complete"})
    assert early.status_code == 422 and "when every observation is done" in early.get_data(as_text=True)
    answers = {key: value for key, value in OBSERVATION.items() if key != "action"} | {"family_consent": False,
                                                                                     "setting": "supervision"}
    for task_id, assignee in observation_tasks(session, week_id):
        complete_task(session, task_id, session.get(User, assignee), answers)
    session.commit()
    assert lead.post(f"/tasks/{review}", data={"summary": "Strong relational practice; check consent.",
                                               "action": "complete"}).status_code == 302
    closed = read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(Event.kind == "practice_week.closed"))))
    assert closed == {"observations": len(heads), "by_setting": {"home_visit": 1, "supervision": len(heads) - 1},
                      "family_consent": 1}
    page = lead.get(f"/instances/{week_id}").get_data(as_text=True)
    assert 'id="child-instances"' in page and page.count("Completed") >= len(heads)

    assert read(session, lambda s: s.scalar(select(func.count(ProcessInstance.id)).where(
        ProcessInstance.process_key == "practice_week"))) == 1
    scheduler(datetime.combine(add_months(starts, 6), datetime.min.time(), timezone.utc) + timedelta(hours=9))
    weeks = read(session, lambda s: s.scalars(select(ProcessInstance.status).where(
        ProcessInstance.process_key == "practice_week").order_by(ProcessInstance.id)).all())
    assert weeks == ["completed", "running"]
    next_week = read(session, lambda s: s.scalars(select(ProcessInstance.id).where(
        ProcessInstance.process_key == "practice_week").order_by(ProcessInstance.id)).all()[-1])
    assert len(observation_tasks(session, next_week)) == len(heads)


def test_the_demo_history_holds_a_practice_week_through_its_process(session):
    from engine.qa.demo_activities import run_practice_week_history
    week_id = run_practice_week_history(session)
    session.commit()
    assert session.get(ProcessInstance, week_id).status == "running"  # closed, waiting for the next week's date
    assert session.scalar(select(Event.kind).where(Event.instance_id == week_id, Event.kind == "practice_week.closed"))
    assert observation_tasks(session, week_id) == []
