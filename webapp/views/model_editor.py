"""Editing a draft in the browser: the bpmn-js modeler, the form editor with its preview,
and the sandbox. Process owners only.

The modeler loads the draft as JSON and saves the diagram (with the lanes' roles and
person keys) back as JSON under the draft's revision; the reply carries the validation
problems, each with its element id, for the modeler to show at the element. The form
editor and the sandbox are ordinary pages that work without JavaScript; with it, the
form preview updates as the schema is typed.
"""
import json

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.accounts import ROLES
from engine.runtime import model_catalogue
from engine.runtime.diagram_layout import add_layout
from engine.runtime.errors import WorkflowError
from engine.runtime.model_drafts import DraftConflict, DraftError, draft_for, edit_manifest, save_draft
from engine.runtime.model_validation import validate_model
from engine.runtime.registry import MANIFEST_NAME, form_with_choices, may_publish, user_task_properties
from engine.runtime.sandbox import SandboxRefused, Scenario, delete_scenario, run, save_scenario
from engine.runtime.services import OPERATIONS
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.views.models import posted_revision
from webapp.security_headers import allows_inline_style_attributes
from webapp.form_rendering import UnsupportedField, describe_form, parse_submission

blueprint = Blueprint("model_editor", __name__)


@blueprint.before_request
@login_required
def _only_process_owners():
    if not may_publish(current_user):
        abort(403)


@blueprint.route("/models/<key>/draft/modeler")
@allows_inline_style_attributes  # bpmn-js-properties-panel builds its containers with style attributes
def modeler(key: str):
    """The editor for one of the draft's BPMN files (the first unless `file` names another)."""
    draft = _draft(key)
    manifest = _manifest(draft.files)
    bpmn_file = request.args.get("file") or manifest["bpmn_files"][0]
    if bpmn_file not in manifest["bpmn_files"]:
        abort(404)
    return render_template("model_modeler.html", draft=draft, name=manifest.get("name", key), bpmn_file=bpmn_file,
                           bpmn_files=manifest["bpmn_files"], forms=_form_names(draft.files),
                           start_data=json.dumps(manifest.get("start_data")) if "start_data" in manifest else "",
                           problems=validate_model(draft.files).problems)


@blueprint.route("/models/<key>/draft/content")
def content(key: str):
    """The draft as the modeler needs it: one BPMN file, the lane map, the choices it offers."""
    draft = _draft(key)
    manifest = _manifest(draft.files)
    bpmn_file = request.args.get("file") or manifest["bpmn_files"][0]
    if bpmn_file not in manifest["bpmn_files"]:
        abort(404)
    xml = add_layout(draft.files[bpmn_file].encode()).decode()  # a model without a diagram gets one to edit
    return jsonify(revision=draft.revision, file=bpmn_file, files=manifest["bpmn_files"], xml=xml,
                   lanes=manifest.get("lanes", {}), forms=_form_names(draft.files),
                   ui_forms=sorted(p[len("forms/"):] for p in draft.files if p.endswith("-uischema.json")),
                   operations=sorted(OPERATIONS),
                   roles=ROLES, problems=_problems(draft.files))


@blueprint.route("/models/<key>/draft/diagram", methods=["POST"])
def save_diagram(key: str):
    """Save one BPMN file and the lane map from the modeler; a stale revision is refused (409)."""
    body = request.get_json(silent=True)
    if (not isinstance(body, dict) or not isinstance(body.get("xml"), str)
            or whole_number(str(body.get("revision")), minimum=1) is None):
        return jsonify(error="The editor sent something this page does not understand. Nothing was saved."), 400
    draft = _draft(key)
    manifest = _manifest(draft.files)
    if body.get("file") not in manifest["bpmn_files"]:
        return jsonify(error="That file is not part of this process. Nothing was saved."), 400
    try:
        changes = {body["file"]: body["xml"]}
        manifest_changes = {key: body[key] for key in ("lanes", "start_data") if key in body}
        if manifest_changes:
            changes[MANIFEST_NAME] = edit_manifest(draft.files, manifest_changes)
        draft, report = save_draft(db.session, key, current_user, body["revision"], changes)
        db.session.commit()
    except DraftConflict as conflict:
        db.session.rollback()
        return jsonify(error=str(conflict)), 409
    except DraftError as refused:
        db.session.rollback()
        return jsonify(error=str(refused)), 422
    return jsonify(revision=draft.revision, problems=[_problem(p) for p in report.problems])


@blueprint.route("/models/<key>/draft/forms/<name>", methods=["GET", "POST"])
def form(key: str, name: str):
    """Edit one form's JSON Schema and UI schema, with a preview rendered as tasks render it."""
    draft = _draft(key)
    schema_path, ui_path = f"forms/{name}-schema.json", f"forms/{name}-uischema.json"
    schema_text = request.form.get("schema", draft.files.get(schema_path, _NEW_FORM))
    ui_text = request.form.get("ui_schema", draft.files.get(ui_path, "{}"))
    error = None
    if request.method == "POST" and request.form.get("action") == "save":
        try:
            save_draft(db.session, key, current_user, posted_revision(), {schema_path: schema_text, ui_path: ui_text})
            db.session.commit()
            flash(f"{name}-schema.json saved in the draft.", "success")
            return redirect(url_for("model_editor.form", key=key, name=name))
        except DraftError as refused:
            db.session.rollback()
            error = str(refused)
    return render_template("model_form.html", draft=_draft(key), name=name, schema_text=schema_text,
                           ui_text=ui_text, error=error, preview=_preview(schema_text, ui_text, draft.files),
                           exists=schema_path in draft.files), 422 if error else 200


@blueprint.route("/models/<key>/draft/forms", methods=["POST"])
def new_form(key: str):
    name = request.form.get("name", "").strip().lower().replace(" ", "_").removesuffix("-schema.json")
    if not name or not name.replace("_", "").isalnum():
        flash("Name the form with letters, digits and underscores, for example home_visit.", "info")
        return redirect(url_for("model_editor.modeler", key=key))
    return redirect(url_for("model_editor.form", key=key, name=name))


@blueprint.route("/models/form-preview", methods=["POST"])
def form_preview():
    """The form as a task page would show it, for the editor's live preview; with `process`, its
    grade (and other model data) choices filled from that process's draft."""
    draft = draft_for(db.session, request.args["process"]) if request.args.get("process") else None
    return render_template("model_form_preview.html",
                           preview=_preview(request.form.get("schema", ""), request.form.get("ui_schema", "{}"),
                                            draft.files if draft else {}))


@blueprint.route("/models/<key>/draft/sandbox", methods=["GET", "POST"])
def sandbox(key: str):
    """Try the draft: start data, an answer at each step, simulated service results, the path.

    Each post carries the scenario so far; the run is replayed from the start every time."""
    draft = _draft(key)
    action = request.form.get("action", "")
    try:
        scenario = _scenario_from_request(draft, action)
    except ValueError as error:
        return _sandbox_page(draft, Scenario(), None, problems=[f"The scenario is not valid: {error}"], status=400)
    rejected = {}
    if action.startswith("answer:"):
        element_id = action[len("answer:"):]
        schema = _forms(draft.files).get(_user_task_forms(draft).get(element_id) or "", {})
        step = {"task": element_id, "answers": parse_submission(schema, request.form) if schema else {}}
        result = _try(draft, Scenario(scenario.start_data, [*scenario.steps, step], scenario.services))
        if result is not None and result.invalid_answers and result.error_element == element_id:
            rejected[element_id] = (step["answers"], result.invalid_answers)
        else:
            scenario.steps.append(step)
    elif action.startswith("timer:"):
        scenario.steps.append({"timer": action[len("timer:"):]})
    elif action == "undo" and scenario.steps:
        scenario.steps.pop()
    elif action == "restart":
        scenario.steps = []
    return _sandbox_page(draft, scenario, _try(draft, scenario), rejected=rejected)


@blueprint.route("/models/<key>/draft/scenarios", methods=["POST"])
def keep_scenario(key: str):
    draft = _draft(key)
    try:
        scenario = Scenario.from_dict(json.loads(request.form.get("scenario", "")))
        saved = save_scenario(db.session, key, request.form.get("name", ""), scenario, draft.files, current_user)
        db.session.commit()
    except (ValueError, WorkflowError) as refused:
        db.session.rollback()
        flash(f"The scenario was not saved: {refused}", "info")
        return redirect(url_for("model_editor.sandbox", key=key))
    flash(f"Scenario '{saved.name}' saved: every later draft must take the same path before it is published.",
          "success")
    return redirect(url_for("models.process", key=key))


@blueprint.route("/models/<key>/scenarios/<int:scenario_id>/delete", methods=["POST"])
def remove_scenario(key: str, scenario_id: int):
    try:
        delete_scenario(db.session, key, scenario_id, current_user)
        db.session.commit()
    except WorkflowError as refused:
        db.session.rollback()
        flash(str(refused), "info")
        return redirect(url_for("models.process", key=key))
    flash("Scenario deleted.", "success")
    return redirect(url_for("models.process", key=key))


_NEW_FORM = json.dumps({"title": "", "type": "object", "required": [], "properties": {}}, indent=2)


def _sandbox_page(draft, scenario, result, problems=(), rejected=None, status=200):
    forms = {}
    for waiting in (result.waiting if result else []):
        if waiting.kind == "task":
            answers, errors = (rejected or {}).get(waiting.element_id, ({}, {}))
            forms[waiting.element_id] = _task_form(draft, waiting.form_key, answers, errors)
    return render_template("model_sandbox.html", draft=draft, scenario=scenario, result=result, forms=forms,
                           services=_service_tasks(draft), problems=list(problems),
                           scenario_json=json.dumps(scenario.to_dict()),
                           saved=model_catalogue.scenarios(db.session, draft.process_key)), status


def _try(draft, scenario):
    try:
        return run(draft.files, scenario)
    except SandboxRefused as refused:
        flash(str(refused), "info")
        for problem in refused.problems:
            flash(problem, "info")
        return None


def _scenario_from_request(draft, action: str) -> Scenario:
    """The scenario the page posted, a saved one to load, or a new one; `apply` takes the
    start data and simulated service results as typed on the page."""
    if request.method == "GET":
        saved = next((s for s in model_catalogue.scenarios(db.session, draft.process_key)
                      if str(s.id) == request.args.get("scenario")), None)
        return Scenario.from_dict(saved.scenario) if saved else Scenario(start_data=_start_examples(draft))
    scenario = Scenario.from_dict(json.loads(request.form.get("scenario") or "{}"))
    if action == "apply":
        scenario.start_data = _json_object(request.form.get("start_data", ""), "the start data")
        scenario.services = {}
        for element_id in _service_tasks(draft):
            text = request.form.get(f"service:{element_id}", "").strip()
            if text:
                scenario.services[element_id] = json.loads(text)
    return scenario


def _task_form(draft, form_key, answers, errors):
    """The waiting task's form as the task page renders it, or why it cannot be shown."""
    forms = _forms(draft.files)
    schema = forms.get(form_key or "")
    if schema is None:
        return None
    try:
        return describe_form(schema, forms.get((form_key or "").replace("-schema.json", "-uischema.json"), {}),
                             answers, errors)
    except UnsupportedField as problem:
        return str(problem)


def _preview(schema_text: str, ui_text: str, files: dict) -> dict:
    """The form described as a task page shows it (choices from the model's data `files`
    filled in), or what stops it being shown."""
    try:
        schema, ui_schema = json.loads(schema_text), json.loads(ui_text or "{}")
    except json.JSONDecodeError as error:
        return {"error": f"Not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."}
    if not isinstance(schema, dict) or not isinstance(ui_schema, dict):
        return {"error": "The schema and the UI schema must each be a JSON object."}
    try:
        Draft202012Validator.check_schema(schema)
        return {"form": describe_form(form_with_choices(schema, files), ui_schema, {})}
    except SchemaError as error:
        return {"error": f"Not a valid JSON Schema: {error.message}"}
    except (UnsupportedField, AttributeError, TypeError, KeyError) as error:
        return {"error": f"This form cannot be shown on a web page: {error}"}


def _service_tasks(draft) -> dict[str, str]:
    """Service task id -> its operation, for the simulated results the sandbox asks for."""
    return {spec.bpmn_id: spec.operation_name for spec in _task_specs(draft)
            if getattr(spec, "operation_name", None)}


def _user_task_forms(draft) -> dict[str, str | None]:
    """User task id -> the form it asks."""
    return {spec.bpmn_id: user_task_properties(spec).get("formJsonSchemaFilename") for spec in _task_specs(draft)
            if spec.manual}


def _task_specs(draft) -> list:
    model = validate_model(draft.files).model
    if model is None:
        return []
    return [task_spec for spec in (model.spec, *model.subprocess_specs.values())
            for task_spec in spec.task_specs.values() if task_spec.bpmn_id]


def _start_examples(draft) -> dict:
    """What to start a new sandbox run with: the declared examples, and a blank for every
    other name the process reads from its start, for the owner to fill in."""
    start = _manifest(draft.files).get("start_data")
    examples = dict(start) if isinstance(start, dict) else {}
    return {name: None for name in validate_model(draft.files).start_names} | examples


def _json_object(text: str, what: str) -> dict:
    value = json.loads(text or "{}")
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object")
    return value


def _draft(key: str):
    draft = draft_for(db.session, key)
    if draft is None:
        flash("There is no draft of this process: open one first.", "info")
        abort(redirect(url_for("models.process", key=key)))
    return draft


def _problems(files) -> list[dict]:
    return [_problem(p) for p in validate_model(files).problems]


def _problem(problem) -> dict:
    return {"message": problem.message, "element_id": problem.element_id, "severity": problem.severity}


def _manifest(files) -> dict:
    return json.loads(files[MANIFEST_NAME])


def _forms(files) -> dict:
    found = {}
    for path, text in files.items():
        if path.startswith("forms/"):
            try:
                found[path[len("forms/"):]] = json.loads(text)
            except json.JSONDecodeError:
                continue
    return found


def _form_names(files) -> list[str]:
    return sorted(p[len("forms/"):] for p in files if p.startswith("forms/") and not p.endswith("-uischema.json"))
