"""Running one engine change from a page: commit it, or roll back and say what was refused.

Every form page that calls the engine does the same: on success commit (and flash what
was done); on a refusal roll back, so nothing is half-applied, and hand the message back
keyed by the field it is about ('' for none), to show beside that field.
"""
from flask import flash

from engine.runtime.errors import FieldRefusal, InvalidFormData, WorkflowError
from webapp.extensions import db


def perform(operation, done: str | None) -> dict[str, str]:
    """Run `operation` and commit, flashing `done`; or roll back and return what was refused, by field."""
    try:
        operation()
        db.session.commit()
    except WorkflowError as refused:
        db.session.rollback()
        return errors_of(refused)
    if done:
        flash(done, "success")
    return {}


def errors_of(refused: WorkflowError) -> dict[str, str]:
    """A refusal's messages keyed by field: a form's own errors, or the one field it names."""
    if isinstance(refused, InvalidFormData):
        return dict(refused.errors)
    if isinstance(refused, FieldRefusal):
        return dict(refused.by_field)
    return {getattr(refused, "field", ""): str(refused)}
