"""How large a request may be: one limit for the whole app, a larger one for file uploads.

Flask refuses a body past `MAX_CONTENT_LENGTH` from its Content-Length header (or, when
it is sent in chunks, as soon as it grows past it) before anything reads it, so a 50 MB
post costs the server nothing. Views that take a file are marked with `accepts_upload`;
for them, and for people signed in only, the limit is raised to `MAX_UPLOAD_LENGTH`
before any other hook (CSRF protection reads the form) looks at the body. Either refusal is a 413: a page in the
service's error style, or JSON under the API (webapp.api.errors).
"""
from collections.abc import Callable

from flask import Flask, abort, current_app, render_template, request
from flask_login import current_user

UPLOAD_ADVICE = "upload_advice"


def accepts_upload(advice: str = "") -> Callable:
    """Mark a view as taking a file: its requests may be as large as MAX_UPLOAD_LENGTH.

    `advice` is added to the "too large" page, e.g. how to import a larger file another way."""
    def mark(view: Callable) -> Callable:
        setattr(view, UPLOAD_ADVICE, advice)
        return view
    return mark


def register(app: Flask) -> None:
    """Raise the limit for upload views ahead of every other hook, and answer 413 with a page."""
    app.before_request_funcs.setdefault(None, []).insert(0, _check_declared_length)
    app.register_error_handler(413, _too_large_page)


def _upload_view() -> Callable | None:
    """The view being asked, if it takes uploads and the person may send one (is signed in)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return view if hasattr(view, UPLOAD_ADVICE) and current_user.is_authenticated else None


def _check_declared_length() -> None:
    """Set the request's limit, and refuse a declared length past it even if no view would read the body."""
    if _upload_view() is not None:
        request.max_content_length = current_app.config["MAX_UPLOAD_LENGTH"]
    if (request.content_length or 0) > (request.max_content_length or float("inf")):
        abort(413)


def _too_large_page(error):
    view = _upload_view()
    if view is not None:
        limit = _megabytes(current_app.config["MAX_UPLOAD_LENGTH"])
        advice = f"Files up to {limit} can be uploaded here. Nothing was changed. {getattr(view, UPLOAD_ADVICE)}"
        title = "The file is too large"
    else:
        limit = _megabytes(current_app.config["MAX_CONTENT_LENGTH"])
        advice = f"Up to {limit} can be sent at once. Nothing was changed: go back and try again."
        title = "What was sent is too large"
    return render_template("error.html", title=title, advice=advice.strip()), 413


def _megabytes(size: int) -> str:
    return f"{round(size / (1024 * 1024), 1):g} MB"
