"""The QA lead's overrides on one instance, each on its own page with a reason to give.

Suspend, resume, terminate, retry a failed step with corrected data, and for an
open task: reassign it, change its due date or complete it on someone's behalf.
The engine (engine/runtime/administration.py) checks the role and the reason and
records each change with its before and after; a refusal comes back on the same
page with the answers kept and nothing changed.
"""
import json
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.runtime import administration
from engine.runtime.errors import InvalidFormData, WorkflowError
from engine.runtime.instances import form_context, task_form_schema, task_ui_schema
from engine.runtime.models import HumanTask, ProcessInstance, ProcessVersion
from engine.runtime.registry import built_model_for
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.views.outcome import errors_of, perform
from webapp.form_rendering import (ErrorLink, Field, Option, apply_row_command, describe_form, drop_blank_rows,
                                   parse_submission, read_date, walk)

blueprint = Blueprint("administration", __name__)

# What each instance-wide operation is called on its page and in its confirmation.
INSTANCE_OPERATIONS = {
    "suspend": ("Suspend this process", "Its tasks cannot be worked on and its timers do not fire until it is resumed.",
                "Process suspended", administration.suspend),
    "resume": ("Resume this process", "Its tasks open again; a timer that came due meanwhile fires on the scheduler's next run.",
               "Process resumed", administration.resume),
    "terminate": ("Terminate this process", "Its open tasks are cancelled and it ends for good. This cannot be undone.",
                  "Process terminated", administration.terminate),
}


@blueprint.route("/instances/<int:instance_id>/<any(suspend, resume, terminate):operation>", methods=["GET", "POST"])
@login_required
def instance_operation(instance_id: int, operation: str):
    """Ask for the reason, then suspend, resume or terminate."""
    instance = _instance_for_qa_lead(instance_id)
    title, explanation, done, change = INSTANCE_OPERATIONS[operation]
    errors = {}
    if request.method == "POST":
        errors = perform(lambda: change(db.session, instance.id, _me(), request.form.get("reason", "")), done)
        if not errors:
            return redirect(url_for("monitoring.instance", instance_id=instance.id))
    return _page(instance, title=title, explanation=explanation, errors=errors, button=title.split(" ")[0])


@blueprint.route("/instances/<int:instance_id>/retry", methods=["GET", "POST"])
@login_required
def retry(instance_id: int):
    """Show the failed step and its data; retry it with the corrections given."""
    instance = _instance_for_qa_lead(instance_id)
    errors = {}
    if request.method == "POST":
        try:
            corrections = json.loads(request.form.get("corrections", "") or "{}")
        except json.JSONDecodeError:
            errors = {"corrections": 'Corrections must be JSON, for example {"score": "7"}'}
        else:
            outcome = []
            errors = perform(lambda: outcome.append(administration.retry(
                db.session, instance.id, _me(), request.form.get("reason", ""), corrections)), None)
            if not errors:
                failure = outcome[0]
                flash("Retried: the process went on." if failure is None
                      else f"Retried, but the step failed again: {failure}", "success" if failure is None else "info")
                return redirect(url_for("monitoring.instance", instance_id=instance.id))
    steps = administration.failed_steps(db.session, instance) if instance.status == "error" else []
    corrections = Field(kind="textarea", name="corrections", id="corrections", label="Corrections",
                        hint='A JSON object of the data names to change and their new values, for example '
                             '{"score": "7"}. Leave {} to run the step again unchanged.',
                        value=request.form.get("corrections", "{}"), error=errors.get("corrections"))
    return _page(instance, title="Retry the failed step", errors=errors, button="Retry", fields=[corrections],
                 explanation="Correct the data the step runs on, then run it again. Only the names you give change.",
                 failed=[{**step, "json": json.dumps(step["data"], indent=2, sort_keys=True, default=str)}
                         for step in steps])


@blueprint.route("/instances/<int:instance_id>/tasks/<int:task_id>/reassign", methods=["GET", "POST"])
@login_required
def reassign(instance_id: int, task_id: int):
    instance, task = _task_for_qa_lead(instance_id, task_id)
    errors = {}
    if request.method == "POST":
        chosen = request.form.get("assignee_id", "")
        errors = perform(lambda: administration.reassign_task(
            db.session, task.id, _me(), whole_number(chosen) or 0, request.form.get("reason", "")),
            f"Task reassigned: {task.title}")
        if not errors:
            return redirect(url_for("monitoring.instance", instance_id=instance.id))
    people = [Option(str(person.id), f"{person.display_name} ({person.job_title})")
              for person in administration.eligible_assignees(db.session, task) if person.id != task.assignee_id]
    chooser = Field(kind="select", name="assignee_id", id="assignee_id", label="Give the task to", options=people,
                    hint="People who hold the role the task needs.", value=request.form.get("assignee_id", ""),
                    error=errors.get("assignee_id"))
    return _page(instance, task=task, title="Reassign a task", errors=errors, button="Reassign", fields=[chooser],
                 explanation="The task leaves its current holder's inbox and goes to the person you choose.")


@blueprint.route("/instances/<int:instance_id>/tasks/<int:task_id>/due-date", methods=["GET", "POST"])
@login_required
def due_date(instance_id: int, task_id: int):
    instance, task = _task_for_qa_lead(instance_id, task_id)
    errors = {}
    if request.method == "POST":
        text = read_date(request.form, "due_on")
        try:
            due_on = date.fromisoformat(text) if text else None
        except ValueError:
            errors = {"due_on": "The new due date must be a real date, for example 27 3 2027"}
        else:
            errors = perform(lambda: administration.change_due_date(
                db.session, task.id, _me(), due_on, request.form.get("reason", "")), f"Due date changed: {task.title}")
            if not errors:
                return redirect(url_for("monitoring.instance", instance_id=instance.id))
    new_date = Field(kind="date", name="due_on", id="due_on", label="New due date", hint="For example 27 3 2027",
                     value={part: request.form.get(f"due_on-{part}", "") for part in ("day", "month", "year")},
                     error=errors.get("due_on"))
    return _page(instance, task=task, title="Change a task's due date", errors=errors, button="Change the due date",
                 fields=[new_date], explanation="Inboxes, lists and the overdue counts use the new date. "
                             "A reminder or escalation timer the process has already set keeps its own time.")


@blueprint.route("/instances/<int:instance_id>/tasks/<int:task_id>/complete", methods=["GET", "POST"])
@login_required
def complete_on_behalf(instance_id: int, task_id: int):
    """The task's own form, filled in by the QA lead for its holder, with the reason."""
    instance, task = _task_for_qa_lead(instance_id, task_id)
    model = built_model_for(db.session.get(ProcessVersion, instance.process_version_id))
    schema = task_form_schema(db.session, model, task) or {}
    context = form_context(db.session, task, schema)
    answers, field_errors, errors = {}, {}, {}
    command = request.form.get("action", "complete")
    if request.method == "POST" and command != "complete":
        try:
            answers = apply_row_command(schema, parse_submission(schema, request.form, context), command)
        except ValueError:
            abort(400)
    elif request.method == "POST":
        answers = drop_blank_rows(parse_submission(schema, request.form, context))
        try:
            administration.complete_on_behalf(db.session, task.id, _me(), answers, request.form.get("reason", ""))
            db.session.commit()
        except InvalidFormData as invalid:
            db.session.rollback()
            field_errors = invalid.errors
        except WorkflowError as refused:
            db.session.rollback()
            errors = errors_of(refused)
        else:
            flash(f"Task completed on behalf of its holder: {task.title}", "success")
            return redirect(url_for("monitoring.instance", instance_id=instance.id))
    ui_schema = task_ui_schema(model, task)
    form = describe_form(schema, ui_schema, answers, field_errors, context=context)
    return _page(instance, task=task, title="Complete a task on someone's behalf", errors=errors,
                 button="Complete the task", fields=form.fields, form_errors=form.errors, row_commands=True,
                 explanation="Use this when the person gave their answers another way. "
                             "You are recorded as completing it, with whose task it was and why.")


def _page(instance: ProcessInstance, *, title: str, explanation: str, errors: dict, button: str,
          fields: list[Field] = (), form_errors: list[ErrorLink] = (), **extra):
    """The operation's page: its fields, then the reason; with problems, a 422 and an error summary."""
    reason = Field(kind="textarea", name="reason", id="reason", label="Reason",
                   hint="Kept in the audit trail with what changed.", value=request.form.get("reason", ""),
                   error=errors.get("reason"))
    fields = [*fields, reason]
    summary = list(form_errors) + [ErrorLink(f"#{item.anchor}", item.error) for item in walk(fields)
                                   if item.error and item.name in errors]
    problems = [errors[""]] if "" in errors else []
    return render_template("instance_admin.html", instance=instance, title=title, explanation=explanation,
                           summary=summary, problems=problems, button=button, fields=fields,
                           **extra), (422 if summary or problems else 200)


def _instance_for_qa_lead(instance_id: int) -> ProcessInstance:
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        abort(404)
    if not administration.may_administer(current_user):
        abort(403)
    return instance


def _task_for_qa_lead(instance_id: int, task_id: int) -> tuple[ProcessInstance, HumanTask]:
    instance = _instance_for_qa_lead(instance_id)
    task = db.session.get(HumanTask, task_id)
    if task is None or task.instance_id != instance.id:
        abort(404)
    return instance, task


def _me():
    return current_user._get_current_object()
