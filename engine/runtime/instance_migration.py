"""Moving running instances to a newer version of their process: previewed, per instance,
only where every step they have completed (and the one they wait at) still exists.

A new version never changes a running instance by itself (DESIGN.md). When the QA lead
decides that audits under way should follow a corrected model, this module checks each
instance against the new version, shows which can move and why others cannot, and moves
the chosen ones one by one, each in the same transaction as its `instance.migrated` event.

Moving rebuilds the task tree on the new definition: the completed and current tasks are
kept as they are (same ids, same data, so open inbox tasks keep their drafts), the tasks
SpiffWorkflow had predicted from the old diagram are dropped, and the future is predicted
again from the new one.
"""
import json
from dataclasses import dataclass, field

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.runtime import events
from engine.runtime.errors import NotAllowed, WorkflowError
from engine.runtime.saving import save_workflow  # the one write path: revision check, projections
from engine.runtime.instances import lock_instance
from engine.runtime.models import HumanTask, ProcessInstance, ProcessVersion
from engine.runtime.persistence import load_workflow
from engine.runtime.registry import BuiltModel, built_model_for, user_task_properties
from engine.runtime.services import ServiceContext, ServiceScriptEngine

MIGRATOR_ROLE = "qa_lead"
_PREDICTED = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE
_CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class InstanceCheck:
    """Whether one running instance can move, and if not, why."""
    instance_id: int
    business_key: str
    current_steps: list[str]
    reasons: list[str] = field(default_factory=list)

    @property
    def movable(self) -> bool:
        return not self.reasons


@dataclass
class MigrationPreview:
    process_key: str
    from_version: ProcessVersion
    to_version: ProcessVersion
    checks: list[InstanceCheck]

    @property
    def movable(self) -> list[InstanceCheck]:
        return [check for check in self.checks if check.movable]


def may_migrate(user: User) -> bool:
    """Only the QA lead moves audits under way onto another version of their process."""
    return user.has_role(MIGRATOR_ROLE)


def preview(session: Session, process_key: str, from_number: int, to_number: int, user: User) -> MigrationPreview:
    """Check every running instance of one version against another; changes nothing."""
    source, target = _versions(session, process_key, from_number, to_number, user)
    old, new = built_model_for(source), built_model_for(target)
    instances = session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_version_id == source.id, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id)).all()
    checks = [_check(session, instance, old, new) for instance in instances]
    events.record(session, "model.migration_previewed", actor_id=user.id, subject=("process_version", target.id),
                  payload={"process": process_key, "from_version": from_number, "to_version": to_number,
                           "instances": len(checks), "movable": sum(c.movable for c in checks)})
    return MigrationPreview(process_key, source, target, checks)


def migrate(session: Session, process_key: str, from_number: int, to_number: int, instance_ids: list[int],
            user: User) -> list[InstanceCheck]:
    """Move the chosen instances; each is checked again under its lock (it may have moved on
    since the preview). Returns each instance's check: those with reasons were not moved."""
    source, target = _versions(session, process_key, from_number, to_number, user)
    old, new = built_model_for(source), built_model_for(target)
    results = []
    for instance_id in instance_ids:
        instance = lock_instance(session, instance_id)
        if instance is None or instance.process_version_id != source.id or instance.status != "running":
            results.append(InstanceCheck(instance_id, getattr(instance, "business_key", ""), [],
                                         [f"it is no longer a running instance of version {from_number}"]))
            continue
        check = _check(session, instance, old, new)
        if check.movable:
            _move(session, instance, source, target, new, user)
        results.append(check)
    return results


def _versions(session, process_key, from_number, to_number, user) -> tuple[ProcessVersion, ProcessVersion]:
    if not may_migrate(user):
        raise NotAllowed("Only the QA lead can move running instances to another version.")
    found = {v.version: v for v in session.scalars(select(ProcessVersion).where(
        ProcessVersion.process_key == process_key, ProcessVersion.version.in_([from_number, to_number])))}
    if from_number not in found or to_number not in found:
        raise WorkflowError("Choose two versions of this process.")
    if from_number == to_number:
        raise WorkflowError("Choose a different version to move the instances to.")
    if found[to_number].status != "published":
        raise WorkflowError(f"Version {to_number} is retired: instances can only move to a published version.")
    return found[from_number], found[to_number]


def _check(session: Session, instance: ProcessInstance, old: BuiltModel, new: BuiltModel) -> InstanceCheck:
    """Every completed or current task must name a step the new version still has, and a
    task waiting for a person must still be one."""
    current = [row.title for row in session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == "ready").order_by(HumanTask.id))]
    check = InstanceCheck(instance.id, instance.business_key, current)
    saved = json.loads(instance.serialized)
    _check_tasks(saved["tasks"], old.spec, new.spec, check)
    for sub in saved.get("subprocesses", {}).values():
        new_spec, old_spec = new.subprocess_specs.get(sub["spec"]), old.subprocess_specs.get(sub["spec"])
        if new_spec is None:
            check.reasons.append(f"it is inside '{_title(old_spec, sub['spec'])}', which the new version does not have")
        else:
            _check_tasks(sub["tasks"], old_spec, new_spec, check)
    return check


def _check_tasks(tasks: dict, old_spec, new_spec, check: InstanceCheck) -> None:
    for task in tasks.values():
        if task["state"] & _PREDICTED:
            continue
        name = task["task_spec"]
        replacement = new_spec.task_specs.get(name)
        title = _title(old_spec.task_specs.get(name) if old_spec else None, name)
        if replacement is None:
            done = "completed" if task["state"] & TaskState.FINISHED_MASK else "current"
            check.reasons.append(f"its {done} step '{title}' does not exist in the new version")
        elif task["state"] & TaskState.READY and old_spec is not None and \
                type(old_spec.task_specs[name]) is not type(replacement):
            check.reasons.append(f"the step it waits at, '{title}', is a different kind of step in the new version")


def _move(session, instance, source, target, new: BuiltModel, user: User) -> None:
    workflow = _rebuild(instance.serialized, new)
    workflow.script_engine = ServiceScriptEngine(ServiceContext(session, user.id, instance.id))
    for task in workflow.get_tasks(state=_CURRENT):  # the new version's model data (its grading scale) from here on
        task.data.update(new.data or {})
    instance.process_version_id = target.id
    save_workflow(session, instance, workflow, new, actor_id=user.id, completed_uuid=None)
    _refresh_open_tasks(session, instance, new)
    events.record(session, "instance.migrated", actor_id=user.id, instance_id=instance.id,
                  subject=("process_instance", instance.id),
                  payload={"process": source.process_key, "from_version": source.version,
                           "to_version": target.version, "from_hash": source.content_hash,
                           "to_hash": target.content_hash})


def _rebuild(serialized: str, new: BuiltModel):
    """The saved workflow on the new definition, its future predicted afresh."""
    saved = json.loads(serialized)
    _drop_predicted(saved)
    for sub in saved.get("subprocesses", {}).values():
        _drop_predicted(sub)
    workflow = load_workflow(json.dumps(saved), new)
    for task in workflow.get_tasks(state=_CURRENT):
        if not task.children:
            task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    return workflow


def _drop_predicted(workflow_dict: dict) -> None:
    tasks = workflow_dict["tasks"]
    dropped = {task_id for task_id, task in tasks.items() if task["state"] & _PREDICTED}
    for task_id in dropped:
        del tasks[task_id]
    for task in tasks.values():
        task["children"] = [child for child in task["children"] if child not in dropped]


def _refresh_open_tasks(session: Session, instance: ProcessInstance, new: BuiltModel) -> None:
    """Open inbox rows kept through the move take the new version's title, lane, role and form."""
    specs = {}
    for process in (new.spec, *new.subprocess_specs.values()):
        specs.update({name: spec for name, spec in process.task_specs.items() if spec.bpmn_id})
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.state == "ready")):
        spec = next((s for s in specs.values() if s.bpmn_id == row.spec_name), None)
        if spec is None:
            continue
        lane, properties = new.manifest["lanes"].get(spec.lane, {}), user_task_properties(spec)
        detail = row.title.split(": ", 1)[1] if properties.get("detailKey") and ": " in row.title else None
        title = spec.bpmn_name or spec.bpmn_id
        row.title = f"{title}: {detail}" if detail else title
        row.lane, row.role = spec.lane or "", lane.get("role", "")
        row.form_key = properties.get("formJsonSchemaFilename")


def _title(spec, name: str) -> str:
    return (getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or name) if spec else name
