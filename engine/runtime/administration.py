"""The QA lead's operations on process instances that are stuck or need a person's override.

Suspend and resume, terminate, retry a step that failed after correcting its data,
reassign a task, complete a task on someone's behalf, change a task's due date. Each
needs a reason, is allowed only to the roles in ADMINISTRATOR_ROLES, runs under the
instance's row lock like every other state change, and writes one event whose
payload holds the reason and the state before and after, so the trail shows exactly
what was overridden, by whom and why.

Suspending stops the instance where it is: its tasks cannot be worked on and its
timers do not fire (the scheduler claims only running instances); a timer that
came due meanwhile fires on the scheduler's next run after resuming.
"""
from datetime import date

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.runtime import events
from engine.runtime.errors import ConcurrentUpdate, FieldRefusal, NotAllowed
from engine.runtime.instances import (change_workflow, complete_locked_task, lock_instance, lock_task,
                                      separation_of_duties_problem, workflow_of)
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.services import EXPRESSION_HELPERS, SAFE_BUILTINS

ADMINISTRATOR_ROLES = ("qa_lead",)
# Statuses an instance can be in while it still has a future.
OPEN_STATUSES = ("running", "error", "suspended")
# Names every script and expression sees: task data must never shadow them.
ENGINE_NAMES = frozenset(SAFE_BUILTINS) | frozenset(EXPRESSION_HELPERS) | {"date", "datetime", "timedelta"}


class AdministrationError(FieldRefusal):
    """An operation on a running process refused as asked."""


def may_administer(user: User) -> bool:
    """Whether `user` may override running processes at all (pages use it to offer the buttons)."""
    return user.has_role(*ADMINISTRATOR_ROLES)


def suspend(session: Session, instance_id: int, admin: User, reason: str) -> ProcessInstance:
    """Hold a running (or failed) instance where it is until the QA lead resumes it."""
    reason = _checked(admin, reason)
    instance = _locked_instance(session, instance_id)
    if instance.status not in ("running", "error"):
        raise AdministrationError("", f"Only a running process can be suspended; this one is {instance.status}.")
    before = _status_of(instance)
    _write(session, instance, status="suspended")
    _record(session, "instance.suspended", admin, instance, reason, before, _status_of(instance))
    return instance


def resume(session: Session, instance_id: int, admin: User, reason: str) -> ProcessInstance:
    """Let a suspended instance go on: back to running, or to error if it had failed."""
    reason = _checked(admin, reason)
    instance = _locked_instance(session, instance_id)
    if instance.status != "suspended":
        raise AdministrationError("", f"Only a suspended process can be resumed; this one is {instance.status}.")
    before = _status_of(instance)
    _write(session, instance, status="error" if instance.last_error else "running")
    _record(session, "instance.resumed", admin, instance, reason, before, _status_of(instance))
    return instance


def terminate(session: Session, instance_id: int, admin: User, reason: str) -> ProcessInstance:
    """End an instance for good: its open tasks are cancelled and its timers dropped.

    The workflow itself is kept as it was, so its diagram and history still show how far it got."""
    reason = _checked(admin, reason)
    instance = _locked_instance(session, instance_id)
    if instance.status not in OPEN_STATUSES:
        raise AdministrationError("", f"This process is already {instance.status}.")
    now = clock.now()
    open_tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.state == "ready")).all()
    before = {**_status_of(instance), "open_tasks": [task.spec_name for task in open_tasks]}
    for task in open_tasks:
        task.state, task.completed_at = "cancelled", now
    _write(session, instance, status="terminated", next_timer_at=None, ended_at=now)
    _record(session, "instance.terminated", admin, instance, reason, before, _status_of(instance))
    return instance


def failed_steps(session: Session, instance: ProcessInstance) -> list[dict]:
    """The steps of an instance in error, each with the data it ran on, for the QA lead to correct."""
    workflow = workflow_of(session, instance)
    return [{"id": str(task.id), "bpmn_id": task.task_spec.bpmn_id,
             "name": task.task_spec.bpmn_name or task.task_spec.bpmn_id, "data": dict(task.data)}
            for task in workflow.get_tasks(state=TaskState.ERROR)]


def retry(session: Session, instance_id: int, admin: User, reason: str, corrections: dict) -> str | None:
    """Run the failed steps again after setting `corrections` (data key -> value) on them.

    Following SpiffWorkflow's own recipe: reset the workflow to each failed task, fix the
    data on the now-READY task, run the engine on. A user task whose own run failed keeps
    the answers its person gave. Returns None, or the new failure if the model failed again
    (the instance then stays in error, with the new message)."""
    reason = _checked(admin, reason)
    corrections = _checked_corrections(corrections)
    instance = _locked_instance(session, instance_id)
    if instance.status != "error":
        raise AdministrationError("", f"Only a process stopped by an error can be retried; this one is {instance.status}.")
    before = _status_of(instance)

    def reset_and_correct(workflow: BpmnWorkflow) -> None:
        failed = workflow.get_tasks(state=TaskState.ERROR)
        if not failed:
            raise AdministrationError("", "This process has no failed step to retry.")
        changed = {}
        for task in failed:
            kept = dict(task.data)
            workflow.reset_from_task_id(task.id)
            if task.task_spec.manual:
                task.data.update(kept)
            changed[task.task_spec.bpmn_id] = {key: task.data.get(key) for key in corrections}
            task.data.update(corrections)
            if task.task_spec.manual:
                task.run()
        _record(session, "instance.retried", admin, instance, reason, {**before, "data": changed},
                {"data": corrections})

    return change_workflow(session, instance, admin.id, reset_and_correct)


def reassign_task(session: Session, task_id: int, admin: User, assignee_id: int, reason: str) -> HumanTask:
    """Give an open task to someone else who holds the role its lane needs."""
    return move_task(session, task_id, admin, assignee_id, _checked(admin, reason))


def move_task(session: Session, task_id: int, admin: User, assignee_id: int, reason: str) -> HumanTask:
    """Reassign an open task for someone the caller has already allowed (the QA lead here,
    a system administrator handing over a leaver's work): role and separation of duties
    are checked, and the event keeps the reason and who held it before."""
    task, instance = _locked_open_task(session, task_id)
    person = session.get(User, assignee_id) if assignee_id else None
    if person is None or not person.active:
        raise AdministrationError("assignee_id", "Choose who the task goes to.")
    if person.id == task.assignee_id:
        raise AdministrationError("assignee_id", f"The task is already {person.display_name}'s.")
    if not person.has_role(task.role):
        raise AdministrationError("assignee_id", f"{person.display_name} does not hold the role this task needs.")
    conflict = separation_of_duties_problem(session, task, person)
    if conflict:
        raise AdministrationError("assignee_id", conflict)
    before = {"assignee_id": task.assignee_id}
    task.assignee_id = person.id
    _record(session, "task.reassigned", admin, instance, reason, before, {"assignee_id": person.id}, task=task)
    return task


def complete_on_behalf(session: Session, task_id: int, admin: User, answers: dict, reason: str) -> HumanTask:
    """Complete someone's task with the answers they gave elsewhere (on paper, by email).

    The answers are validated against the task's form like anyone's; the completion
    event names the QA lead as the actor and records whose task it was and why."""
    reason = _checked(admin, reason)
    task, instance = lock_task(session, task_id)
    on_behalf = {"reason": reason, "before": {"state": task.state, "assignee_id": task.assignee_id},
                 "after": {"state": "completed", "completed_by_id": admin.id}}
    return complete_locked_task(session, task, instance, admin, answers, on_behalf=on_behalf)


def change_due_date(session: Session, task_id: int, admin: User, due_on: date | None, reason: str) -> HumanTask:
    """Move an open task's due date (what inboxes, lists and the overdue counts read).

    A timer the model has already set (a reminder, an escalation) keeps its own time."""
    reason = _checked(admin, reason)
    if due_on is None:
        raise AdministrationError("due_on", "Enter the new due date.")
    if due_on < clock.today():
        raise AdministrationError("due_on", "The new due date cannot be in the past.")
    task, instance = _locked_open_task(session, task_id)
    if due_on == task.due_on:
        raise AdministrationError("due_on", "The task is already due on that date.")
    before = {"due_on": task.due_on}
    task.due_on = due_on
    _record(session, "task.due_date_changed", admin, instance, reason, before, {"due_on": due_on}, task=task)
    return task


def eligible_assignees(session: Session, task: HumanTask) -> list[User]:
    """Active people holding the role a task needs, for the reassignment choice."""
    return list(session.scalars(
        select(User).where(User.active.is_(True),
                           User.id.in_(select(UserRole.user_id).where(UserRole.role == task.role)))
        .order_by(User.display_name)))


def _checked(admin: User, reason: str | None) -> str:
    if not may_administer(admin):
        raise NotAllowed("Only the QA lead can change a running process.")
    reason = (reason or "").strip()
    if not reason:
        raise AdministrationError("reason", "Enter the reason: it is kept in the audit trail.")
    return reason


def _checked_corrections(corrections) -> dict:
    if not isinstance(corrections, dict):
        raise AdministrationError("corrections", "Corrections must be a JSON object of data names and values.")
    shadowing = sorted(key for key in corrections if key in ENGINE_NAMES)
    if shadowing:
        raise AdministrationError("corrections", f"These names belong to the engine and cannot be data: {', '.join(shadowing)}.")
    bad = sorted(key for key in corrections if not key.isidentifier())
    if bad:
        raise AdministrationError("corrections", f"Data names must be single words (letters, digits, _): {', '.join(bad)}.")
    return corrections


def _locked_instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = lock_instance(session, instance_id)
    if instance is None:
        raise AdministrationError("", "There is no such process.")
    return instance


def _locked_open_task(session: Session, task_id: int) -> tuple[HumanTask, ProcessInstance]:
    """The task and its locked instance; the task must still be open and the instance not ended."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise AdministrationError("", "There is no such task.")
    instance = _locked_instance(session, task.instance_id)
    session.refresh(task)
    if task.state != "ready":
        raise AdministrationError("", f"This task is {task.state}; only an open task can be changed.")
    if instance.status not in OPEN_STATUSES:
        raise AdministrationError("", f"This process is {instance.status}; its tasks cannot be changed.")
    return task, instance


def _status_of(instance: ProcessInstance) -> dict:
    return {"status": instance.status, "error": instance.last_error}


def _write(session: Session, instance: ProcessInstance, **values) -> None:
    """Change the instance row under the revision check, as every state change does."""
    seen = instance.revision
    values |= {"revision": seen + 1, "updated_at": clock.now()}
    result = session.execute(update(ProcessInstance)
                             .where(ProcessInstance.id == instance.id, ProcessInstance.revision == seen)
                             .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ConcurrentUpdate("Someone else changed this process at the same moment; please look again.")
    for key, value in values.items():
        setattr(instance, key, value)


def _record(session: Session, kind: str, admin: User, instance: ProcessInstance, reason: str,
            before: dict, after: dict, *, task: HumanTask | None = None) -> None:
    subject = ("human_task", task.id) if task is not None else ("process_instance", instance.id)
    payload = {"reason": reason, "before": before, "after": after}
    if task is not None:
        payload["task"] = task.spec_name
    events.record(session, kind, actor_id=admin.id, instance_id=instance.id, subject=subject, payload=payload)
