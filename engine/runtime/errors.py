"""Errors the runtime raises for people: each carries a message fit to show them."""


class WorkflowError(Exception):
    """Base class: `str(error)` is a sentence a user can act on."""


class FieldRefusal(WorkflowError):
    """A change refused as asked; `field` names the answer to fix ('' for none).

    `by_field` holds every problem found at once (field to message), so a form can show
    each beside its field; the error's own message is the first of them."""

    def __init__(self, field: str, message: str, by_field: dict[str, str] | None = None):
        super().__init__(message)
        self.field = field
        self.by_field = by_field or {field: message}


class TaskNotFound(WorkflowError):
    pass


class NotAllowed(WorkflowError):
    pass


class TaskNotOpen(WorkflowError):
    """The task was completed, cancelled or is not yet reached."""


class InvalidFormData(WorkflowError):
    """Form answers that fail the form's schema; `errors` maps field path to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("There is a problem with your answers")
        self.errors = errors


class ConcurrentUpdate(WorkflowError):
    """Someone else changed the instance between our read and our write."""


class ProcessFailure(WorkflowError):
    """A script, expression or service operation in the model failed; nothing was changed."""
