"""The task inbox over the API: list, read, claim, release, save a draft, complete.

Views parse with marshmallow, call the engine, commit and serialize. The engine's
guards (state, lane, person, form schema) decide; its errors become JSON responses
in webapp.api.errors. Task summaries are built before the commit, while the rows
are fresh, so serializing never reloads them.
"""
from datetime import date, datetime

from flask_smorest import Blueprint, abort

from engine.clock import clock
from engine.runtime import events
from engine.runtime.delegation import covered_tasks
from engine.runtime.inbox import InboxFilters, is_overdue, list_inbox
from engine.runtime.instances import (claim_task, complete_task, may_act_or_cover, release_task, save_draft,
                                      task_data, task_form_schema, task_ui_schema)
from engine.runtime.models import HumanTask, ProcessInstance, ProcessVersion, TaskDraft
from engine.runtime.registry import built_model_for
from webapp.api.access import can_view_instance
from webapp.api.auth import api_user
from webapp.api.schemas import (ErrorSchema, TaskAnswersSchema, TaskDetailSchema, TaskListQuerySchema,
                                TaskListSchema, TaskSummarySchema)
from webapp.extensions import db

blueprint = Blueprint("api_tasks", __name__, url_prefix="/tasks",
                      description="The caller's task inbox, and working on tasks")

_NOT_JSON = object()


@blueprint.route("", methods=["GET"])
@blueprint.arguments(TaskListQuerySchema, location="query", as_kwargs=False)
@blueprint.response(200, TaskListSchema)
@blueprint.alt_response(422, schema=ErrorSchema, description="A filter with a value it cannot take; `errors` names it")
def list_tasks(query: tuple[InboxFilters, int]):
    """List the caller's open tasks, those they may claim and those they completed

    Read from the task projection; no workflow is loaded. The filters and sort are the
    web inbox's and apply to all three lists; `counts` gives each list's full size.
    ---
    Listing is not recorded in the trail: a summary names only the case and audit
    references, and the inbox is polled often. Opening a task is recorded.
    """
    filters, per_page = query
    user = api_user()
    tabs = list_inbox(db.session, user, filters, clock.today(), page_size=per_page)
    chosen = tabs[filters.tab]
    return {**{tab: [task_summary(row.task) for row in listing.rows] for tab, listing in tabs.items()},
            "covering": [task_summary(task) for task in covered_tasks(db.session, user)],
            "counts": {tab: listing.total for tab, listing in tabs.items()},
            "tab": filters.tab, "page": chosen.page, "pages": chosen.pages}


@blueprint.route("/<int:task_id>", methods=["GET"])
@blueprint.response(200, TaskDetailSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Neither the caller's task nor an audit they can see")
@blueprint.alt_response(404, schema=ErrorSchema, description="No such task")
def read_task(task_id: int):
    """Read one task with its form, the caller's draft and the data the step sees

    The read is recorded in the audit trail as `task.viewed`.
    """
    task = _task_or_404(task_id)
    user = api_user()
    if not may_act_or_cover(db.session, task, user) and not can_view_instance(db.session, user, task.instance_id):
        abort(403, message="This task is not yours, and it belongs to an audit you cannot see.")
    schema, ui_schema = _forms(task)
    draft = db.session.get(TaskDraft, (task.id, user.id))
    detail = task_summary(task) | {"form_schema": schema, "ui_schema": ui_schema,
                                   "data": draft.data if draft else {},
                                   "context": json_plain(task_data(db.session, task))}
    events.record(db.session, "task.viewed", actor_id=user.id, instance_id=task.instance_id,
                  subject=("human_task", task.id), payload={"task": task.spec_name})
    db.session.commit()
    return detail


@blueprint.route("/<int:task_id>/claim", methods=["POST"])
@blueprint.response(200, TaskSummarySchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Held by someone else, or needs a role the caller lacks")
@blueprint.alt_response(404, schema=ErrorSchema, description="No such task")
@blueprint.alt_response(409, schema=ErrorSchema, description="The task is no longer open")
def claim(task_id: int):
    """Claim a task offered to a role, so it is the caller's alone"""
    summary = task_summary(claim_task(db.session, task_id, api_user()))
    db.session.commit()
    return summary


@blueprint.route("/<int:task_id>/release", methods=["POST"])
@blueprint.response(200, TaskSummarySchema)
@blueprint.alt_response(403, schema=ErrorSchema,
                        description="Not held by the caller, or assigned by the process (only the QA lead reassigns)")
@blueprint.alt_response(404, schema=ErrorSchema, description="No such task")
@blueprint.alt_response(409, schema=ErrorSchema, description="The task is no longer open")
def release(task_id: int):
    """Give a claimed task back to its role"""
    summary = task_summary(release_task(db.session, task_id, api_user()))
    db.session.commit()
    return summary


@blueprint.route("/<int:task_id>/draft", methods=["PUT"])
@blueprint.arguments(TaskAnswersSchema)
@blueprint.response(204)
@blueprint.alt_response(403, schema=ErrorSchema, description="Not the caller's task")
@blueprint.alt_response(404, schema=ErrorSchema, description="No such task")
def put_draft(body: dict, task_id: int):
    """Save the caller's unfinished answers without touching the process

    The draft comes back as `data` when the caller reads the task, and is cleared
    when the task is completed. Answers are not checked until completion.
    """
    save_draft(db.session, task_id, api_user(), body["data"])
    db.session.commit()


@blueprint.route("/<int:task_id>/complete", methods=["POST"])
@blueprint.arguments(TaskAnswersSchema)
@blueprint.response(200, TaskSummarySchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Not the caller's task")
@blueprint.alt_response(404, schema=ErrorSchema, description="No such task")
@blueprint.alt_response(409, schema=ErrorSchema,
                        description="Already completed (the message says by whom), changed at the same moment, "
                                    "or the process could not continue; nothing was changed")
@blueprint.alt_response(422, schema=ErrorSchema,
                        description="Answers that fail the form's schema; `errors` maps field path to message")
def complete(body: dict, task_id: int):
    """Complete a task with answers to its form

    The answers are checked against the form's JSON Schema before the process
    moves; on any error nothing changes.
    """
    summary = task_summary(complete_task(db.session, task_id, api_user(), body["data"]))
    db.session.commit()
    return summary


def task_summary(task: HumanTask) -> dict:
    """The fields every task listing shows, with `overdue` worked out against the product clock."""
    return {"id": task.id, "title": task.title, "spec_name": task.spec_name, "subject": task.subject,
            "business_key": task.business_key, "due_on": task.due_on,
            "overdue": is_overdue(task, clock.today()), "assignee_id": task.assignee_id, "role": task.role,
            "state": task.state, "instance_id": task.instance_id, "team_id": task.team_id,
            "completed_at": task.completed_at}


def json_plain(value):
    """`value` with only what JSON can carry: dates become ISO strings, anything else is left out.

    Task data may hold engine objects a client cannot use; dropping them keeps the
    response well-formed without guessing at their meaning."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(key): plain for key, item in value.items() if (plain := json_plain(item)) is not _NOT_JSON}
    if isinstance(value, (list, tuple)):
        return [plain for item in value if (plain := json_plain(item)) is not _NOT_JSON]
    return _NOT_JSON


def _task_or_404(task_id: int) -> HumanTask:
    task = db.session.get(HumanTask, task_id)
    if task is None:
        abort(404, message="There is no such task.")
    return task


def _forms(task: HumanTask) -> tuple[dict | None, dict | None]:
    """The JSON Schema and UI schema of the task's form, from the version its instance is pinned to."""
    if not task.form_key and not task.form_schema:
        return None, None
    instance = db.session.get(ProcessInstance, task.instance_id)
    model = built_model_for(db.session.get(ProcessVersion, instance.process_version_id))
    return task_form_schema(db.session, model, task), task_ui_schema(model, task)
