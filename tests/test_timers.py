"""BPMN timers fire from the due-time column on the injected clock, exactly once."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import String, func, select, update

from engine.clock import clock
from engine.database import make_session_factory
from engine.notification_models import Notification
from engine.runtime.errors import ConcurrentUpdate
from engine.runtime.instances import fire_timers, lock_instance, start_instance
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.registry import publish
from engine.runtime.timers import fire_due_timers

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="reminder" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="QA lead">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>follow_up</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Two days">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="follow_up" name="Follow up">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note-schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="follow_up" />
    <bpmn:sequenceFlow id="f3" sourceRef="follow_up" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""

FILES = {
    "process.json": json.dumps({"key": "reminder", "name": "Reminder", "bpmn_process_id": "reminder",
                                "bpmn_files": ["reminder.bpmn"], "lanes": {"QA lead": {"role": "qa_lead", "person": None}}}),
    "reminder.bpmn": BPMN,
    "forms/note-schema.json": json.dumps({"type": "object", "properties": {"note": {"type": "string"}}}),
}


def test_timer_fires_once_when_due_on_the_injected_clock(session, database_url):
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    publish(session, FILES)
    instance = start_instance(session, "reminder", {}, actor_id=None)
    session.commit()
    assert instance.next_timer_at is not None
    factory = make_session_factory(database_url)

    assert fire_due_timers(factory) == 0  # not due yet
    clock.advance(timedelta(days=2, minutes=1))
    assert fire_due_timers(factory) == 1
    assert fire_due_timers(factory) == 0  # fired exactly once

    session.expire_all()
    row = session.get(ProcessInstance, instance.id)
    assert row.next_timer_at is None and row.revision == 2
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert task.spec_name == "follow_up" and task.state == "ready" and task.role == "qa_lead"


def test_the_scheduler_runs_the_timer_job_from_its_job_list(database_url):
    from engine.scheduler import scheduled_jobs, start_background_scheduler
    assert "fire_due_timers" in {job.name for job in scheduled_jobs()}
    scheduler = start_background_scheduler(database_url)
    try:
        assert {job.id for job in scheduler.get_jobs()} >= {"fire_due_timers"}
    finally:
        scheduler.shutdown(wait=True)


def test_a_batch_fires_every_due_instance_and_one_that_cannot_be_loaded_stays_due(session, database_url):
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    publish(session, FILES)
    started = [start_instance(session, "reminder", {}, actor_id=None) for _ in range(7)]
    session.commit()
    broken = started[3]
    broken.serialized = "{not a workflow"
    session.commit()
    clock.advance(timedelta(days=2, minutes=1))

    assert fire_due_timers(make_session_factory(database_url), batch_size=3) == 6  # and it returns
    session.expire_all()
    moved_on = set(session.scalars(select(HumanTask.instance_id).where(HumanTask.state == "ready")))
    assert moved_on == {instance.id for instance in started} - {broken.id}
    still_due = session.get(ProcessInstance, broken.id)
    assert still_due.next_timer_at is not None and still_due.revision == 1
    from engine.runtime.events import verify_chain
    assert verify_chain(session).ok


def _fire_counting(database_url, count: int, batch_size: int) -> list[str]:
    """Start `count` reminders, move past their timers and fire them in batches of `batch_size`;
    the statements it took, without BEGIN (SQLite's own; PostgreSQL's driver begins unseen)."""
    from sqlalchemy import event
    factory = make_session_factory(database_url)
    with factory() as session:
        publish(session, FILES)
        for _ in range(count):
            start_instance(session, "reminder", {}, actor_id=None)
        session.commit()
    clock.advance(timedelta(days=2, minutes=1))
    statements = []
    engine = factory.kw["bind"]
    listener = lambda conn, cursor, statement, *rest: statements.append(" ".join(statement.split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert fire_due_timers(factory, batch_size=batch_size) == count
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        engine.dispose()
    return [statement for statement in statements if not statement.startswith("BEGIN")]


# A batch, however many timers it holds: claim, read the version, save every workflow (one
# executemany), read their open task rows, add their new tasks (one INSERT), read the role's
# holders, notify them (one INSERT), seal the trail (read the head, insert the events, move
# the head). Then the claim that finds nothing more due.
STATEMENTS_PER_BATCH = 10


def test_a_batch_fires_cleanly_in_a_fixed_number_of_statements_whatever_its_size(database_url):
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    two = _fire_counting(database_url, 2, batch_size=50)
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    nine = _fire_counting(database_url, 9, batch_size=3)
    assert not [statement for statement in nine if "SAVEPOINT" in statement]
    assert len(two) == STATEMENTS_PER_BATCH + 1, "\n".join(two)
    assert len(nine) == 3 * STATEMENTS_PER_BATCH + 1, "\n".join(nine)  # a query per timer would add nine


def test_each_new_task_and_notification_of_a_batch_is_paired_with_its_own_instance(session, database_url):
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    publish(session, FILES)
    started = {start_instance(session, "reminder", {}, actor_id=None, business_key=f"R-{number}").id: f"R-{number}"
               for number in range(8)}
    session.commit()
    clock.advance(timedelta(days=2, minutes=1))
    assert fire_due_timers(make_session_factory(database_url)) == 8

    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(started))).all()
    assert {task.instance_id: task.business_key for task in tasks} == started
    task_of = {task.id: task for task in tasks}
    sent = session.scalars(select(Event).where(Event.kind == "notification.sent",
                                               Event.instance_id.in_(started))).all()
    assert len(sent) == 8 * len(set(session.scalars(select(Notification.recipient_id).where(
        Notification.link.in_([f"/tasks/{task_id}" for task_id in task_of])))))
    for event in sent:
        notification = session.get(Notification, int(event.subject_id))
        task = task_of[int(notification.link.removeprefix("/tasks/"))]
        assert task.instance_id == event.instance_id and started[task.instance_id] in notification.subject
        assert json.loads(event.payload)["recipient_id"] == notification.recipient_id
    for event in session.scalars(select(Event).where(Event.kind == "task.ready", Event.instance_id.in_(started))):
        assert task_of[int(event.subject_id)].instance_id == event.instance_id


def test_a_batch_of_tasks_assigned_to_different_people_reads_them_in_one_query(session, database_url):
    """Each new task is its assignee's; telling them takes one read of the people, not one each."""
    from sqlalchemy import event
    from engine.accounts import User
    assigned = {**FILES, "process.json": json.dumps({
        **json.loads(FILES["process.json"]), "lanes": {"QA lead": {"role": "qa_lead", "person": "owner"}}})}
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    publish(session, assigned)
    people = session.scalars(select(User.id).where(User.active.is_(True)).order_by(User.id).limit(5)).all()
    owner_of = {start_instance(session, "reminder", {"owner": person}, actor_id=None).id: person for person in people}
    session.commit()
    session.close()  # the people must be read by the scheduler, not found in this session
    clock.advance(timedelta(days=2, minutes=1))
    factory = make_session_factory(database_url)
    statements = []
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(factory.kw["bind"], "before_cursor_execute", listener)
    try:
        assert fire_due_timers(factory) == len(people)
    finally:
        event.remove(factory.kw["bind"], "before_cursor_execute", listener)
    assert len([statement for statement in statements if "FROM users" in statement]) == 1, statements
    told = dict(session.execute(select(HumanTask.instance_id, Notification.recipient_id).join(
        Notification, Notification.link == "/tasks/" + func.cast(HumanTask.id, String)).where(
        HumanTask.instance_id.in_(owner_of))).all())
    assert told == owner_of


def test_a_batch_with_an_instance_changed_since_it_was_read_fails_whole_and_overwrites_nothing(session):
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    publish(session, FILES)
    started = [start_instance(session, "reminder", {}, actor_id=None) for _ in range(3)]
    session.commit()
    clock.advance(timedelta(days=2, minutes=1))
    due = [lock_instance(session, instance.id) for instance in started]
    moved = due[1]
    rows = ProcessInstance.__table__
    # Another writer's change, which the loaded object has not seen.
    session.execute(update(rows).where(rows.c.id == moved.id).values(revision=rows.c.revision + 1, serialized="theirs"))

    with pytest.raises(ConcurrentUpdate):
        fire_timers(session, due)
    assert session.execute(select(rows.c.revision, rows.c.serialized).where(rows.c.id == moved.id)).one() == (2, "theirs")
    session.rollback()
    assert not session.scalars(select(HumanTask).where(HumanTask.instance_id.in_([i.id for i in started]))).all()
