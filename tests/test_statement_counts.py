"""How many SQL statements the hot paths issue: a count, not a time, so a change that
adds a query per row (or per task in the tree) fails here loudly instead of slowly in production.

The counts are for a small generic two-step model, so they measure the runtime itself:
loading, guarding, running, saving, projecting the next task, notifying and sealing the trail.
"""
import json
from contextlib import contextmanager

from sqlalchemy import event, select

from engine.clock import clock
from engine.runtime.inbox import InboxFilters, list_inbox
from engine.runtime.instances import complete_task, save_draft, start_instance
from engine.runtime.models import HumanTask, TaskDraft
from engine.runtime.registry import publish
from tests.conftest import user_named

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="two_steps" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="QA lead">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>first</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>second</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="first" name="First"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note-schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="second" name="Second"><bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note-schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""
FILES = {
    "process.json": json.dumps({"key": "two_steps", "name": "Two steps", "bpmn_process_id": "two_steps",
                                "bpmn_files": ["two_steps.bpmn"], "lanes": {"QA lead": {"role": "qa_lead", "person": None}}}),
    "two_steps.bpmn": BPMN,
    "forms/note-schema.json": json.dumps({"type": "object", "properties": {"note": {"type": "string"}}}),
}
# Begin, lock the instance (found by the task's id) with its version, read the task with
# whether it has drafts (it has none here, so none are deleted) and with the instance's
# other open task rows, keep the submission, save the workflow, close the completed row, add
# the next one, find the role's people and notify them, seal the trail (read the chain head,
# move it, insert the events): pinned, so that a new query on this path is a decision, not
# an accident.
COMPLETION_STATEMENTS = 12
INBOX_STATEMENTS = 4  # every tab's count in one, then a page of each of the three tabs


@contextmanager
def counted(session):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _start(session, count: int) -> list[int]:
    publish(session, FILES)
    instances = [start_instance(session, "two_steps", {}, actor_id=None) for _ in range(count)]
    session.commit()
    return [session.scalar(select(HumanTask.id).where(HumanTask.instance_id == i.id)) for i in instances]


def test_completing_a_task_issues_a_fixed_number_of_statements(session):
    first, _ = _start(session, 2)
    session.expunge_all()  # a request starts with nothing loaded but the signed-in person
    lead = user_named(session, "qa.lead")
    session.commit()
    with counted(session) as statements:
        complete_task(session, first, lead, {"note": "done"})
        session.commit()
    assert len(statements) == COMPLETION_STATEMENTS, "\n".join(statements)


def test_completing_a_task_deletes_its_drafts_at_the_cost_of_one_statement(session):
    first, second = _start(session, 2)
    lead = user_named(session, "qa.lead")
    save_draft(session, first, lead, {"note": "half way"})
    save_draft(session, second, lead, {"note": "not this one"})
    session.commit()
    session.expunge_all()
    lead = user_named(session, "qa.lead")
    session.commit()
    with counted(session) as statements:
        complete_task(session, first, lead, {"note": "done"})
        session.commit()
    assert len(statements) == COMPLETION_STATEMENTS + 1, "\n".join(statements)
    assert session.scalars(select(TaskDraft.human_task_id)).all() == [second]


def test_listing_the_inbox_costs_the_same_for_one_task_or_forty(session):
    lead = user_named(session, "qa.lead")
    _start(session, 1)
    filters = InboxFilters(tab="claimable")
    with counted(session) as one:
        list_inbox(session, lead, filters, clock.today())
    _start(session, 39)
    with counted(session) as forty:
        listed = list_inbox(session, lead, filters, clock.today())["claimable"]
    assert listed.total == 40
    assert len(one) == len(forty) == INBOX_STATEMENTS, "\n".join(forty)



def test_an_api_completion_authenticates_in_one_statement_and_reads_nothing_after_its_commit(
        app, client, database_url):
    """The bearer token, its person and their roles come in one query; the request log
    names the person without loading them again once the view has committed."""
    from engine.database import make_session_factory
    from tests.test_api import bearer, token_for
    from webapp.extensions import db
    with make_session_factory(database_url)() as session:
        task_id, _ = _start(session, 2)
    token = token_for(client, "qa.lead")
    with app.app_context():
        engine = db.engine
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.post(f"/api/v1/tasks/{task_id}/complete", headers=bearer(token), json={"data": {"note": "x"}})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "completed"
    token_reads = [s for s in statements if " FROM api_tokens" in s]
    assert len(token_reads) == 1 and "JOIN user_roles" in token_reads[0], "\n".join(token_reads)
    person_reloads = [s for s in statements if "FROM users WHERE users.id" in s or "FROM user_roles WHERE" in s]
    assert person_reloads == [], "\n".join(person_reloads)
    assert statements[-1].startswith("UPDATE event_chain_head"), "\n".join(statements)


def test_a_tasks_data_is_deserialised_once_per_revision(session, monkeypatch):
    """A task page reads the task's data for its form's conditions, the action it reviews and
    the separation of duties: the stored workflow is deserialised once, and a completion
    (a new revision) is seen at once; each caller gets its own copy. Completing the task in the
    same request takes the workflow read for the page rather than reading it again."""
    from engine.runtime import instances
    loads = []
    real_load = instances.load_workflow
    monkeypatch.setattr(instances, "load_workflow", lambda *args: loads.append(1) or real_load(*args))
    first, _ = _start(session, 2)
    task = session.get(HumanTask, first)
    data = instances.task_data(session, task)
    data["note"] = "changed by the caller"
    assert instances.task_data(session, task) == {} and len(loads) == 1
    complete_task(session, first, user_named(session, "qa.lead"), {"note": "done"})
    assert len(loads) == 1, "the completion takes the workflow the page read at the same revision"
    following = session.scalar(select(HumanTask).where(HumanTask.instance_id == task.instance_id,
                                                       HumanTask.state == "ready"))
    assert instances.task_data(session, following)["note"] == "done" and len(loads) == 2
