"""Starting processes over the API: what the caller may start, its start form, and starting one.

The same engine functions as the Start page (engine/runtime/starting.py): the process's
process.json declares who may start it; the answers are checked against the start form
on the server; refusals change nothing (NotAllowed 403, bad answers 422 per field).
"""
from flask_smorest import Blueprint

from engine.runtime.starting import first_task_for, start_form, start_process, startable
from webapp.api.auth import api_user
from webapp.api.schemas import (ErrorSchema, StartableListSchema, StartedSchema, StartFormSchema,
                                StartRequestSchema)
from webapp.extensions import db

blueprint = Blueprint("api_processes", __name__, url_prefix="/processes",
                      description="Processes the caller may start, and starting one")


@blueprint.route("/startable", methods=["GET"])
@blueprint.response(200, StartableListSchema)
def list_startable():
    """List the processes the caller may start (their newest published versions)"""
    return {"processes": startable(db.session, api_user())}


@blueprint.route("/<process_key>/start-form", methods=["GET"])
@blueprint.response(200, StartFormSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="The caller may not start this process")
@blueprint.alt_response(409, schema=ErrorSchema, description="No published process with this key")
def read_start_form(process_key: str):
    """Read a process's start form and what it may be about for the caller"""
    described = start_form(db.session, api_user(), process_key)
    return described | {"about_options": [{"id": key, "label": label} for key, label in described["about_options"]]}


@blueprint.route("/<process_key>/instances", methods=["POST"])
@blueprint.arguments(StartRequestSchema)
@blueprint.response(201, StartedSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="The caller may not start this process")
@blueprint.alt_response(409, schema=ErrorSchema, description="No published process with this key")
@blueprint.alt_response(422, schema=ErrorSchema, description="The answers or the choice of what it is about are wrong")
def start(request: dict, process_key: str):
    """Start a process with answers to its start form

    The `instance.started` event records the caller, what it is about and the SHA-256 of
    the answers. `first_task_id` is the new instance's first task when it is the caller's.
    """
    user = api_user()
    instance = start_process(db.session, user, process_key, request["answers"], request.get("about_id"))
    task = first_task_for(db.session, instance, user)
    started = {"instance_id": instance.id, "reference": instance.business_key, "status": instance.status,
               "first_task_id": task.id if task else None}
    db.session.commit()
    return started
