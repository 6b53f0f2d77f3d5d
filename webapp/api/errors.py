"""Every API error is JSON: `{"code", "status", "message", "errors"?}`, never an HTML page or a trace.

The web app's HTML error pages are registered on the app by status code, and Flask
prefers an app-wide code handler to a blueprint's class handler, so the API
blueprints register their own handler for each code they answer with. Routing
errors (no such path, wrong method) happen before any blueprint is chosen, so a
before-request hook answers those for paths under the API prefix.

Engine errors map to statuses here, once, so views can call the engine and let its
errors rise. Every handler rolls the session back: a failed request changes nothing.
"""
from http import HTTPStatus

from flask import Blueprint, Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from engine.organisation.directory import OrganisationError
from engine.qa.allocation import AllocationError
from engine.runtime.errors import (ConcurrentUpdate, InvalidFormData, NotAllowed, ProcessFailure, TaskNotFound,
                                   TaskNotOpen, WorkflowError)
from webapp.extensions import db

HANDLED_CODES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500)

MESSAGES = {
    400: "The request could not be read: send JSON with Content-Type: application/json.",
    401: "Send a valid API token: Authorization: Bearer <token>.",
    403: "You do not have access to this.",
    404: "There is nothing here: check the address.",
    405: "This address does not accept that method.",
    409: "This cannot be done now: something changed.",
    413: "The request body is too large.",
    415: "Send the body as JSON with Content-Type: application/json.",
    422: "There is a problem with what was sent: `errors` says what, field by field.",
    500: "Sorry, there is a problem with the service. Nothing was changed; try again later.",
}

# Most specific first: AllocationError and the runtime errors all derive from WorkflowError.
WORKFLOW_STATUSES = (
    (TaskNotFound, 404),
    (NotAllowed, 403),
    (TaskNotOpen, 409),
    (InvalidFormData, 422),
    (AllocationError, 422),
    (OrganisationError, 422),
    (ConcurrentUpdate, 409),
    (ProcessFailure, 409),
    (WorkflowError, 409),
)

# The engine's message tells a web user their answers were kept as a draft; over
# the API nothing is kept (the client holds the answers), so say what is true.
CONCURRENT_UPDATE_MESSAGE = ("Someone else changed this process at the same moment, so nothing was saved. "
                             "Fetch the task again and resubmit.")


def error_response(status: int, message: str, errors: dict[str, str] | None = None, headers: dict | None = None):
    """The one JSON error shape, with the session rolled back so nothing half-done is kept."""
    db.session.rollback()
    body = {"code": status, "status": _status_name(status), "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def handle_http_exception(error: HTTPException):
    """Aborts from views, webargs validation (422) and uncaught exceptions (500), as JSON."""
    data = getattr(error, "data", None) or {}
    status = error.code or 500
    message = data.get("message") or MESSAGES.get(status) or error.description
    errors = data.get("errors") or flatten_messages(data.get("messages"))
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_response(status, message, errors, headers)


def handle_workflow_error(error: WorkflowError):
    """The engine refused: say why, with the status that fits the reason."""
    status = next(code for cls, code in WORKFLOW_STATUSES if isinstance(error, cls))
    errors = None
    message = str(error)
    if isinstance(error, InvalidFormData):
        errors = error.errors
    elif isinstance(error, (AllocationError, OrganisationError)) and error.field:
        errors = dict(error.by_field)
    elif isinstance(error, AllocationError):
        status = 403  # the only field-less allocation error: the caller may not allocate
    elif isinstance(error, ConcurrentUpdate):
        message = CONCURRENT_UPDATE_MESSAGE
    return error_response(status, message, errors)


def flatten_messages(messages) -> dict[str, str] | None:
    """webargs reports `{"json": {"field": ["problem", ...]}}`; clients get `{"field": "problem"}`.

    Nested fields become dotted paths, like the engine's form errors, so a client
    shows every problem next to its field the same way whichever layer found it."""
    if not messages:
        return None
    flat: dict[str, str] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            flat[prefix or "_schema"] = value[0]
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            flat[prefix or "_schema"] = str(value)

    for location_messages in messages.values():
        walk("", location_messages)
    return flat


def register_json_errors(blueprint: Blueprint) -> None:
    """Answer every error raised inside `blueprint`'s views as JSON."""
    for code in HANDLED_CODES:
        blueprint.register_error_handler(code, handle_http_exception)
    blueprint.register_error_handler(HTTPException, handle_http_exception)
    blueprint.register_error_handler(WorkflowError, handle_workflow_error)


def register_routing_errors(app: Flask, url_prefix: str) -> None:
    """Answer "no such path" and "wrong method" under `url_prefix` as JSON.

    The hook goes first in the app's before-request list so it also runs ahead of
    CSRF protection: a POST to a mistyped API path gets a JSON 404, not an HTML
    "CSRF token missing" page (the API never uses cookies, so CSRF has no part in it)."""
    def json_routing_error():
        error = request.routing_exception
        if (error is None or isinstance(error, RequestRedirect)
                or not (request.path == url_prefix or request.path.startswith(url_prefix + "/"))):
            return None
        return handle_http_exception(error)

    app.before_request_funcs.setdefault(None, []).insert(0, json_routing_error)


def _status_name(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
