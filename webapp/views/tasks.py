"""The task inbox and the task page: where each person does their part of an audit.

The inbox reads the human-task projection only (no workflow is loaded to list
tasks). The task page shows what the person needs to act (instructions, the case,
the grades so far) and the form, prefilled from their draft. Posting the form
saves a draft, adds or removes a row, claims, releases or completes the task; the
engine runs every guard, and anything it refuses comes back as a message with the
person's answers kept as a draft wherever they may still act.
"""
from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.qa.access import can_view_audit
from engine.qa.audit_record import audit_record
from engine.qa.contributions import OPEN_FOR_PARTICIPANTS, audit_of_task, may_manage_participants
from engine.qa.models import Audit, Team
from engine.qa.narratives import awaiting_sign_off
from engine.qa.observation_feedback import feedback_on_page
from engine.runtime import events, inbox as inbox_queries
from engine.runtime.errors import (ConcurrentUpdate, InvalidFormData, NotAllowed, ProcessFailure,
                                   TaskNotFound, TaskNotOpen, WorkflowError)
from engine.runtime.delegation import covered_tasks
from engine.runtime.instances import (claim_task, complete_task, form_context, may_act_or_cover, release_task,
                                      save_draft, task_data, task_form_schema, task_ui_schema)
from engine.runtime.models import HumanTask, ProcessInstance, ProcessVersion, TaskDraft
from engine.runtime.process_labels import process_names, step_labels
from engine.runtime.registry import BuiltModel, built_model_for
from webapp.extensions import db
from webapp.navigation import add_item
from webapp.form_rendering import apply_row_command, describe_form, drop_blank_rows, parse_submission
from webapp.formatting import long_date

blueprint = Blueprint("tasks", __name__)
add_item("tasks.inbox", "Inbox")

INBOX_TABS = {"assigned": "Assigned to you", "claimable": "You can claim", "completed": "Completed"}
INBOX_SORTS = {"due": "Due date", "task": "Task", "subject": "Case reference", "reference": "Audit reference",
               "received": "Date received", "completed": "Date completed"}
# What each refusal from the engine means over HTTP.
REFUSAL_STATUS = {NotAllowed: 403, TaskNotOpen: 409, ConcurrentUpdate: 409, ProcessFailure: 409}


@blueprint.route("/inbox")
@login_required
def inbox():
    """My tasks, tasks my role may claim and what I finished: one tab each with its count,
    filtered and sorted alike; above them, the tasks of absent colleagues I cover. Bad filter
    values are named and left out, never an error page."""
    user = _me()
    covering = covered_tasks(db.session, user)
    filters, errors = inbox_queries.InboxFilters.from_query(request.args)
    today = clock.today()
    tabs = inbox_queries.list_inbox(db.session, user, filters, today)
    processes = process_names(db.session)
    choices, teams = _inbox_choices(user, processes)
    return render_template(
        "inbox.html", tabs=tabs, filters=filters, errors=errors, choices=choices, today=today,
        covering=covering, narratives_to_sign=awaiting_sign_off(db.session, user), holders={task.assignee_id: _name(task.assignee_id) for task in covering},
        narrowed=filters != inbox_queries.InboxFilters(q=filters.q, tab=filters.tab, page=filters.page),
        tab_labels=INBOX_TABS, due_filters=inbox_queries.DUE_FILTERS, sorts=INBOX_SORTS,
        process_names=processes, team_names=teams, is_overdue=inbox_queries.is_overdue,
        page_links={tab: partial(_inbox_page_link, filters, tab) for tab in inbox_queries.TABS})


def _inbox_choices(user: User, processes: dict[str, str]) -> tuple[dict, dict[int, str]]:
    """What each inbox filter offers (value, label), named for people, and the team names."""
    values = inbox_queries.filter_values(db.session, user)
    steps = step_labels(db.session)
    teams = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(values["teams"]))).all())
    choices = {"processes": [(key, processes.get(key, key)) for key in values["processes"]],
               "steps": sorted({(step, steps.get((key, step), step)) for key, step in values["steps"]},
                               key=lambda item: item[1]),
               "teams": sorted(teams.items(), key=lambda item: item[1])}
    return choices, teams


def _inbox_page_link(filters: inbox_queries.InboxFilters, tab: str, number: int) -> str:
    return url_for("tasks.inbox", **filters.to_query(tab=tab, page=number)) + f"#tab-{tab}"


@blueprint.route("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    """The task page; viewing it is recorded, because it shows a child's audit."""
    found = _task_or_404(task_id)
    user = _me()
    if not _may_view(found, user):
        abort(403)
    events.record(db.session, "task.viewed", actor_id=user.id, instance_id=found.instance_id,
                  subject=("human_task", found.id), payload={"task": found.spec_name})
    db.session.commit()
    return _page(found)


@blueprint.route("/tasks/<int:task_id>", methods=["POST"])
@login_required
def act(task_id: int):
    """One button on the task page: save, complete, add_row/remove_row, claim or release."""
    found = _task_or_404(task_id)
    user = _me()
    if not _may_view(found, user):
        abort(403)
    action = request.form.get("action", "")
    if action == "claim":
        return _claim(found, user)
    if action == "release":
        return _release(found, user)
    if action not in ("save", "complete") and not action.startswith(("add_row:", "remove_row:")):
        abort(400)
    schema = task_form_schema(db.session, _model(found), found) or {}
    answers = parse_submission(schema, request.form, form_context(db.session, found, schema))
    if action == "complete":
        return _complete(found, user, drop_blank_rows(answers))
    if found.state != "ready":
        return _page(found, problems=[_closed_message(found)], status=409)
    if action != "save":
        try:
            answers = apply_row_command(schema, answers, action)
        except ValueError:
            abort(400)
    try:
        save_draft(db.session, found.id, user, answers)
    except NotAllowed as refusal:
        db.session.rollback()
        return _page(found, problems=[str(refusal)], status=403)
    db.session.commit()
    if action == "save":
        flash("Draft saved", "success")
        return redirect(url_for("tasks.task", task_id=found.id))
    return _page(found, answers=answers)


def _complete(found: HumanTask, user: User, answers: dict):
    title = found.title
    try:
        complete_task(db.session, found.id, user, answers)
        db.session.commit()
    except TaskNotFound:
        db.session.rollback()
        abort(404)
    except InvalidFormData as invalid:
        db.session.rollback()
        _keep_draft(found, user, answers)
        return _page(found, answers=answers, errors=invalid.errors, status=422)
    except (ConcurrentUpdate, ProcessFailure) as refusal:
        db.session.rollback()
        _keep_draft(found, user, answers)
        return _page(found, answers=answers, problems=[str(refusal)], status=REFUSAL_STATUS[type(refusal)])
    except (NotAllowed, TaskNotOpen) as refusal:
        db.session.rollback()
        return _page(found, answers=answers, problems=[str(refusal)], status=REFUSAL_STATUS[type(refusal)])
    flash(f"Task completed: {title}", "success")
    return redirect(url_for("tasks.inbox"))


def _claim(found: HumanTask, user: User):
    try:
        claim_task(db.session, found.id, user)
        db.session.commit()
    except (NotAllowed, TaskNotOpen) as refusal:
        db.session.rollback()
        return _page(found, problems=[str(refusal)], status=REFUSAL_STATUS[type(refusal)])
    flash("You have claimed this task: it is now in your inbox and no one else can take it.", "success")
    return redirect(url_for("tasks.task", task_id=found.id))


def _release(found: HumanTask, user: User):
    try:
        release_task(db.session, found.id, user)
        db.session.commit()
    except (NotAllowed, TaskNotOpen) as refusal:
        db.session.rollback()
        return _page(found, problems=[str(refusal)], status=REFUSAL_STATUS[type(refusal)])
    flash("You have released this task: anyone with the role can now claim it.", "success")
    return redirect(url_for("tasks.inbox"))


def _keep_draft(found: HumanTask, user: User, answers: dict) -> None:
    """After a refused completion (already rolled back), keep what the person typed."""
    try:
        save_draft(db.session, found.id, user, answers)
        db.session.commit()
    except WorkflowError:
        db.session.rollback()


def _page(found: HumanTask, *, answers: dict | None = None, errors: dict | None = None,
          problems: list[str] = (), status: int = 200):
    """Render the task page for the signed-in person, with the form only if they may act."""
    db.session.refresh(found)
    user = _me()
    model = _model(found)
    audit = audit_of_task(db.session, found)
    record = audit_record(db.session, audit) if audit is not None else None
    acting = found.state == "ready" and may_act_or_cover(db.session, found, user)
    form = draft = None
    if acting:
        draft = db.session.get(TaskDraft, (found.id, user.id))
        if answers is None:
            answers = draft.data if draft is not None else {}
        schema = task_form_schema(db.session, model, found) or {}
        ui_schema = task_ui_schema(model, found)
        form = describe_form(schema, ui_schema, answers, errors, context=form_context(db.session, found, schema))
    lane = model.manifest["lanes"].get(found.lane, {})
    return render_template(
        "task.html", task=found, audit=record, form=form, draft=draft, problems=list(problems),
        instructions=_instructions(model, found.spec_name),
        reviewed_action=_reviewed_action(found, record) if acting else None,
        assignee=_name(found.assignee_id), completed_by=_name(found.completed_by_id),
        claimable=acting and found.assignee_id is None,
        releasable=acting and found.assignee_id == user.id and not lane.get("person"),
        activity_feedback=feedback_on_page(db.session, db.session.get(ProcessInstance, found.instance_id), user),
        can_manage_participants=audit is not None and audit.status in OPEN_FOR_PARTICIPANTS
        and may_manage_participants(user, audit),
        today=clock.today()), status


def _instructions(model: BuiltModel, spec_name: str) -> str:
    """The task's instructions from the diagram (`instructionsForEndUser`, else its documentation)."""
    for process in (model.spec, *model.subprocess_specs.values()):
        spec = process.task_specs.get(spec_name)
        if spec is not None:
            extensions = getattr(spec, "extensions", None) or {}
            return extensions.get("instructionsForEndUser") or spec.documentation or ""
    return ""


def _reviewed_action(found: HumanTask, record: dict | None) -> dict | None:
    """The tracker row a per-action task is about (its task data holds `action.id`)."""
    if record is None or not record["actions"]:
        return None
    action = task_data(db.session, found).get("action")
    if not isinstance(action, dict):
        return None
    return next((row for row in record["actions"] if row["id"] == action.get("id")), None)


def _closed_message(found: HumanTask) -> str:
    if found.state == "completed":
        return (f"This task was already completed by {_name(found.completed_by_id) or 'someone else'} "
                f"on {long_date(found.completed_at)}. Nothing was saved.")
    return "This task is no longer open: the process moved on without it. Nothing was saved."


def _may_view(found: HumanTask, user: User) -> bool:
    """People who may act on the task, and people who may see its audit."""
    if may_act_or_cover(db.session, found, user) or found.completed_by_id == user.id:
        return True
    audit = audit_of_task(db.session, found)
    return audit is not None and can_view_audit(db.session, user, audit.id)


def _model(found: HumanTask) -> BuiltModel:
    instance = db.session.get(ProcessInstance, found.instance_id)
    return built_model_for(db.session.get(ProcessVersion, instance.process_version_id))


def _task_or_404(task_id: int) -> HumanTask:
    found = db.session.get(HumanTask, task_id)
    if found is None:
        abort(404)
    return found


def _name(user_id: int | None) -> str | None:
    person = db.session.get(User, user_id) if user_id else None
    return person.display_name if person else None


def _me() -> User:
    return current_user._get_current_object()
