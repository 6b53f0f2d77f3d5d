"""Task forms on the web: from a form's JSON Schema to GOV.UK fields, and back from a post.

A user task names a JSON Schema (draft 2020-12) and a UI schema in `forms/`. The
schema says what an answer is (its type, whether it is required, its choices); the
UI schema says how to ask (`ui:order`, `ui:widget`: radio, select or textarea).
`describe_form` turns both, with the answers given so far and any errors, into a
list of `Field`s the `_form_macros.html` templates render with GOV.UK markup.
`parse_submission` turns the posted HTML form back into answers typed the way the
schema wants them, so the engine validates exactly what the person meant.

This module is pure (no Flask): the web views, tests and benchmarks all use it.

How a form is posted
--------------------
Every answer is posted under its dotted path in the answers (the same path
`engine.runtime.forms.validate_answers` uses for its error messages):

- text, textarea and choices (radios or select): ``<path>=<value>``, e.g.
  ``overall_grade=good``, ``child_voice.grade=requires_improvement``.
- whole numbers: ``<path>=<digits>``, e.g.
  ``management_oversight.social_workers_in_12_months=2``.
- yes/no questions (``type: boolean``): ``<path>=yes`` or ``<path>=no``. A
  confirmation (``type: boolean, const: true``) is one checkbox that posts
  ``<path>=yes`` when ticked.
- dates (``format: date``): three fields, as the GOV.UK date input names them:
  ``<path>-day``, ``<path>-month``, ``<path>-year``; ``meeting_date-day=3``,
  ``meeting_date-month=12``, ``meeting_date-year=2026`` becomes ``"2026-12-03"``.
- lists of objects (``type: array`` of objects), one group per row numbered from
  0: ``actions.0.action``, ``actions.0.area``, ``actions.0.due_on-day`` ...,
  ``actions.1.action`` ... Rows are taken in number order.
- A blank value is the same as not posting the field: the answer is left out, so
  the schema's ``required`` reports it. Objects are always present (possibly
  empty) so that their own required fields are reported one by one.
- The button pressed is posted as ``action``: ``save`` (keep a draft),
  ``complete``, ``add_row:<array path>`` (e.g. ``add_row:actions``),
  ``remove_row:<array path>:<row>`` (e.g. ``remove_row:actions:1``), ``claim``,
  ``release``.
- Every POST also carries ``csrf_token``.

On ``complete``, rows left entirely blank are dropped (`drop_blank_rows`); a
draft keeps them, so a row just added stays on the page until it is removed.

Conditions (engine/runtime/forms.py, "Form conditions"): a read-only property is shown
as text with the task data's value and never read from a post; a property declared in
an ``if``/``then``/``else`` branch is rendered, and read from a post, only while its
branch applies to the answers with the task data (`context`), so the page a person
gets without JavaScript asks exactly the questions that apply.
"""
import copy
import re
from dataclasses import dataclass, field as dataclass_field
from typing import Mapping

from engine.runtime.forms import all_properties, applicable_schema, field_schema, with_context

BOOLEAN_OPTIONS = (("yes", "Yes"), ("no", "No"))
BOOLEAN_VALUES = {"yes": True, "no": False}
DATE_PARTS = ("day", "month", "year")
INLINE_MAX_OPTIONS = 4
INLINE_MAX_LABEL = 10
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")


class UnsupportedField(ValueError):
    """A schema construct the web form cannot ask for; names the field so a
    process owner can fix the form rather than meet a broken page."""


@dataclass
class Option:
    value: str
    label: str


@dataclass
class Field:
    """One question (or group of questions) as a template renders it.

    `kind` is one of: text, textarea, integer, date, radios, select, boolean,
    confirm, object, array, read_only (the task data's value, shown as text). `name` is the POST name (the dotted path) and `id`
    the HTML id; `anchor` is the id the error summary links to.
    """
    kind: str
    name: str
    id: str
    label: str
    hint: str | None = None
    optional: bool = False
    value: object = ""
    error: str | None = None
    options: list[Option] = dataclass_field(default_factory=list)
    inline: bool = False
    children: list["Field"] = dataclass_field(default_factory=list)
    rows: list["Row"] = dataclass_field(default_factory=list)
    add_label: str = ""
    add_command: str = ""
    can_add: bool = False

    @property
    def anchor(self) -> str:
        return f"{self.id}-day" if self.kind == "date" else self.id


@dataclass
class Row:
    """One row of a repeating group, with the command that removes it."""
    index: int
    label: str
    fields: list[Field]
    remove_command: str


@dataclass
class ErrorLink:
    href: str
    message: str


@dataclass
class RenderedForm:
    """What the task template needs: the fields and the error summary, in page order."""
    title: str
    fields: list[Field]
    errors: list[ErrorLink]


def describe_form(schema: dict, ui_schema: dict | None, answers: dict | None,
                  errors: Mapping[str, str] | None = None, form_id: str = "answers",
                  context: dict | None = None) -> RenderedForm:
    """Describe every field of a form that applies, filled in with `answers` and marked with `errors`.

    `context` is the task data the form's read-only values and conditions read. Errors
    that match no field (a whole-form problem) still reach the summary, linked to the
    form itself, so nothing the engine says is hidden.
    """
    errors = dict(errors or {})
    fields = _object_fields(schema, ui_schema or {}, with_context(schema, answers or {}, context), errors, "")
    placed = list(_error_links(fields, ""))
    used = {item.name for item in walk(fields) if item.error}
    unplaced = [ErrorLink(f"#{form_id}", message) for path, message in errors.items() if path not in used]
    return RenderedForm(schema.get("title", ""), fields, unplaced + placed)


def walk(fields: list[Field]):
    """Every field, depth first in page order, including those inside groups and rows."""
    for item in fields:
        yield item
        yield from walk(item.children)
        for row in item.rows:
            yield from walk(row.fields)


def parse_submission(schema: dict, form: Mapping[str, str], context: dict | None = None) -> dict:
    """The answers a posted form gives, typed per the schema (see the module docstring).

    Values that cannot be typed (letters in a number, a non-date) are kept as
    the text typed, so validation reports them and the page shows them again.
    Fields of a condition that does not apply (with `context`, the task data) are not read.
    """
    return _parse_object(schema, form, "", with_context(schema, {}, context))


def as_posted_form(schema: dict, answers: dict) -> dict[str, str]:
    """The fields a browser posts for `answers`: the inverse of `parse_submission`.

    Benchmarks and tests post exactly what a person filling in the page would,
    without scraping the page for field names.
    """
    fields: dict[str, str] = {}
    _encode(schema, answers, "", fields)
    return fields


def read_date(form: Mapping[str, str], name: str) -> str | None:
    """The ISO date posted in a GOV.UK date input, None when all three parts are blank.

    A partial or impossible date comes back as the text typed (e.g. "2026-02-31"),
    which fails the schema's date format and re-renders into the same boxes.
    """
    day, month, year = (str(form.get(f"{name}-{part}", "")).strip() for part in DATE_PARTS)
    if not (day or month or year):
        return None
    return f"{year}-{_two_digits(month)}-{_two_digits(day)}"


def drop_blank_rows(answers):
    """The answers without rows nobody filled in, which a person adding rows leaves behind."""
    if isinstance(answers, dict):
        return {key: drop_blank_rows(value) for key, value in answers.items()}
    if isinstance(answers, list):
        return [drop_blank_rows(row) for row in answers if not _blank(row)]
    return answers


def apply_row_command(schema: dict, answers: dict, command: str) -> dict:
    """Apply `add_row:<path>` or `remove_row:<path>:<row>` to a copy of `answers`.

    This is how the 'Add another' and 'Remove' buttons work without JavaScript:
    the page is posted, the rows change, the draft is saved and the page shown
    again. Raises ValueError for a command that names no list or row.
    """
    verb, _, rest = command.partition(":")
    if verb == "add_row":
        path, index = rest, None
    elif verb == "remove_row":
        path, _, position = rest.rpartition(":")
        if not _WHOLE_NUMBER.fullmatch(position):
            raise ValueError(f"Not a row number: '{position}'")
        index = int(position)
    else:
        raise ValueError(f"Unknown form command '{command}'")
    node = field_schema(schema, path.split("."))
    if node.get("type") != "array" or node.get("items", {}).get("type") != "object":
        raise ValueError(f"'{path}' is not a list in this form")
    result = copy.deepcopy(answers)
    rows = _rows_at(result, path)
    if index is None:
        if node.get("maxItems") is None or len(rows) < node["maxItems"]:
            rows.append({})
    elif 0 <= index < len(rows):
        del rows[index]
    else:
        raise ValueError(f"There is no row {index} in '{path}'")
    return result


# --- describing -----------------------------------------------------------------

def _object_fields(node: dict, ui: dict, answers: dict, errors: dict, prefix: str) -> list[Field]:
    answers = answers if isinstance(answers, dict) else {}
    applicable = applicable_schema(node, answers)
    properties = applicable["properties"]
    required = set(applicable["required"])
    conditional = _conditionally_required(node)
    fields = []
    for key in _ordered(properties, ui.get("ui:order", [])):
        name = _join(prefix, key)
        fields.append(_describe(properties[key], ui.get(key, {}), answers.get(key), errors, name,
                                optional=key not in required and key not in conditional))
    return fields


def _error_links(fields: list[Field], row_label: str):
    """Summary links in page order; a field in a row says which row ('Action 2: ...')."""
    for item in fields:
        if item.error:
            yield ErrorLink(f"#{item.anchor}", f"{row_label}: {item.error}" if row_label else item.error)
        yield from _error_links(item.children, row_label)
        for row in item.rows:
            yield from _error_links(row.fields, row.label)


def _describe(node: dict, ui: dict, value, errors: dict, name: str, optional: bool) -> Field:
    kind = _kind(node, ui, name)
    item = Field(kind=kind, name=name, id=_html_id(name), label=node.get("title") or _humanise(name),
                 hint=node.get("description"), optional=optional and kind not in ("object", "array", "confirm", "read_only"),
                 error=errors.get(name))
    if kind == "object":
        item.children = _object_fields(node, ui, value, errors, name)
    elif kind == "read_only":
        labels = dict(zip(node.get("enum", ()), node.get("enumNames", node.get("enum", ()))))
        item.value = "Not recorded" if value is None else str(labels.get(value, value))
    elif kind == "array":
        _describe_rows(item, node, ui.get("items", {}), value, errors)
    elif kind == "date":
        item.value = _date_parts(value)
    elif kind in ("boolean", "confirm"):
        item.value = _boolean_text(value)
        item.options = [Option(v, label) for v, label in BOOLEAN_OPTIONS]
        item.inline = True
    else:
        item.value = "" if value is None else str(value)
    if kind in ("radios", "select"):
        labels = node.get("enumNames") or [_humanise(str(v)) for v in node["enum"]]
        item.options = [Option(str(v), label) for v, label in zip(node["enum"], labels)]
        item.inline = kind == "radios" and len(item.options) <= INLINE_MAX_OPTIONS and \
            all(len(option.label) <= INLINE_MAX_LABEL for option in item.options)
    return item


def _describe_rows(item: Field, node: dict, item_ui: dict, value, errors: dict) -> None:
    """Rows as answered; a form nobody has answered yet starts with one empty row."""
    rows = value if isinstance(value, list) else [{}]
    item_schema = node.get("items", {})
    item_label = item_schema.get("title") or "Item"
    noun = item_label.lower()
    item.rows = [Row(index=index, label=f"{item_label} {index + 1}",
                     fields=_object_fields(item_schema, item_ui, row, errors, f"{item.name}.{index}"),
                     remove_command=f"remove_row:{item.name}:{index}")
                 for index, row in enumerate(rows)]
    item.add_label = f"Add another {noun}" if rows else f"Add {'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
    item.add_command = f"add_row:{item.name}"
    item.can_add = node.get("maxItems") is None or len(rows) < node["maxItems"]


def _kind(node: dict, ui: dict, name: str) -> str:
    kind = node.get("type")
    if node.get("readOnly"):
        return "read_only"
    if kind == "object":
        return "object"
    if kind == "array":
        if node.get("items", {}).get("type") == "object":
            return "array"
        raise UnsupportedField(f"'{name}': only lists of objects can be asked for on a web form")
    if kind == "boolean":
        return "confirm" if node.get("const") is True else "boolean"
    if "enum" in node:
        return "select" if ui.get("ui:widget") == "select" else "radios"
    if kind == "integer":
        return "integer"
    if kind == "string":
        if node.get("format") == "date":
            return "date"
        return "textarea" if ui.get("ui:widget") == "textarea" else "text"
    raise UnsupportedField(f"'{name}': a field of type '{kind}' cannot be asked for on a web form")


def _conditionally_required(node: dict) -> set[str]:
    """Fields an if/then makes required: they are not marked '(optional)'."""
    clauses = [node, *node.get("allOf", [])]
    return {key for clause in clauses for key in clause.get("then", {}).get("required", [])}


def _ordered(properties: dict, order: list[str]) -> list[str]:
    first = [key for key in order if key in properties]
    return first + [key for key in properties if key not in first]


def _boolean_text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _date_parts(value) -> dict:
    if not value:
        return {part: "" for part in DATE_PARTS}
    parts = str(value).split("-", 2)
    year, month, day = (parts + ["", ""])[:3]
    return {"day": _drop_leading_zero(day), "month": _drop_leading_zero(month), "year": year}


# --- parsing --------------------------------------------------------------------

def _parse_object(node: dict, form: Mapping[str, str], prefix: str, context: dict | None = None) -> dict:
    answers = {}
    for key, child in all_properties(node).items():
        if child.get("readOnly"):
            continue
        value = _parse_value(child, form, _join(prefix, key))
        if value is not None:
            answers[key] = value
    applicable = applicable_schema(node, {**answers, **(context or {})})["properties"]
    return {key: value for key, value in answers.items() if key in applicable}


def _parse_value(node: dict, form: Mapping[str, str], name: str):
    kind = _kind(node, {}, name)
    if kind == "object":
        return _parse_object(node, form, name)
    if kind == "array":
        pattern = re.compile(re.escape(name) + r"\.(\d+)\.")
        numbers = sorted({int(match.group(1)) for key in form.keys() if (match := pattern.match(key))})
        return [_parse_object(node["items"], form, f"{name}.{number}") for number in numbers]
    if kind == "date":
        return read_date(form, name)
    raw = str(form.get(name, "")).replace("\r\n", "\n").strip()
    if raw == "":
        return None
    if node.get("type") == "boolean":
        return BOOLEAN_VALUES.get(raw, raw)
    if node.get("type") == "integer":
        return int(raw) if _WHOLE_NUMBER.fullmatch(raw) else raw
    return raw


def _encode(node: dict, value, name: str, fields: dict[str, str]) -> None:
    kind = _kind(node, {}, name)
    if kind == "object":
        for key, child in all_properties(node).items():
            if isinstance(value, dict) and key in value:
                _encode(child, value[key], _join(name, key), fields)
    elif kind == "read_only":
        return
    elif kind == "array":
        for number, row in enumerate(value):
            _encode(node["items"], row, f"{name}.{number}", fields)
    elif kind == "date":
        fields.update({f"{name}-{part}": text for part, text in _date_parts(value).items()})
    elif kind in ("boolean", "confirm"):
        fields[name] = _boolean_text(value)
    else:
        fields[name] = str(value)


def _blank(value) -> bool:
    if isinstance(value, dict):
        return all(_blank(item) for item in value.values())
    if isinstance(value, list):
        return not value
    return value is None


def _rows_at(answers: dict, path: str) -> list:
    """The list at `path` in `answers`, created when the form has none yet."""
    *parents, last = path.split(".")
    container = answers
    for part in parents:
        if isinstance(container, list):
            if not _WHOLE_NUMBER.fullmatch(part) or not 0 <= int(part) < len(container):
                raise ValueError(f"There is no row {part} in '{path}'")
            container = container[int(part)]
        else:
            container = container.setdefault(part, {})
    rows = container.setdefault(last, [])
    if not isinstance(rows, list):
        raise ValueError(f"'{path}' is not a list in these answers")
    return rows


# --- small helpers --------------------------------------------------------------

def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _html_id(name: str) -> str:
    return name.replace(".", "-")


def _humanise(name: str) -> str:
    text = name.rsplit(".", 1)[-1].replace("_", " ")
    return text[:1].upper() + text[1:]


def _two_digits(part: str) -> str:
    return part.zfill(2) if part.isdigit() and len(part) == 1 else part


def _drop_leading_zero(part: str) -> str:
    return str(int(part)) if part.isdigit() else part
