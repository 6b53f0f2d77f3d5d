"""Dates a person enters about a child's case in the case file audit: when the audit meeting
and the reflective discussion took place, when feedback was given, and the dates of the
records cited as evidence (the latest assessment, the last chronology entry, the last
supervision). Each happened on a real day: not in the future, and not before the case was
opened (`Case.opened_on`). The form that asked for them names them (`"format": "date"`), so
a date added to a form in a new version is checked without a change here.

Dates that plan ahead (an action's due date, a new timeframe, when progress will be
reviewed) are not recorded facts and are left to the forms. Supervision reviews and
tracker completion dates are checked against the day the action was agreed, which is
after the case was opened (engine/qa/operations.py, engine/qa/actions_tracker.py).
"""
from datetime import date

from engine.clock import clock
from engine.qa.models import Audit
from engine.runtime.errors import InvalidFormData
from engine.runtime.forms import child_schemas
from engine.runtime.models import ProcessInstance, ProcessVersion
from engine.runtime.registry import built_model_for
from engine.runtime.services import ServiceContext

PLANNED_DATE_FIELDS = frozenset({"due_on", "revised_due_on", "review_date"})


def refuse_dates_outside_the_case(context: ServiceContext, audit: Audit, data: dict, form_key: str) -> None:
    """Refuse (InvalidFormData, a message against each field) any date the form `form_key`
    asked for that is in the future or before the case was opened. The refusal rolls the
    form back: nothing it answered is kept."""
    errors = {}
    for path, value, field in _date_answers(_form_schema(context, form_key), data, []):
        if path[-1] in PLANNED_DATE_FIELDS:
            continue
        problem = date_problem(_parsed(value), audit.case.opened_on, field.get("title", "The date"))
        if problem:
            errors[".".join(path)] = problem
    if errors:
        raise InvalidFormData(errors)


def date_problem(day: date | None, opened_on: date, title: str) -> str | None:
    """Why `day` cannot be a date recorded about a case opened on `opened_on`, or None."""
    if day is None:
        return None
    label = f"The {title[0].lower()}{title[1:]}" if title.startswith("Date") else title
    if day > clock.today():
        return f"{label} cannot be in the future"
    if day < opened_on:
        return f"{label} cannot be before the case was opened ({opened_on.strftime('%-d %B %Y')})"
    return None


def _form_schema(context: ServiceContext, form_key: str) -> dict:
    instance = context.session.get(ProcessInstance, context.instance_id)
    model = built_model_for(context.session.get(ProcessVersion, instance.process_version_id))
    return model.forms.get(form_key, {})


def _date_answers(node: dict, value, path: list[str]):
    """Every (path, string, field) in the answers that the form's schema `node` asks for as a
    date, array indexes as path parts as the form errors spell them. Only the form's own fields
    are walked: the task data also holds everything the process gathered before."""
    if isinstance(value, (dict, list)):
        child = child_schemas(node)
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            field = child(str(key))
            if field:
                yield from _date_answers(field, item, [*path, str(key)])
    elif isinstance(value, str) and path and node.get("format") == "date":
        yield path, value, node


def _parsed(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None  # the form's own check says it is not a real date
