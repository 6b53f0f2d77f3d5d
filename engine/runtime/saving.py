"""Writing workflows back: the revision-checked UPDATE, and the READY-task projection.

Every state change ends here (engine/runtime/instances.py runs the workflow on; this writes
it): the serialized workflow goes back only if its revision is still the one read, then the
human-task rows are brought in line with the workflow's READY user tasks, their trail events
queued and the hooks told of new work (notifications). A batch of instances (a scheduler's
timers) is written in the same fixed number of statements as one.
"""
from dataclasses import dataclass
from datetime import date, datetime

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, event as sa_event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.clock import clock
from engine.database import insert_rows
from engine.runtime import events
from engine.runtime.errors import ConcurrentUpdate
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.persistence import dump_workflow
from engine.runtime.registry import BuiltModel, user_task_properties


@dataclass
class AdvancedWorkflow:
    """An instance whose workflow has run on in memory and waits to be written back:
    who moved it (`actor_id`), the task they completed, and what failed, if the model did."""
    instance: ProcessInstance
    workflow: BpmnWorkflow
    model: BuiltModel
    actor_id: int | None
    completed_uuid: str | None = None
    failure: str | None = None


def save_workflow(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, model: BuiltModel,
                  *, actor_id: int | None, completed_uuid: str | None, failure: str | None = None) -> None:
    """`save_workflows` for one instance: every state change writes through the same path."""
    save_workflows(session, [AdvancedWorkflow(instance, workflow, model, actor_id, completed_uuid, failure)])


def save_workflows(session: Session, advanced: list[AdvancedWorkflow]) -> None:
    """Write workflows back under the revision check and refresh their projections, in a
    fixed number of statements however many there are (one executemany UPDATE, one read
    of their open task rows, one INSERT of their new tasks, the hooks' own).

    An instance whose revision moved since it was read is never overwritten: the UPDATE
    matches fewer rows and ConcurrentUpdate is raised for the caller to roll back. An
    instance with a `failure` is saved in status 'error' with it as `last_error`."""
    now = clock.now()
    parameters = []
    for item in advanced:
        status = "error" if item.failure else "completed" if item.workflow.is_completed() else "running"
        values = dict(serialized=dump_workflow(item.workflow), revision=item.instance.revision + 1, status=status,
                      next_timer_at=_next_timer(item.workflow), updated_at=now, last_error=item.failure,
                      ended_at=now if status == "completed" else None)
        parameters.append({"instance_id": item.instance.id, "seen": item.instance.revision,
                           **{f"new_{key}": value for key, value in values.items()}})
    result = session.execute(_SAVE_WORKFLOW, parameters)
    if result.rowcount != len(advanced):
        raise ConcurrentUpdate("Someone else changed this process at the same moment. "
                               "Your answers are kept as a draft; please look again.")
    for item, written in zip(advanced, parameters):
        for key in _SAVED_COLUMNS:
            # The row is already written: keep the object in step without marking it dirty,
            # or the next flush would write the serialized workflow a second time.
            set_committed_value(item.instance, key, written[f"new_{key}"])
    _project_tasks(session, advanced, now)
    for item in advanced:
        if item.failure:
            events.record(session, "instance.failed", actor_id=item.actor_id, instance_id=item.instance.id,
                          subject=("process_instance", item.instance.id),
                          payload={"error": item.failure, "failed_steps": [
                              t.task_spec.bpmn_id for t in item.workflow.get_tasks(state=TaskState.ERROR)]})
        if item.instance.status == "completed":
            events.record(session, "instance.completed", actor_id=item.actor_id, instance_id=item.instance.id,
                          subject=("process_instance", item.instance.id), payload={})


# Built once: constructing the statement on every save cost as much as a tenth of a
# timer's own work. Written only if the revision is still the one loaded. On the table,
# not the mapped class, so that a list of parameters is one executemany (the ORM would
# take it for a bulk update by primary key, without the revision check).
_SAVED_COLUMNS = ("serialized", "revision", "status", "next_timer_at", "updated_at", "last_error", "ended_at")
_INSTANCES = ProcessInstance.__table__
_SAVE_WORKFLOW = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("instance_id"), _INSTANCES.c.revision == bindparam("seen"))
    .values({column: bindparam(f"new_{column}") for column in _SAVED_COLUMNS}))


def _next_timer(workflow: BpmnWorkflow):
    due = [event.value for event in workflow.waiting_events()
           if event.event_type.endswith(("TimerEventDefinition", "TimeDateEventDefinition"))]  # timeDate timers too
    if not due:
        return None
    return min(datetime.fromisoformat(value) for value in due)


# Functions called as hook(session, human_tasks) with the user tasks that have just become
# ready (a scheduler's batch gives all of its instances' at once), in the same transaction:
# how other parts (notifications) learn of new work without the runtime knowing them, and
# without loading any workflow.
TASK_READY_HOOKS: list = []

_OPEN_TASK_ROWS = select(HumanTask).where(HumanTask.instance_id.in_(bindparam("instance_ids", expanding=True)),
                                          HumanTask.state == "ready")


def _project_tasks(session: Session, advanced: list[AdvancedWorkflow], now: datetime) -> None:
    """Bring the human-task rows of the instances in line with their READY user tasks:
    one read of their open rows, one INSERT of the new ones (their ids name them in the trail)."""
    by_instance = {item.instance.id: item for item in advanced}
    ready = {item.instance.id: {str(t.id): t for t in ready_user_tasks(item.workflow)} for item in advanced}
    for row in _open_rows(session, by_instance):
        item = by_instance[row.instance_id]
        if ready[row.instance_id].pop(row.task_uuid, None) is not None:
            continue
        if row.task_uuid == item.completed_uuid:
            row.state, row.completed_at, row.completed_by_id = "completed", now, item.actor_id
        else:
            row.state, row.completed_at = "cancelled", now
    rows = [_new_task_row(session, by_instance[instance_id], uuid, spiff_task, now)
            for instance_id, tasks in ready.items() for uuid, spiff_task in tasks.items()]
    added = insert_rows(session, HumanTask, rows)
    for row in added:
        events.record(session, "task.ready", actor_id=by_instance[row.instance_id].actor_id,
                      instance_id=row.instance_id, subject=("human_task", row.id),
                      payload={"task": row.spec_name, "title": row.title, "assignee_id": row.assignee_id,
                               "role": row.role, "due_on": row.due_on})
    if added:
        for hook in TASK_READY_HOOKS:
            hook(session, added)


def ready_user_tasks(workflow: BpmnWorkflow) -> list:
    """The workflow's READY user tasks, its subprocesses' included, read off each one's table
    of tasks: what `get_tasks(state=READY, manual=True)` finds, without walking the task tree
    (a parent lookup per task visited, on every save). Each process's in the order its tasks
    were made."""
    return [task for process in (workflow, *workflow.subprocesses.values()) for task in process.tasks.values()
            if task.state == TaskState.READY and task.task_spec.manual]


def remember_open_rows(session: Session, instance: ProcessInstance, rows: list[HumanTask]) -> None:
    """Keep the open task rows of an instance just locked (engine/runtime/instances.lock_task
    reads them with the task), so that saving it in this transaction need not read them again."""
    session.info.setdefault(_OPEN_ROWS_AT_LOCK, {})[(instance.id, instance.revision)] = rows


# Open task rows read when an instance was locked, by (instance id, revision locked).
_OPEN_ROWS_AT_LOCK = "open_rows_at_lock"


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_rows_read_at_lock(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session's own transaction, not a savepoint inside it
        session.info.pop(_OPEN_ROWS_AT_LOCK, None)


def _open_rows(session: Session, by_instance: dict[int, AdvancedWorkflow]) -> list[HumanTask]:
    """The open task rows of the instances being saved (each already at its new revision):
    those `lock_task` read at the revision just written over, still open; the others' in one
    query; none for an instance saved for the first time (just started: it has no rows yet).
    The instance has been locked since, so no other transaction can have changed its rows."""
    read_at_lock = session.info.pop(_OPEN_ROWS_AT_LOCK, {})
    rows, unread = [], []
    for instance_id, item in by_instance.items():
        known = read_at_lock.get((instance_id, item.instance.revision - 1))
        if known is not None:
            rows += [row for row in known if row.state == "ready"]
        elif item.instance.revision > 1:
            unread.append(instance_id)
    if unread:
        rows += session.scalars(_OPEN_TASK_ROWS, {"instance_ids": unread})
    return rows


def _new_task_row(session: Session, item: AdvancedWorkflow, uuid: str, spiff_task, now: datetime) -> dict:
    """The human-task row of a user task that has just become READY, as INSERT parameters."""
    manifest, instance, data = item.model.manifest, item.instance, spiff_task.data
    spec = spiff_task.task_spec
    lane = manifest["lanes"].get(spec.lane, {})
    props = user_task_properties(spec)
    title = spec.bpmn_name or spec.bpmn_id
    detail = _lookup(data, props.get("detailKey"))
    subject_key = manifest.get("subject_key")
    return dict(
        instance_id=instance.id, task_uuid=uuid, spec_name=spec.bpmn_id,
        title=f"{title}: {detail}" if detail else title, lane=spec.lane or "", role=lane.get("role", ""),
        assignee_id=_lookup(data, lane.get("person")),
        form_key=props.get("formJsonSchemaFilename"), business_key=instance.business_key,
        form_schema=_lookup(data, props.get("formJsonSchemaKey")) or None,
        subject=str(data.get(subject_key, "")) if subject_key else "",
        team_id=_team_of(session, instance, data, manifest.get("team_key")),
        due_on=_as_date(_lookup(data, props.get("dueDateKey"))), state="ready", created_at=now,
        completed_at=None, completed_by_id=None)


def _lookup(data: dict, dotted: str | None):
    value = data
    for part in (dotted or "").split(".") if dotted else []:
        value = value.get(part) if isinstance(value, dict) else None
    return value if dotted else None


def _team_of(session: Session, instance: ProcessInstance, data: dict, team_key: str | None) -> int | None:
    """The task's team from its data; else, for an instance started before its process named a
    team key, the team its earlier tasks were given (the upgrade's migration filled those)."""
    if not team_key:
        return None
    team_id = _as_id(data.get(team_key))
    if team_id is None:
        team_id = session.scalar(select(HumanTask.team_id).where(
            HumanTask.instance_id == instance.id, HumanTask.team_id.is_not(None)).limit(1))
    return team_id


def _as_id(value) -> int | None:
    """A row id from task data, or None for anything that is not one (data is the model's to shape)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None
