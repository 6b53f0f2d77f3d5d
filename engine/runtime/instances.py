"""The instance runtime: start a process, and complete, claim or release its tasks.

Every state change follows one path (DESIGN.md, "How data flows through one step"):
lock and re-read the instance, check the guards, validate the answers, run the
task and the engine steps (service operations write domain rows on the way),
queue events, and write the instance back under a revision check with its READY-task
projection refreshed (engine/runtime/saving.py). The caller commits.

A refusal (a `WorkflowError`: a guard, bad answers, a domain rule a service
operation enforces) leaves nothing changed: the caller rolls back. An unexpected
failure of the model itself (a script or expression that raises, a service
operation that breaks) is different: the person's answers are kept, the failed
task stays in ERROR, and the instance is saved with status 'error' for the QA
lead to correct and retry (engine/runtime/administration.py). Each engine step
runs in its own savepoint, so the failing step's half-written rows are undone
while the steps before it keep theirs.
"""
import copy
from typing import Callable

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session
from uuid import UUID

from engine.accounts import User
from engine.clock import clock
from engine.runtime import events, timers  # noqa: F401  (timers: SpiffWorkflow reads the product clock)
from engine.runtime.errors import (InvalidFormData, NotAllowed, ProcessFailure,
                                   TaskNotFound, TaskNotOpen, WorkflowError)
from engine.runtime.delegation import covering_absence
from engine.runtime.forms import applicable_answers, read_only_keys, validate_answers
from engine.runtime.persistence import load_workflow
from engine.runtime.models import HumanTask, ProcessInstance, ProcessVersion, TaskDraft
from engine.runtime.registry import BuiltModel, built_model_for, hold_version, latest_version, version_for
from engine.runtime.saving import AdvancedWorkflow, remember_open_rows, save_workflow, save_workflows
from engine.runtime.services import ServiceContext, ServiceScriptEngine
from engine.runtime.submissions import record_submission

# How a process that is not running is named when someone tries to work on it.
STATUS_WORDS = {"completed": "finished", "error": "stopped by an error until the QA lead retries it",
                "suspended": "suspended by the QA lead", "terminated": "terminated"}


def start_instance(session: Session, process_key: str, data: dict, *, actor_id: int | None,
                   business_key: str = "", logged: dict | None = None, version: ProcessVersion | None = None,
                   instance: ProcessInstance | None = None) -> ProcessInstance:
    """Start the newest published version of `process_key` with `data` on its start event,
    beside the version's model data files (registry: `data_files`).

    The `instance.started` event records `data`, or `logged` in its place when the data holds
    free text kept elsewhere (a start form's answers: engine/runtime/starting.py). A caller
    starting many in one transaction passes the newest `version`, read once for them all,
    and each one's `instance` row from `new_instance`, written together."""
    version = version or latest_version(session, process_key)
    if version is None:
        raise ProcessFailure(f"No published version of the process '{process_key}'")
    model = built_model_for(version)
    if instance is None:
        instance = new_instance(version, business_key, actor_id)
        session.add(instance)
        session.flush()
    context = ServiceContext(session, actor_id, instance.id)
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=ServiceScriptEngine(context))
    start = workflow.get_next_task(state=TaskState.READY)
    start.data.update({**(model.data or {}), **data})  # the version's model data, e.g. its grading scale
    failure = _advance(session, workflow)
    events.record(session, "instance.started", actor_id=actor_id, instance_id=instance.id,
                  subject=("process_instance", instance.id),
                  payload={"process": process_key, "version": version.version,
                           "business_key": business_key, "data": data if logged is None else logged})
    save_workflow(session, instance, workflow, model, actor_id=actor_id, completed_uuid=None, failure=failure)
    return instance


def new_instance(version: ProcessVersion, business_key: str, actor_id: int | None) -> ProcessInstance:
    """The row of an instance of `version` not started yet: `start_instance` runs it."""
    return ProcessInstance(process_version_id=version.id, process_key=version.process_key,
                           business_key=business_key, serialized="", revision=0,
                           started_by_id=actor_id, started_at=clock.now(), updated_at=clock.now())


def complete_task(session: Session, task_id: int, user: User, answers: dict) -> HumanTask:
    """Complete a READY user task with `answers`, after every guard has passed.

    A delegate covering the assignee's absence completes it on their behalf, recorded as such."""
    task, instance = lock_task(session, task_id)
    absence = _check_may_act(session, task, user)
    on_behalf = None
    if absence is not None:
        on_behalf = {"delegate_for": task.assignee_id, "absence_id": absence.id,
                     "reason": "Covering an absence", "before": {"assignee_id": task.assignee_id}}
    return complete_locked_task(session, task, instance, user, answers, on_behalf=on_behalf)


def complete_locked_task(session: Session, task: HumanTask, instance: ProcessInstance, user: User,
                         answers: dict, *, on_behalf: dict | None = None) -> HumanTask:
    """Complete a task already locked by `lock_task`, whoever it belongs to.

    The caller has decided that `user` may: `complete_task` checks the task is theirs;
    the QA lead's completion on someone's behalf (engine/runtime/administration.py)
    checks their role and passes `on_behalf` (whose task, and why) for the trail."""
    version = version_for(session, instance.process_version_id)
    model = built_model_for(version)
    schema = task_form_schema(session, model, task)
    workflow = _load(session, instance, user.id, model)
    spiff_task = workflow.get_task_from_id(UUID(task.task_uuid))
    if spiff_task is None or spiff_task.state != TaskState.READY or not spiff_task.task_spec.manual:
        raise TaskNotOpen("This task is not open: it has not been reached yet or is already done.")
    if schema is not None:
        answers = applicable_answers(schema, answers, spiff_task.data)
        errors = validate_answers(schema, answers, spiff_task.data)
        if errors:
            raise InvalidFormData(errors)
    spiff_task.data.update(answers)
    failure = _advance(session, workflow, spiff_task.run)
    submission = record_submission(session, instance.id, task.id, answers)
    events.record(session, "task.completed", actor_id=user.id, instance_id=instance.id,
                  subject=("human_task", task.id),
                  payload={"task": task.spec_name, "title": task.title, "submission_id": submission.id,
                           "answers_sha256": submission.answers_sha256,
                           **({"on_behalf": on_behalf} if on_behalf else {})})
    if task.id not in session.info.get(_TASKS_WITHOUT_DRAFTS, ()):
        session.execute(delete(TaskDraft).where(TaskDraft.human_task_id == task.id))
    save_workflow(session, instance, workflow, model, actor_id=user.id, completed_uuid=task.task_uuid, failure=failure)
    return task


def fire_timers(session: Session, instances: list[ProcessInstance]) -> None:
    """Let the due timers of locked instances fire, run each engine on from them, and write
    the lot back together (`save_workflows`): a scheduler's batch costs a few statements,
    not a few per instance. If any of them cannot be written, none is: the caller rolls
    back and may fire them one at a time."""
    advanced = []
    for instance in instances:
        model = built_model_for(version_for(session, instance.process_version_id))
        workflow = _load(session, instance, None, model)
        failure = _advance(session, workflow, workflow.refresh_timers)
        events.record(session, "timer.fired", instance_id=instance.id, subject=("process_instance", instance.id),
                      payload={"due_at": instance.next_timer_at})
        advanced.append(AdvancedWorkflow(instance, workflow, model, actor_id=None, failure=failure))
    save_workflows(session, advanced)


def change_workflow(session: Session, instance: ProcessInstance, actor_id: int | None,
                    change: Callable[[BpmnWorkflow], None]) -> str | None:
    """Apply `change` to the workflow of an instance the caller has locked, run the
    engine on from it and save, with the same failure handling as a task.

    For changes outside any task's own path, such as the QA lead retrying a failed
    step after correcting its data. Returns the failure, if the model failed again."""
    model = built_model_for(version_for(session, instance.process_version_id))
    workflow = _load(session, instance, actor_id, model)
    failure = _advance(session, workflow, lambda: change(workflow))
    save_workflow(session, instance, workflow, model, actor_id=actor_id, completed_uuid=None, failure=failure)
    return failure


def claim_task(session: Session, task_id: int, user: User) -> HumanTask:
    """Take a task offered to a role, so it is yours alone."""
    task, _ = lock_task(session, task_id)
    if task.assignee_id == user.id:
        return task
    if task.assignee_id is not None:
        raise NotAllowed(f"This task is already assigned to {_name(session, task.assignee_id)}.")
    if not user.has_role(task.role):
        raise NotAllowed("Only someone with the role this task needs can claim it.")
    conflict = separation_of_duties_problem(session, task, user)
    if conflict:
        raise NotAllowed(conflict)
    task.assignee_id = user.id
    events.record(session, "task.claimed", actor_id=user.id, instance_id=task.instance_id,
                  subject=("human_task", task.id), payload={"task": task.spec_name})
    return task


def release_task(session: Session, task_id: int, user: User) -> HumanTask:
    """Give a claimed task back to its role. Tasks the process assigned by name stay put."""
    task, instance = lock_task(session, task_id)
    if task.assignee_id != user.id:
        raise NotAllowed("You can only release a task you hold.")
    if _person_key(session, instance, task) is not None:
        raise NotAllowed("This task was assigned to you by the process; ask the QA lead to reassign it.")
    task.assignee_id = None
    events.record(session, "task.released", actor_id=user.id, instance_id=task.instance_id,
                  subject=("human_task", task.id), payload={"task": task.spec_name})
    return task


def save_draft(session: Session, task_id: int, user: User, answers: dict) -> None:
    """Keep a person's answers without touching the workflow."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise TaskNotFound("There is no such task.")
    _check_may_act(session, task, user)
    draft = session.get(TaskDraft, (task_id, user.id))
    if draft is None:
        session.add(TaskDraft(human_task_id=task_id, user_id=user.id, data=answers, saved_at=clock.now()))
    else:
        draft.data, draft.saved_at = answers, clock.now()
    events.record(session, "task.draft_saved", actor_id=user.id, instance_id=task.instance_id,
                  subject=("human_task", task.id), payload={"task": task.spec_name})


def may_act(task: HumanTask, user: User) -> bool:
    """True when `user` may work on `task`: it is theirs, or offered to a role they hold."""
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return user.has_role(task.role)


def form_schema(model: BuiltModel, form_key: str | None) -> dict | None:
    return model.forms.get(form_key) if form_key else None


# Functions (session, task, schema) -> schema that add the choices only one instance knows,
# such as the practitioners added to an audit among the owners an action may have. The
# domain registers them (engine/qa); they must return a copy, never change the model's form.
FORM_SCHEMA_HOOKS: list = []


def task_form_schema(session: Session, model: BuiltModel, task: HumanTask) -> dict | None:
    """The form a task asks: the one its process gave it in data (`formJsonSchemaKey`, e.g. questions
    written when the work was commissioned), else the published form file it names; with its
    instance's own choices (FORM_SCHEMA_HOOKS), so what the page shows and what completing the
    task is validated against are the same."""
    schema = task.form_schema or form_schema(model, task.form_key)
    for hook in FORM_SCHEMA_HOOKS:
        if schema is not None:
            schema = hook(session, task, schema)
    return schema


def task_ui_schema(model: BuiltModel, task: HumanTask) -> dict:
    """How a task's form is laid out: its published UI schema file, or none for a form from data."""
    return model.forms.get(ui_schema_name(task.form_key), {}) if task.form_key else {}


def ui_schema_name(form_key: str) -> str:
    return form_key.replace("-schema.json", "-uischema.json")


def workflow_of(session: Session, instance: ProcessInstance) -> BpmnWorkflow:
    """An instance's workflow loaded for reading, for pages that show one instance's progress."""
    return _load(session, instance, None)


def separation_of_duties_problem(session: Session, task: HumanTask, user: User) -> str | None:
    """Why `user` may not hold `task`, under the separation of duties its lane declares
    (process.json: a lane's `must_not_be` lists the data keys naming people who must not
    take its tasks, e.g. the moderator is never the auditor), or None."""
    instance = session.get(ProcessInstance, task.instance_id)
    manifest = version_for(session, instance.process_version_id).manifest
    keys = manifest["lanes"].get(task.lane, {}).get("must_not_be", [])
    if not keys:
        return None
    data = task_data(session, task)
    for key in keys:
        if data.get(key) == user.id:
            return f"{user.display_name} cannot take this task: they are its {key.replace('_', ' ')}."
    return None


def form_context(session: Session, task: HumanTask, schema: dict | None) -> dict | None:
    """The task data a form's read-only values and conditions read (engine/runtime/forms.py);
    None, without loading the workflow, when the form reads none."""
    return task_data(session, task) if schema and read_only_keys(schema) else None


def task_data(session: Session, task: HumanTask) -> dict:
    """The data a READY task sees (answers before it and its inputs), for display.

    A task page asks for it more than once (the form's conditions, the action it reviews, the
    separation of duties): the workflow is deserialised once per instance revision and session,
    and each caller gets its own copy."""
    instance = session.get(ProcessInstance, task.instance_id)
    seen = session.info.setdefault("task_data", {})
    key = (task.instance_id, task.task_uuid, instance.revision)
    if key not in seen:
        workflow = _load(session, instance, None)
        spiff_task = workflow.get_task_from_id(UUID(task.task_uuid))
        seen[key] = copy.deepcopy(spiff_task.data) if spiff_task is not None else {}
        # Completing the task in this request (a posted form reads the data for its conditions
        # first) takes this workflow instead of deserialising the same revision again.
        session.info.setdefault(_READ_WORKFLOWS, {})[(instance.id, instance.revision)] = workflow
    return copy.deepcopy(seen[key])


def lock_instance(session: Session, instance_id: int) -> ProcessInstance | None:
    """The instance row, locked for this transaction and read afresh (not from the session's cache)."""
    return session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                          .with_for_update().execution_options(populate_existing=True))


def lock_task(session: Session, task_id: int) -> tuple[HumanTask, ProcessInstance]:
    """Lock the task's instance first, then read the task afresh, so a second
    person who arrives a moment later sees the first person's result.

    Two statements: the instance is locked with its version (only the instance row is
    locked: `FOR UPDATE OF`), and the task is read with whether it has drafts (so that
    completing it deletes drafts only when there are some) and with the instance's other
    open task rows (so that saving it need not read them again)."""
    locked = session.execute(
        select(ProcessInstance, ProcessVersion)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
        .where(ProcessInstance.id == select(HumanTask.instance_id).where(HumanTask.id == task_id).scalar_subquery())
        .with_for_update(of=ProcessInstance).execution_options(populate_existing=True)).first()
    if locked is None:
        raise TaskNotFound("There is no such task.")
    instance, version = locked
    hold_version(session, version)
    rows = session.execute(
        select(HumanTask, exists().where(TaskDraft.human_task_id == HumanTask.id))
        .where(or_(HumanTask.id == task_id, and_(HumanTask.instance_id == instance.id, HumanTask.state == "ready")))
        .execution_options(populate_existing=True)).all()
    task, has_drafts = next((row, drafts) for row, drafts in rows if row.id == task_id)
    if task.state == "completed":
        raise TaskNotOpen(f"This task was already completed by {_name(session, task.completed_by_id)} "
                          f"on {task.completed_at:%d %B %Y at %H:%M}.")
    if task.state != "ready":
        raise TaskNotOpen("This task is no longer open: the process moved on without it.")
    if instance.status != "running":
        raise TaskNotOpen(f"This process is {STATUS_WORDS.get(instance.status, instance.status)}; "
                          "its tasks cannot be worked on.")
    without_drafts = session.info.setdefault(_TASKS_WITHOUT_DRAFTS, set())
    (without_drafts.discard if has_drafts else without_drafts.add)(task.id)
    remember_open_rows(session, instance, [row for row, _ in rows if row.state == "ready"])
    return task, instance


# Ids of tasks `lock_task` found without drafts in this session's latest look at them.
_TASKS_WITHOUT_DRAFTS = "tasks_without_drafts"


def may_act_or_cover(session: Session, task: HumanTask, user: User) -> bool:
    """`may_act`, or `user` covers the assignee's absence today (see engine/runtime/delegation.py)."""
    return may_act(task, user) or covering_absence(session, task, user) is not None


def _check_may_act(session: Session, task: HumanTask, user: User):
    """Refuse anyone who may not act; returns the absence through which a delegate acts, if so."""
    if may_act(task, user):
        return None
    absence = covering_absence(session, task, user)
    if absence is None:
        raise NotAllowed("This task is not yours.")
    if not user.has_role(task.role):
        raise NotAllowed(f"You cover {_name(session, task.assignee_id)}'s absence, "
                         "but do not hold the role this task needs; ask the QA lead to reassign it.")
    conflict = separation_of_duties_problem(session, task, user)
    if conflict:
        raise NotAllowed(conflict)
    return absence


def _person_key(session, instance, task):
    manifest = version_for(session, instance.process_version_id).manifest
    return manifest["lanes"].get(task.lane, {}).get("person")


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else "someone else"


def _advance(session: Session, workflow: BpmnWorkflow, first_step: Callable[[], object] | None = None) -> str | None:
    """Run `first_step` (a task, the timers), then the engine steps, each in a savepoint.

    Returns None, or what failed when the model itself failed: the failing step's
    writes are rolled back, its task is left in ERROR and the rest is kept for the
    QA lead. Refusals (WorkflowError) propagate so the caller rolls back everything."""
    savepoints = []  # (savepoint, how many events were queued when it began)

    def begin(_task):
        savepoints.append((session.begin_nested(), events.pending_count(session)))

    def finish(task):
        try:
            session.flush()  # a step's rows are written as part of the step: a refused row fails it
        except Exception:
            task.error()
            raise
        savepoints.pop()[0].commit()

    try:
        if first_step is not None:
            first_step()
        workflow.do_engine_steps(will_complete_task=begin, did_complete_task=finish)
    except WorkflowError:
        raise
    except Exception as error:  # a script, expression or service operation broke: keep it for a retry
        if savepoints:
            savepoint, mark = savepoints.pop()
            savepoint.rollback()
            events.discard_since(session, mark)  # the steps before the failing one keep theirs
        return _describe_failure(workflow, error)
    return None


def _describe_failure(workflow: BpmnWorkflow, error: Exception) -> str:
    failed = workflow.get_tasks(state=TaskState.ERROR) or [t for t in [getattr(error, "task", None)] if t is not None]
    where = ", ".join(f"'{t.task_spec.bpmn_name or t.task_spec.bpmn_id}' ({t.task_spec.bpmn_id})"
                      for t in failed) or "an engine step"
    return f"{where} failed: {type(error).__name__}: {error}"


# Workflows `task_data` deserialised for reading, by (instance id, revision), for `_load` to take.
_READ_WORKFLOWS = "read_workflows"


def _load(session: Session, instance: ProcessInstance, actor_id, model: BuiltModel | None = None) -> BpmnWorkflow:
    """The instance's workflow at the revision the session holds, with a script engine acting
    for `actor_id`. A workflow read earlier in the session at that same revision is taken,
    once: whoever takes it may change it, so it is never handed out twice."""
    model = model or built_model_for(version_for(session, instance.process_version_id))
    workflow = session.info.get(_READ_WORKFLOWS, {}).pop((instance.id, instance.revision), None)
    if workflow is None:
        workflow = load_workflow(instance.serialized, model)
    workflow.script_engine = ServiceScriptEngine(ServiceContext(session, actor_id, instance.id))
    return workflow
