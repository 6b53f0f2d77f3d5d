"""The Start page: every process the signed-in person may start, and each one's start form.

Who may start what is declared in each process's process.json (`start`) and decided by
the engine (engine/runtime/starting.py); the view reads the form, calls it, commits and
opens the new instance's first task when it is the starter's own.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.runtime.errors import InvalidFormData, NotAllowed, ProcessFailure
from engine.runtime.starting import (ABOUT_FIELD, first_task_for, prefilled_answers, start_form, start_process,
                                     startable)
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.form_rendering import ErrorLink, apply_row_command, describe_form, drop_blank_rows, parse_submission
from webapp.navigation import add_item

blueprint = Blueprint("start", __name__)
add_item("start.index", "Start", lambda user: bool(startable(db.session, user)))


@blueprint.route("/start")
@login_required
def index():
    """What the signed-in person may start."""
    return render_template("start.html", processes=startable(db.session, current_user))


@blueprint.route("/start/<process_key>")
@login_required
def form(process_key: str):
    """The start form of one process, with any answers a link from another page suggests
    (only the form's own text fields; checked on submit like anything typed)."""
    described = _form_or_abort(process_key)
    return _page(described, prefilled_answers(described["schema"], request.args),
                 {}, _about_id(request.args.get(ABOUT_FIELD, "")))


@blueprint.route("/start/<process_key>", methods=["POST"])
@login_required
def start(process_key: str):
    """Start the process with the posted answers, or show the form again with what is wrong."""
    described = _form_or_abort(process_key)
    answers = parse_submission(described["schema"], request.form)
    about_id = _about_id(request.form.get(ABOUT_FIELD, ""))
    action = request.form.get("action", "start")
    if action.startswith(("add_row:", "remove_row:")):
        try:
            return _page(described, apply_row_command(described["schema"], answers, action), {}, about_id)
        except ValueError:
            abort(400)
    answers = drop_blank_rows(answers)
    try:
        instance = start_process(db.session, current_user, process_key, answers, about_id)
        task = first_task_for(db.session, instance, current_user)
        reference = instance.business_key
        db.session.commit()
    except InvalidFormData as invalid:
        db.session.rollback()
        return _page(described, answers, invalid.errors, about_id, status=422)
    except (NotAllowed, ProcessFailure):
        db.session.rollback()
        abort(403)
    flash(f"{described['name']} started: {reference}", "success")
    if task is not None:
        return redirect(url_for("tasks.task", task_id=task.id))
    return redirect(url_for("start.index"))


def _form_or_abort(process_key: str) -> dict:
    try:
        return start_form(db.session, current_user, process_key)
    except ProcessFailure:
        abort(404)
    except NotAllowed:
        abort(403)


def _about_id(raw: str) -> int | None:
    return whole_number(raw, minimum=1)


def _page(described: dict, answers: dict, errors: dict, about_id: int | None = None, status: int = 200):
    about_error = errors.get(ABOUT_FIELD)
    form = describe_form(described["schema"], described["ui_schema"], answers,
                         {key: message for key, message in errors.items() if key != ABOUT_FIELD}, form_id="start-form")
    links = ([ErrorLink("#about", about_error)] if about_error else []) + form.errors
    return render_template("start_form.html", process=described, form=form, about_id=about_id,
                           about_error=about_error, errors=errors, error_links=links), status
