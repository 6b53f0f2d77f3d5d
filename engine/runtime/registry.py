"""The model registry: process models are versioned, validated, immutable data.

A process is a folder in `processes/` holding BPMN files and a `process.json`
manifest (name, BPMN process id, lane map); the forms its user tasks name live in
`forms/`. Publishing stores every file of the model, with a content hash, as a
`ProcessVersion`; an instance is pinned to the version it started on.

Model data: the manifest's `data_files` names JSON files of the process folder (a grading
scale, say) that are versioned with the diagram and forms. Each is checked on upload and
publish by the check its domain registered (`data_file_check`), handed to every instance's
start as task data under the file's stem (`grading_scale.json` -> `grading_scale`), and a
form field can take its choices from one: `"x-choices": {"data": "grading_scale.json",
"list": "grades", "where": {"good_or_better": false}}` fills the field's `enum` (each
item's `key`) and `enumNames` (its `label`) when the version is built.
"""
import copy
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, VALIDATOR
from SpiffWorkflow.spiff.specs.defaults import ServiceTask, UserTask
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from engine.accounts import ROLES
from engine.runtime import events
from engine.runtime.models import ProcessVersion
from engine.runtime.services import OPERATIONS
from engine.runtime.start_declarations import declaration_problems, start_declaration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROCESSES_DIR = PROJECT_ROOT / "processes"
FORMS_DIR = PROJECT_ROOT / "forms"
MANIFEST_NAME = "process.json"
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


PUBLISHER_ROLE = "process_owner"

# Model data file name -> its domain's check: the parsed JSON in, a list of problems out.
DATA_FILE_CHECKS: dict = {}


def data_file_check(file_name: str):
    """Register the check every model data file called `file_name` must pass to be published."""
    def register(function):
        DATA_FILE_CHECKS[file_name] = function
        return function
    return register


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a model, tied to the BPMN element (or file) it is about, so an
    editor can show it next to that element. `severity` is "error" (blocks publishing) or
    "warning" (worth a look)."""
    message: str
    element_id: str | None = None
    file: str | None = None
    severity: str = "error"
    code: str = ""  # what kind of problem, where callers treat kinds differently ("unsafe", "form", "data")

    def __str__(self) -> str:
        return self.message


class ModelError(Exception):
    """A model that cannot be published; `problems` says what and where, one line each,
    and `located` keeps each problem with its element id."""

    def __init__(self, problems: list):
        self.located = [p if isinstance(p, Problem) else Problem(str(p)) for p in problems]
        self.problems = [str(p) for p in self.located]
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class BuiltModel:
    """The parsed, runnable form of a published version."""
    spec: object
    subprocess_specs: dict
    manifest: dict
    forms: dict  # file name -> parsed JSON, choices from model data filled in
    data: dict | None = None  # start-data name (the data file's stem) -> parsed model data file


def read_model_from_disk(process_dir: Path, forms_dir: Path = FORMS_DIR) -> dict[str, str]:
    """Collect the files of one process folder plus every form its BPMN names."""
    files = {MANIFEST_NAME: (process_dir / MANIFEST_NAME).read_text()}
    manifest = json.loads(files[MANIFEST_NAME])
    for name in [*manifest["bpmn_files"], *manifest.get("data_files", [])]:
        files[name] = (process_dir / name).read_text()
    for form_name in sorted(_form_names(files, manifest)):
        path = forms_dir / form_name
        if path.exists():
            files[f"forms/{form_name}"] = path.read_text()
    return files


def content_hash(files: dict[str, str]) -> str:
    return hashlib.sha256(events.canonical_json(files).encode()).hexdigest()


def build_model(files: dict[str, str]) -> BuiltModel:
    """Parse and validate a model's files; raise ModelError listing every problem."""
    try:
        manifest = json.loads(files[MANIFEST_NAME])
    except (KeyError, json.JSONDecodeError) as error:
        raise ModelError([f"{MANIFEST_NAME}: missing or not valid JSON ({error})"])
    spec, subprocess_specs = parse_specs(files, manifest)
    problems: list[Problem] = []
    data = _load_data(files, manifest, problems)
    forms = _load_forms(files, manifest, problems)
    _fill_choices(forms, data, problems)
    _check_tasks(spec, subprocess_specs, manifest, forms, problems)
    if problems:
        raise ModelError(problems)
    return BuiltModel(spec, subprocess_specs, manifest, forms,
                      {data_name(name): content for name, content in data.items()})


def data_name(file_name: str) -> str:
    """The task-data name a model data file is started under: its stem."""
    return file_name.rsplit(".", 1)[0]


def parse_specs(files: dict[str, str], manifest: dict) -> tuple:
    """The process spec and every spec it calls, parsed with SpiffWorkflow's schema
    validator; ModelError when the files are not a runnable set of BPMN and DMN (XML,
    schema, a missing call-activity target or decision)."""
    problems: list[Problem] = []
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, add in [*((n, parser.add_bpmn_str) for n in manifest.get("bpmn_files", [])),
                      *((n, parser.add_dmn_str) for n in manifest.get("dmn_files", []))]:
        if name not in files:
            problems.append(Problem(f"{name}: named in {MANIFEST_NAME} but not present", file=name))
            continue
        try:
            add(files[name].encode(), filename=name)
        except etree.XMLSyntaxError as error:
            problems.append(Problem(f"{name}: not well-formed XML: {error}", file=name))
        except ValidationException as error:
            problems.append(_located(error, name))
    if problems:
        raise ModelError(problems)
    process_id = manifest.get("bpmn_process_id")
    try:
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except ValidationException as error:
        raise ModelError([_located(error)])


_built_versions: dict[str, BuiltModel] = {}


_HELD_VERSIONS = "held_process_versions"


def version_for(session: Session, version_id: int) -> ProcessVersion | None:
    """The process version with this id, held by `session` so that asking again costs no query.

    A session's identity map holds its objects weakly: a version read for its model and
    then dropped was read from the database again at the next look-up, three times per
    task completion or timer. Holding it for the session's life keeps those look-ups in
    memory; its attributes still expire at each commit, like any object's."""
    held = session.info.setdefault(_HELD_VERSIONS, {})
    version = held.get(version_id)
    if version is None or inspect(version).session is not session:
        version = session.get(ProcessVersion, version_id)
        if version is not None:
            held[version_id] = version
    return version


def hold_version(session: Session, version: ProcessVersion) -> None:
    """Hold a version `session` has just read with something else (an instance locked with its
    version), so that `version_for` finds it without a query."""
    session.info.setdefault(_HELD_VERSIONS, {})[version.id] = version


def built_model_for(version: ProcessVersion) -> BuiltModel:
    """The parsed model of a published version, parsed once per process.

    Keyed by content hash: a version never changes, and the same hash is the same model
    in any database (tests use many)."""
    model = _built_versions.get(version.content_hash)
    if model is None:
        model = _built_versions[version.content_hash] = build_model(version.files)
    return model


def publish(session: Session, files: dict[str, str], *, actor_id: int | None = None,
            note: str = "") -> ProcessVersion:
    """Validate and store a new immutable version; publishing identical content is a no-op."""
    built = build_model(files)
    key = built.manifest["key"]
    digest = content_hash(files)
    existing = session.scalar(select(ProcessVersion).where(
        ProcessVersion.process_key == key, ProcessVersion.content_hash == digest))
    if existing is not None:
        return existing
    number = (session.scalar(select(func.max(ProcessVersion.version))
                             .where(ProcessVersion.process_key == key)) or 0) + 1
    version = ProcessVersion(process_key=key, version=number, content_hash=digest, files=files,
                             manifest=built.manifest, note=note, published_by_id=actor_id)
    session.add(version)
    session.flush()
    events.record(session, "model.published", actor_id=actor_id,
                  subject=("process_version", version.id),
                  payload={"process": key, "version": number, "content_hash": digest, "note": note})
    return version


def publish_all_from_disk(session: Session, actor_id: int | None = None) -> list[ProcessVersion]:
    """Publish every process folder whose files changed since its last version."""
    return [publish(session, read_model_from_disk(folder), actor_id=actor_id,
                    note="Published from the processes folder")
            for folder in sorted(PROCESSES_DIR.iterdir()) if (folder / MANIFEST_NAME).exists()]


def may_publish(user) -> bool:
    """Only process owners publish or retire models: whoever can publish a script can run it."""
    return user.has_role(PUBLISHER_ROLE)


def retire(session: Session, version: ProcessVersion, *, actor_id: int | None, reason: str) -> None:
    """Stop new instances starting on `version`; instances already on it run to the end.

    New instances then use the newest version still published (see `latest_version`)."""
    if version.status != "published":
        raise ModelError([f"Version {version.version} is already {version.status}."])
    version.status = "retired"
    events.record(session, "model.retired", actor_id=actor_id, subject=("process_version", version.id),
                  payload={"process": version.process_key, "version": version.version,
                           "content_hash": version.content_hash, "reason": reason})


def latest_version(session: Session, process_key: str) -> ProcessVersion | None:
    return session.scalar(select(ProcessVersion)
                          .where(ProcessVersion.process_key == process_key,
                                 ProcessVersion.status == "published")
                          .order_by(ProcessVersion.version.desc()).limit(1))


def user_task_properties(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _form_names(files: dict[str, str], manifest: dict) -> set[str]:
    parser = SpiffBpmnParser()
    names = set()
    for name in manifest["bpmn_files"]:
        parser.add_bpmn_str(files[name].encode(), filename=name)
    for name in manifest.get("dmn_files", []):
        parser.add_dmn_str(files[name].encode(), filename=name)
    for spec in [parser.get_spec(manifest["bpmn_process_id"]),
                 *parser.get_subprocess_specs(manifest["bpmn_process_id"]).values()]:
        for task_spec in spec.task_specs.values():
            props = user_task_properties(task_spec)
            names.update(props[p] for p in FORM_PROPERTIES if p in props)
    start_form = (start_declaration(manifest) or {}).get("form")
    if start_form:
        names |= {start_form, start_form.replace("-schema.json", "-uischema.json")}
    return names


@functools.lru_cache(maxsize=512)
def _schema_error(text: str) -> str | None:
    """Why a form's text is not a JSON Schema, or None. Checking against the metaschema
    costs tens of milliseconds a form; the editor validates on every save, so a form's
    verdict is kept by its text."""
    try:
        Draft202012Validator.check_schema(json.loads(text))
    except SchemaError as error:
        return error.message
    return None


def _load_forms(files: dict, manifest: dict, problems: list[str]) -> dict:
    forms = {}
    for path, text in files.items():
        if not path.startswith("forms/"):
            continue
        name = path[len("forms/"):]
        try:
            forms[name] = json.loads(text)
        except json.JSONDecodeError as error:
            problems.append(Problem(f"{name}: not valid JSON ({error})", file=path, code="form"))
            continue
        if name.endswith("-schema.json") and (error := _schema_error(text)):
            problems.append(Problem(f"{name}: not a valid JSON Schema: {error}", file=path, code="form"))
    return forms


def _load_data(files: dict, manifest: dict, problems: list) -> dict:
    """The manifest's data files, parsed and checked by their domain's registered check."""
    data = {}
    names = manifest.get("data_files", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n.endswith(".json") for n in names):
        problems.append(Problem(f"{MANIFEST_NAME}: data_files must list JSON file names", file=MANIFEST_NAME,
                                code="data"))
        return data
    for name in names:
        if name not in files:
            problems.append(Problem(f"{name}: named in {MANIFEST_NAME} but not present", file=name, code="data"))
            continue
        try:
            data[name] = json.loads(files[name])
        except json.JSONDecodeError as error:
            problems.append(Problem(f"{name}: not valid JSON ({error})", file=name, code="data"))
            continue
        check = DATA_FILE_CHECKS.get(name)
        problems.extend(Problem(f"{name}: {text}", file=name, code="data") for text in (check(data[name]) if check else []))
    return data


def _fill_choices(forms: dict, data: dict, problems: list) -> None:
    """Give every form field marked `x-choices` the keys and labels of the model data list it names."""
    for form_name, form in forms.items():
        for wanted in _choose(form, data):
            problems.append(Problem(f"{form_name}: x-choices names {wanted!r}, which is not a list in this "
                                    "model's data files", file=f"forms/{form_name}", code="form"))


def form_with_choices(form: dict, files: dict[str, str]) -> dict:
    """`form` with its `x-choices` fields filled from the data files among `files` (a draft's),
    for previewing a form as its task will show it; choices that cannot be found stay unfilled."""
    problems: list[Problem] = []
    try:
        data = _load_data(files, json.loads(files.get(MANIFEST_NAME, "{}")), problems)
    except json.JSONDecodeError:
        return form
    filled = copy.deepcopy(form)
    list(_choose(filled, data))
    return filled


def _choose(form: dict, data: dict):
    """Fill each `x-choices` field of `form` in place; yield each reference that names no list."""
    for node in _schema_nodes(form):
        wanted = node.get("x-choices")
        if wanted is None:
            continue
        items = (data.get(wanted.get("data")) or {}).get(wanted.get("list")) if isinstance(wanted, dict) else None
        if not isinstance(items, list):
            yield wanted
            continue
        where = wanted.get("where") or {}
        chosen = [item for item in items if isinstance(item, dict)
                  and all(item.get(key) == value for key, value in where.items())]
        node["enum"] = [item.get("key") for item in chosen]
        node["enumNames"] = [item.get("label", item.get("key")) for item in chosen]


def _schema_nodes(node):
    """Every object inside a parsed form, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schema_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_nodes(value)


def _check_tasks(spec, subprocess_specs, manifest, forms, problems) -> None:
    """What SpiffWorkflow does not check: lanes, forms, service operations and the start declaration."""
    problems.extend(Problem(text, file=MANIFEST_NAME) for text in declaration_problems(manifest, forms, ROLES))
    lanes = manifest.get("lanes", {})
    for lane, mapping in lanes.items():
        if mapping.get("role") not in ROLES:
            problems.append(Problem(f"lane '{lane}': role '{mapping.get('role')}' is not a known role",
                                    file=MANIFEST_NAME))
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            label = f"'{task_spec.bpmn_name or task_spec.bpmn_id}' ({task_spec.bpmn_id})"
            at = {"element_id": task_spec.bpmn_id, "file": process.file}
            if isinstance(task_spec, UserTask):
                if task_spec.lane not in lanes:
                    problems.append(Problem(f"user task {label}: lane '{task_spec.lane}' has no role in {MANIFEST_NAME}", **at))
                props = user_task_properties(task_spec)
                form = props.get("formJsonSchemaFilename")
                if not form and not props.get("formJsonSchemaKey"):
                    problems.append(Problem(f"user task {label}: names no form", **at))
                elif form and form not in forms:
                    problems.append(Problem(f"user task {label}: form '{form}' does not exist", **at))
            if isinstance(task_spec, ServiceTask) and task_spec.operation_name not in OPERATIONS:
                problems.append(Problem(f"service task {label}: unknown operation '{task_spec.operation_name}'", **at))


def _located(error: ValidationException, file: str | None = None) -> Problem:
    """SpiffWorkflow's complaint, with the element and line it names."""
    where = f" (line {error.line_number})" if getattr(error, "line_number", "") else ""
    element = getattr(error, "id", "") or None
    text = f"{error.args[0] if error.args else error}{f' at {element!r}' if element else ''}{where}"
    file = getattr(error, "file_name", "") or file
    return Problem(f"{file}: {text}" if file else text, element_id=element, file=file)
