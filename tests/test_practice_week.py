"""A practice week over HTTP as the real people: the QA lead starts it from the Start page,
each head of service gets an observation on the framework's template, the QA lead's summary
waits for every one and ends the week; the scheduler starts one practice week in each period
(six months by default, QA_PRACTICE_WEEK_MONTHS), and never a second."""
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.notification_models import Notification
from engine.database import make_session_factory
from engine.qa import practice_week
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


def test_a_practice_week_from_start_to_its_summary(app, session, scheduler):  # noqa: F811
    clock.set(STARTS)
    browsers = Browsers(app)
    lead = browsers["qa.lead"]
    starts = STARTS.date()
    bad = lead.post("/start/practice_week", data={**dated("week_starts", starts),
                                                   **dated("observations_due", starts - timedelta(days=1))})
    assert bad.status_code == 422 and "must be due on or after the week starts" in bad.get_data(as_text=True)
    started = lead.post("/start/practice_week", data={**dated("week_starts", starts),
                                                       **dated("observations_due", starts + timedelta(days=4))})
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

    assert read(session, lambda s: s.get(ProcessInstance, week_id).status) == "completed"  # the summary ends it


def weeks(session) -> list[tuple[str, str]]:
    return read(session, lambda s: [(p.business_key, p.status) for p in s.scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == "practice_week").order_by(ProcessInstance.id))])


def test_the_scheduler_starts_one_practice_week_each_period_and_never_two(app, session, database_url, monkeypatch):
    factory = make_session_factory(database_url)

    def run_at(moment: datetime):
        session.rollback()
        clock.set(moment)
        return practice_week.run_scheduled(factory)
    # A week the QA lead started by hand in January is the January-June period's week.
    clock.set(STARTS)
    Browsers(app)["qa.lead"].post("/start/practice_week", data={
        **dated("week_starts", STARTS.date()), **dated("observations_due", STARTS.date() + timedelta(days=4))})
    assert len(weeks(session)) == 1
    assert run_at(datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)) is None
    assert run_at(datetime(2027, 7, 3, 9, 0, tzinfo=timezone.utc)) is None  # a Saturday: not a working day
    started = run_at(datetime(2027, 7, 5, 9, 0, tzinfo=timezone.utc))  # the first working day it runs on
    assert started and started["started"] == weeks(session)[1][0] and len(weeks(session)) == 2
    assert run_at(datetime(2027, 7, 5, 10, 0, tzinfo=timezone.utc)) is None  # the next hour's run
    assert run_at(datetime(2027, 12, 20, 9, 0, tzinfo=timezone.utc)) is None
    second = read(session, lambda s: s.scalar(select(ProcessInstance.id).where(
        ProcessInstance.business_key == started["started"])))
    answers = read(session, lambda s: s.scalar(select(InstanceStart.answers).where(InstanceStart.instance_id == second)))
    assert answers == {"week_starts": "2027-07-05", "observations_due": "2027-07-09"}
    heads = read(session, lambda s: s.scalar(select(func.count(User.id)).join(UserRole).where(
        UserRole.role == "head_of_service", User.active.is_(True))))
    assert len(observation_tasks(session, second)) == heads  # each head of service has an observation
    assert run_at(datetime(2028, 1, 4, 9, 0, tzinfo=timezone.utc))["started"]  # the next period's
    assert len(weeks(session)) == 3

    monkeypatch.setenv("QA_PRACTICE_WEEK_MONTHS", "3")  # quarterly: April starts a period of its own
    assert run_at(datetime(2028, 4, 3, 9, 0, tzinfo=timezone.utc))["started"]
    assert run_at(datetime(2028, 5, 3, 9, 0, tzinfo=timezone.utc)) is None and len(weeks(session)) == 4
    monkeypatch.setenv("QA_PRACTICE_WEEK_MONTHS", "5")
    with pytest.raises(ValueError, match="must be 1, 2, 3, 4, 6 or 12"):
        run_at(datetime(2028, 7, 3, 9, 0, tzinfo=timezone.utc))
    factory.kw["bind"].dispose()


def test_the_demo_history_holds_a_practice_week_through_its_process(session):
    from engine.qa.demo_activities import run_practice_week_history
    week_id = run_practice_week_history(session)
    session.commit()
    assert session.get(ProcessInstance, week_id).status == "completed"  # closed by the summary
    assert session.scalar(select(Event.kind).where(Event.instance_id == week_id, Event.kind == "practice_week.closed"))
    assert observation_tasks(session, week_id) == []
