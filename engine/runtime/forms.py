"""Server-side checking of form answers against the form's JSON Schema.

Errors come back keyed by the dotted path of the field (`areas.child_voice.grade`,
`actions.0.due_on`) with a message written for the person filling in the form.
"""
from jsonschema import Draft202012Validator, FormatChecker

_FORMAT_CHECKER = FormatChecker()


def validate_answers(schema: dict, answers: dict) -> dict[str, str]:
    """Every problem with `answers`, first message per field; empty when valid."""
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(answers), key=lambda e: list(map(str, e.path))):
        path, message = _describe(error, schema)
        errors.setdefault(path, message)
    return errors


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
    """The sub-schema for a field path (array indexes step into `items`)."""
    node = schema
    for part in path:
        if node.get("type") == "array":
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
    return node
