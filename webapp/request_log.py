"""One log line per web request, for the operations team (see engine/operations_log.py).

The line names the route by its template (`/tasks/<int:task_id>`), never the path asked
for nor its query string, which may hold a case reference; a path that matched no route
is logged as `-`. Each request gets an id (the caller's `X-Request-Id` if it is a plain
token, else a new one), returned in the response header so a report can quote it.
"""
import logging
import re
import time
import uuid

from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from engine.operations_log import log_line

log = logging.getLogger("qa.requests")
REQUEST_ID_HEADER = "X-Request-Id"
PLAIN_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def register(app: Flask) -> None:
    """Time every request and log its line when the response is ready."""
    app.before_request(_start)
    app.after_request(_log_response)


def _start() -> None:
    g.request_started = time.monotonic()
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if PLAIN_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def _log_response(response):
    started = g.get("request_started")
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    log_line(log, logging.INFO, {
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else "-",
        "status": response.status_code,
        "duration_ms": round((time.monotonic() - started) * 1000) if started is not None else None,
        "user_id": _user_id(),
        "request_id": request_id,
    })
    return response


def _user_id() -> int | None:
    """The signed-in person, or the API token's person; None for anonymous requests."""
    api_user = g.get("api_user")
    if api_user is not None:
        return _id_without_loading(api_user)
    try:
        return _id_without_loading(current_user._get_current_object()) if current_user.is_authenticated else None
    except SQLAlchemyError:  # the user could not be loaded (the database is down): still write the line
        return None


def _id_without_loading(user) -> int | None:
    """The person's id from the session's identity map: the view's commit has expired the
    object, and reading `user.id` would load the person (and their roles) again in a new
    transaction just to write this line."""
    identity = inspect(user).identity
    return identity[0] if identity else None
