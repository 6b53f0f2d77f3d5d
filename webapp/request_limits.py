"""How large a request may be: one limit for the whole app, a larger one for file uploads.

Flask refuses a body past `MAX_CONTENT_LENGTH` from its Content-Length header (or, when
it is sent in chunks, as soon as it grows past it) before anything reads it, so a 50 MB
post costs the server nothing. Views that take a file are marked with `accepts_upload`;
for them the limit is raised to `MAX_UPLOAD_LENGTH` before any other hook (CSRF
protection reads the form) looks at the body. Either refusal is a 413: a page in the
service's error style, or JSON under the API (webapp.api.errors).
"""
from collections.abc import Callable

from flask import Flask, current_app, render_template, request

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
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_limit_for_uploads)
    app.register_error_handler(413, _too_large_page)


def _upload_view() -> Callable | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return view if view is not None and hasattr(view, UPLOAD_ADVICE) else None


def _raise_limit_for_uploads() -> None:
    if _upload_view() is not None:
        request.max_content_length = current_app.config["MAX_UPLOAD_LENGTH"]


def _too_large_page(error):
    view = _upload_view()
    if view is not None:
        megabytes = current_app.config["MAX_UPLOAD_LENGTH"] // (1024 * 1024)
        advice = f"Files up to {megabytes} MB can be uploaded here. Nothing was changed. {getattr(view, UPLOAD_ADVICE)}"
        title = "The file is too large"
    else:
        megabytes = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        advice = f"Requests up to {megabytes} MB are accepted. Nothing was changed: go back and try again."
        title = "What was sent is too large"
    return render_template("error.html", title=title, advice=advice.strip()), 413
