"""BPMN timers fire from the due-time column on the injected clock, exactly once."""
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine.clock import clock
from engine.database import make_session_factory
from engine.runtime.instances import start_instance
from engine.runtime.models import HumanTask, ProcessInstance
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


def _fire_counting(database_url, count: int) -> list[str]:
    """Start `count` reminders, move past their timers and fire them in one batch; the statements it took."""
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
        assert fire_due_timers(factory, batch_size=50) == count
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return statements


# Per timer: save the workflow, read the instance's open task rows, add the new task,
# notify the QA lead. Per batch: claim, read the version, read the role's holders once,
# seal the trail, and the claim that finds nothing more due.
STATEMENTS_PER_TIMER = 4


def test_a_batch_that_fires_cleanly_takes_no_savepoints_and_a_fixed_number_of_statements_per_timer(database_url):
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    two = _fire_counting(database_url, 2)
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    six = _fire_counting(database_url, 6)
    assert not [statement for statement in six if "SAVEPOINT" in statement]
    assert len(six) - len(two) == 4 * STATEMENTS_PER_TIMER, "\n".join(six)
