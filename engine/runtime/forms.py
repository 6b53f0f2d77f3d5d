"""Server-side checking of form answers against the form's JSON Schema, and the form
conditions every process model can use.

Errors come back keyed by the dotted path of the field (`areas.child_voice.grade`,
`actions.0.due_on`) with a message written for the person filling in the form.

Form conditions
---------------
A form asks some questions only when they apply, in plain JSON Schema:

- A top-level property marked `"readOnly": true` is not answered by the person: its value
  is the task data's value under the same key (e.g. the case's `cohort`, put into the
  process data when the process started). Whatever is posted for it is ignored.
- Properties declared only inside an `if`/`then`/`else` (on an object, or in its `allOf`)
  exist only while their branch applies: `{"if": {"properties": {"cohort": {"const":
  "child_in_care"}}, "required": ["cohort"]}, "then": {"properties": {"children_in_care":
  {...}}, "required": ["children_in_care"]}}`. The `if` is tested against the answers at
  that level, with the task data's read-only values at the top.

The web form renders only the properties that apply (webapp/form_rendering.py); the
validator requires a branch's `required` only while it applies (JSON Schema does that
itself); `applicable_answers` leaves out what was sent for a read-only property or for a
branch that does not apply, so a task never stores an answer to a question it did not ask.
"""
from typing import Callable

from jsonschema import Draft202012Validator, FormatChecker

_FORMAT_CHECKER = FormatChecker()
_BRANCHES = ("then", "else")


def validate_answers(schema: dict, answers: dict, context: dict | None = None) -> dict[str, str]:
    """Every problem with `answers`, first message per field; empty when valid.

    `context` is the task data the form's read-only values and conditions read."""
    document = with_context(schema, answers, context)
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        path, message = _describe(error, schema)
        errors.setdefault(path, message)
    return errors


def applicable_answers(schema: dict, answers: dict, context: dict | None = None) -> dict:
    """`answers` without anything sent for a read-only property or for a conditional
    property whose branch does not apply (conditions tested with the task data `context`)."""
    given = without_read_only(schema, answers if isinstance(answers, dict) else {})
    return _keep_applicable(schema, given, with_context(schema, given, context))


def read_only_keys(schema: dict) -> set[str]:
    """The top-level properties the task data gives, never the person."""
    return {key for key, node in schema.get("properties", {}).items() if node.get("readOnly")}


def without_read_only(schema: dict, answers: dict) -> dict:
    """The answers a person gave, without anything posted for a read-only property."""
    hidden = read_only_keys(schema)
    return {key: value for key, value in answers.items() if key not in hidden}


def with_context(schema: dict, answers: dict, context: dict | None) -> dict:
    """The answers with the read-only values from the task data, as conditions see them."""
    document = without_read_only(schema, answers if isinstance(answers, dict) else {})
    for key in read_only_keys(schema):
        if context and context.get(key) is not None:
            document[key] = context[key]
    return document


def all_properties(node: dict) -> dict:
    """Every property an object may have: its own and those of every conditional branch."""
    properties = dict(node.get("properties", {}))
    for clause in _conditions(node):
        for branch in _BRANCHES:
            _add_new(properties, clause.get(branch, {}).get("properties", {}))
    return properties


def applicable_schema(node: dict, data: dict) -> dict:
    """`node` with the properties and `required` of the branches whose condition holds for
    `data` (and without those of the branches that do not)."""
    properties, required = dict(node.get("properties", {})), list(node.get("required", []))
    for clause in _conditions(node):
        holds = Draft202012Validator(clause["if"], format_checker=_FORMAT_CHECKER).is_valid(data)
        branch = clause.get("then" if holds else "else", {})
        _add_new(properties, branch.get("properties", {}))
        required += [key for key in branch.get("required", []) if key not in required]
    return {**node, "properties": properties, "required": required}


def _add_new(properties: dict, branch_properties: dict) -> None:
    """A branch's properties the object does not declare itself: those it does declare are
    only refined by the branch (a `minLength` while some answer is given), not replaced."""
    for key, node in branch_properties.items():
        properties.setdefault(key, node)


def _conditions(node: dict) -> list[dict]:
    return [clause for clause in (node, *node.get("allOf", [])) if isinstance(clause.get("if"), dict)]


def _keep_applicable(node: dict, value, condition_data=None):
    """`value` with the answers to conditional properties whose branch does not apply left out,
    at every level of objects and lists of objects."""
    if isinstance(value, list):
        return [_keep_applicable(node.get("items", {}), row) for row in value]
    if not isinstance(value, dict) or node.get("type") != "object":
        return value
    applicable = applicable_schema(node, value if condition_data is None else condition_data)["properties"]
    return {key: _keep_applicable(applicable[key], item) if key in applicable else item
            for key, item in value.items() if key in applicable or key not in all_properties(node)}


def _describe(error, schema) -> tuple[str, str]:
    path = [str(part) for part in error.path]
    if error.validator == "required":
        missing = error.message.split("'")[1]
        path.append(missing)
        field = field_schema(schema, path)
        return ".".join(path), _ask_for(field, missing)
    field = field_schema(schema, path)
    title = field.get("title", path[-1] if path else "this answer")
    if error.validator == "const" and field.get("type") == "boolean":
        return ".".join(path), f"Confirm: {title}"
    if error.validator in ("enum", "type") and "enum" in field:
        return ".".join(path), f"Select an answer for: {title}"
    if error.validator == "minLength":
        return ".".join(path), _ask_for(field, path[-1])
    if error.validator == "format" and field.get("format") == "date":
        return ".".join(path), f"{title} must be a real date"
    if error.validator in ("minimum", "maximum"):
        return ".".join(path), f"{title} must be between {field.get('minimum', 0)} and {field.get('maximum', 'its limit')}"
    if error.validator == "pattern":
        return ".".join(path), f"{title}: {field.get('description') or 'check the format'}"
    if error.validator == "maxLength":
        return ".".join(path), f"{title} must be {field.get('maxLength')} characters or fewer"
    if error.validator == "minItems":
        return ".".join(path), f"{title}: add at least {field.get('minItems', 1)}"
    if error.validator == "maxItems":
        return ".".join(path), f"{title}: no more than {field.get('maxItems')}"
    if error.validator == "type" and field.get("type") in ("integer", "number"):
        return ".".join(path), f"{title} must be a whole number"
    if error.validator == "type" and field.get("type") == "boolean":
        return ".".join(path), f"Select yes or no for: {title}"
    return ".".join(path), f"{title}: {error.message}"


def _ask_for(field: dict, key: str) -> str:
    title = field.get("title", key.replace("_", " "))
    if "enum" in field or field.get("type") == "boolean":
        return f"Select an answer for: {title}"
    if field.get("format") == "date":
        return f"Enter a date for: {title}"
    return f"Enter {title[0].lower() + title[1:]}" if title else "Enter an answer"


def field_schema(schema: dict, path: list[str]) -> dict:
    """The sub-schema for a field path (array indexes step into `items`; conditional
    properties are found in their branch)."""
    node = schema
    for part in path:
        node = child_schema(node, part)
    return node


def child_schema(node: dict, key: str) -> dict:
    """The sub-schema one step below `node`: an array's items (whatever the index), or an
    object's property `key`, its own or a conditional branch's; {} for a field it does not have."""
    return child_schemas(node)(key)


def child_schemas(node: dict) -> Callable[[str], dict]:
    """`child_schema` of `node` for any key, its properties gathered once: for walking every key
    of an answer (gathering them costs a copy of the node's properties and branches)."""
    if node.get("type") == "array":
        items = node.get("items", {})
        return lambda _index: items
    properties = all_properties(node)
    return lambda key: properties.get(key, {})
