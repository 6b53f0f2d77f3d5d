"""Process models in and out as files: download a version or draft as a zip, upload
BPMN from other modelers or a SpiffArena process model folder.

An upload is accepted when it can run here, and refused otherwise with a list of what is
unsupported and where: XML that is not well formed or not valid BPMN, elements and
extensions this engine does not run (Camunda/Zeebe/Activiti/Flowable classes, listeners
and connectors, JUEL or FEEL expressions, scripts in other languages, link and
compensation events, messages nothing sends), call activities whose target is missing,
service operations that do not exist here, scripts that fail the safety check, forms that
are not valid JSON Schema. Everything else an owner fixes in the editor (a lane without a
role, a step without a form) is accepted into the draft, where validation shows it.

Accepted uploads are adapted where that is safe and said so in `notes`: a process marked
not executable (Signavio and Bizagi export them so) is marked executable, plain ISO timer
values are quoted as Python strings, lanes named like a role are mapped to it, and a
model without a diagram gets one (engine.runtime.diagram_layout.add_layout).
SpiffArena models (process_model.json, BPMN with spiffworkflow extensions, forms named
`*-schema.json` and `*-uischema.json`) import as they are.
"""
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from lxml import etree

from engine.accounts import ROLES
from engine.runtime.diagram_layout import add_layout
from engine.runtime.errors import WorkflowError
from engine.runtime.model_graph import ALL_NS, BPMN, ModelGraph, service_operator
from engine.runtime.model_validation import validate_model
from engine.runtime.registry import MANIFEST_NAME, ModelError, parse_specs
from engine.runtime.services import OPERATIONS

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_FILES = 200
SPIFFARENA_MANIFEST = "process_model.json"
FOREIGN_ENGINES = {"http://camunda.org/schema/1.0/bpmn": "camunda", "http://camunda.org/schema/zeebe/1.0": "zeebe",
                   "http://activiti.org/bpmn": "activiti", "http://flowable.org/bpmn": "flowable"}
# Settings of other engines that run code or move data: a model relying on them cannot run here.
FOREIGN_BEHAVIOUR = {"class", "expression", "delegateExpression", "type", "topic", "executionListener",
                     "taskListener", "connector", "inputOutput", "taskDefinition", "ioMapping", "calledDecision",
                     "script", "field", "in", "out", "resultVariable", "decisionRef"}
PYTHON_SCRIPT_FORMATS = {"", "python", "python3", "text/x-python", "text/python"}
_ISO_TIMER = re.compile(r"^(R\d*/)?(P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?)(/.+)?$")
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class ImportRefused(WorkflowError):
    """The upload cannot run here; `problems` lists what is unsupported and where."""

    def __init__(self, message: str, problems: list[str] = ()):
        super().__init__(message)
        self.problems = list(problems)


@dataclass
class ImportedModel:
    files: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return json.loads(self.files[MANIFEST_NAME])["key"]


def read_upload(filename: str, data: bytes, existing: dict[str, str] | None = None) -> ImportedModel:
    """The model in an uploaded .bpmn or .zip, ready to become a draft, or ImportRefused.

    A single BPMN file uploaded for an existing process (`existing`, its current files)
    replaces that process's BPMN and keeps its lanes, forms and other files."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRefused(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix == ".zip":
        raw = _unzip(data)
    elif suffix in (".bpmn", ".xml"):
        raw = {PurePosixPath(filename).name: data}
    else:
        raise ImportRefused("Upload a BPMN file (.bpmn) or a zip of a process model (.zip).")
    texts = {name: _text(name, content) for name, content in raw.items()}
    notes: list[str] = []
    unsupported: list[str] = []
    bpmn = {name: text for name, text in texts.items() if name.endswith((".bpmn", ".xml"))}
    if not bpmn:
        raise ImportRefused("The upload has no BPMN file.")
    for name in bpmn:
        bpmn[name] = _adapt_bpmn(name, bpmn[name], notes, unsupported)
    files = _assemble(texts, bpmn, existing, notes)
    _check_runnable(files, unsupported)
    if unsupported:
        raise ImportRefused("This model cannot run here. Nothing was changed.", unsupported)
    return ImportedModel(files, notes)


def export_zip(files: dict[str, str]) -> bytes:
    """A model's files as a zip, laid out as an upload expects (process.json, BPMN, forms/)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.writestr(zipfile.ZipInfo(path, date_time=(2000, 1, 1, 0, 0, 0)), files[path])
    return buffer.getvalue()


def _unzip(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportRefused("The file is not a zip archive.")
    members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")
               and not PurePosixPath(m.filename).name.startswith(".")]
    if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_UPLOAD_BYTES * 4:
        raise ImportRefused("The zip holds too many or too large files for a process model.")
    top = {PurePosixPath(m.filename).parts[0] for m in members}
    strip = 1 if len(top) == 1 and all(len(PurePosixPath(m.filename).parts) > 1 for m in members) else 0
    return {"/".join(PurePosixPath(m.filename).parts[strip:]): archive.read(m) for m in members}


def _text(name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(f"{name} is not UTF-8 text.")


def _adapt_bpmn(name: str, text: str, notes: list[str], unsupported: list[str]) -> str:
    """Parse one BPMN file safely, list what cannot run here, and make the safe adaptations."""
    if "<!DOCTYPE" in text.upper():
        raise ImportRefused(f"{name}: document type declarations are not allowed in BPMN files.")
    try:
        root = etree.fromstring(text.encode(), _SAFE_PARSER)
    except etree.XMLSyntaxError as error:
        raise ImportRefused(f"{name} is not well-formed XML: line {error.lineno}: {error.msg}. Nothing was changed.")
    if etree.QName(root).namespace != BPMN or etree.QName(root).localname != "definitions":
        raise ImportRefused(f"{name} is not BPMN 2.0: its root element is not bpmn:definitions.")
    graph = ModelGraph({name: root})
    for container_id, element, kind, _file in graph.others:
        unsupported.append(f"{name}: '{kind}' ({element.get('id')}) in {container_id} is not supported here")
    for node in graph.nodes.values():
        _check_node(node, name, unsupported)
    for flow in graph.flows.values():
        condition = flow.element.find("bpmn:conditionExpression", ALL_NS)
        if condition is not None and _foreign_expression(condition):
            unsupported.append(f"{name}: the condition on flow {flow.id} is not Python ({_excerpt(condition.text)}); "
                               "conditions here are Python expressions, such as approved == True")
    _foreign_settings(root, name, unsupported, notes)
    _unsupported_messages(root, graph, name, unsupported)
    for process in root.findall("bpmn:process", ALL_NS):
        if process.get("isExecutable") == "false":
            process.set("isExecutable", "true")
            notes.append(f"{name}: the process '{process.get('id')}' was marked not executable; it is now executable")
    _quote_timers(root, name, notes)
    adapted = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if root.find("bpmndi:BPMNDiagram", ALL_NS) is None:
        adapted = add_layout(adapted)
        notes.append(f"{name}: it had no diagram, so one was laid out")
    return adapted.decode()


def _check_node(node, name: str, unsupported: list[str]) -> None:
    element = node.element
    for definition in ("linkEventDefinition", "compensateEventDefinition"):
        if element.find(f"bpmn:{definition}", ALL_NS) is not None:
            unsupported.append(f"{name}: {node.kind_label} {node.label} uses a {definition[:-15]} event, "
                               "which is not supported here")
    if node.kind == "complexGateway":
        unsupported.append(f"{name}: complex gateway {node.label} is not supported here")
    if node.kind == "scriptTask" and (element.get("scriptFormat") or "").lower() not in PYTHON_SCRIPT_FORMATS:
        unsupported.append(f"{name}: script task {node.label} is written in {element.get('scriptFormat')}; "
                           "scripts here are Python")
    operator = service_operator(element)
    if operator is not None and operator.get("id") not in OPERATIONS:
        unsupported.append(f"{name}: service task {node.label} calls '{operator.get('id')}', which does not "
                           f"exist here (operations here: {', '.join(sorted(OPERATIONS)) or 'none'})")


def _foreign_settings(root, name: str, unsupported: list[str], notes: list[str]) -> None:
    """Other engines' attributes and extensions: those that run code or move data cannot run
    here; the rest (assignees, form keys, history settings) are left in the file, unused."""
    found, ignored = [], set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        owner = element.getparent() if etree.QName(element).namespace in FOREIGN_ENGINES else element
        while owner is not None and (etree.QName(owner).namespace != BPMN or owner.get("id") is None):
            owner = owner.getparent()
        where = f"{etree.QName(owner).localname} {owner.get('id')}" if owner is not None else "the file"
        settings = [(etree.QName(a).namespace, etree.QName(a).localname) for a in element.attrib if "}" in a]
        if etree.QName(element).namespace in FOREIGN_ENGINES:
            settings.append((etree.QName(element).namespace, etree.QName(element).localname))
        for namespace, local in settings:
            if namespace in FOREIGN_ENGINES and local in FOREIGN_BEHAVIOUR:
                found.append(f"{name}: {where} uses {FOREIGN_ENGINES[namespace]}:{local}, which only "
                             f"{FOREIGN_ENGINES[namespace].capitalize()} can run; here steps call named service "
                             "operations and run Python")
            elif namespace in FOREIGN_ENGINES:
                ignored.add(f"{FOREIGN_ENGINES[namespace]}:{local}")
    unsupported.extend(dict.fromkeys(found))
    if ignored:
        notes.append(f"{name}: settings for another engine are kept but not used here ({', '.join(sorted(ignored))}): "
                     "people are chosen by each lane's role and person key, and forms are JSON Schema")


def _unsupported_messages(root, graph: ModelGraph, name: str, unsupported: list[str]) -> None:
    """Waiting for a message that nothing in the model sends would wait for ever here."""
    sent = {d.get("messageRef") for d in root.iter(f"{{{BPMN}}}messageEventDefinition")
            if etree.QName(d.getparent()).localname in ("intermediateThrowEvent", "endEvent")}
    sent |= {task.get("messageRef") for task in root.iter(f"{{{BPMN}}}sendTask")}
    for node in graph.nodes.values():
        waits = node.kind == "receiveTask" and node.element.get("messageRef") not in sent
        definition = node.element.find("bpmn:messageEventDefinition", ALL_NS)
        if node.kind in ("intermediateCatchEvent", "boundaryEvent", "startEvent") and definition is not None:
            waits = waits or definition.get("messageRef") not in sent
        if waits and not (node.kind == "startEvent" and graph.container_of(node.id).kind == "process"):
            unsupported.append(f"{name}: {node.kind_label} {node.label} waits for a message that nothing in this "
                               "model sends; nothing here delivers messages to a running process")


def _quote_timers(root, name: str, notes: list[str]) -> None:
    for kind in ("timeDate", "timeDuration", "timeCycle"):
        for timer in root.iter(f"{{{BPMN}}}{kind}"):
            value = (timer.text or "").strip()
            if _ISO_TIMER.match(value):
                timer.text = json.dumps(value)
                event = timer.getparent().getparent()
                notes.append(f"{name}: the timer of {event.get('id')} was the plain value {value}; it is now the "
                             f"Python string {json.dumps(value)}")


def _foreign_expression(condition) -> bool:
    language = (condition.get("language") or "").lower()
    text = (condition.text or "").strip()
    return (language not in ("", "python", "python3", "text/x-python")) or text.startswith(("${", "#{", "="))


def _assemble(texts: dict[str, str], bpmn: dict[str, str], existing: dict[str, str] | None,
              notes: list[str]) -> dict[str, str]:
    """The model's files: its manifest (ours, SpiffArena's, or made up), BPMN, DMN, forms and the
    data files the manifest names (kept from `existing` when the upload does not carry them)."""
    forms = {f"forms/{PurePosixPath(n).name}": t for n, t in texts.items()
             if n.endswith(("-schema.json", "-uischema.json"))}
    dmn = {PurePosixPath(n).name: t for n, t in texts.items() if n.endswith(".dmn")}
    bpmn = {PurePosixPath(n).name: t for n, t in bpmn.items()}
    if MANIFEST_NAME in texts:
        manifest = _json(MANIFEST_NAME, texts[MANIFEST_NAME])
    elif SPIFFARENA_MANIFEST in texts:
        manifest = _from_spiffarena(_json(SPIFFARENA_MANIFEST, texts[SPIFFARENA_MANIFEST]), bpmn, dmn)
    elif existing is not None:
        manifest = _json(MANIFEST_NAME, existing[MANIFEST_NAME])
        kept = {p: t for p, t in existing.items() if p != MANIFEST_NAME and p not in manifest.get("bpmn_files", [])}
        if len(bpmn) != 1:
            raise ImportRefused("Upload one BPMN file to replace this process's diagram, or a zip of the whole model.")
        (text,) = bpmn.values()
        bpmn = {manifest["bpmn_files"][0]: text}
        forms = {**{p: t for p, t in kept.items() if p.startswith("forms/")}, **forms}
        dmn = {**{p: t for p, t in kept.items() if p.endswith(".dmn")}, **dmn}
    else:
        manifest = _new_manifest(bpmn)
    manifest.setdefault("bpmn_files", sorted(bpmn))
    if dmn:
        manifest["dmn_files"] = sorted(dmn)
    _map_lanes(manifest, bpmn, notes)
    by_name = {PurePosixPath(n).name: t for n, t in texts.items()}
    data = {name: by_name.get(name, (existing or {}).get(name)) for name in manifest.get("data_files") or []
            if isinstance(name, str)}
    return {MANIFEST_NAME: json.dumps(manifest, indent=2) + "\n", **bpmn, **dmn, **forms,
            **{name: text for name, text in data.items() if text is not None}}


def _from_spiffarena(info: dict, bpmn: dict[str, str], dmn: dict[str, str]) -> dict:
    process_id = info.get("primary_process_id") or _primary_process(bpmn)
    return {"key": _slug(info.get("display_name") or process_id), "name": info.get("display_name") or process_id,
            "description": info.get("description", ""), "bpmn_process_id": process_id,
            "bpmn_files": sorted(bpmn), "lanes": {}}


def _new_manifest(bpmn: dict[str, str]) -> dict:
    process_id = _primary_process(bpmn)
    name = next((p.get("name") for t in bpmn.values() for p in etree.fromstring(t.encode()).findall(
        "bpmn:process", ALL_NS) if p.get("id") == process_id and p.get("name")), process_id)
    return {"key": _slug(process_id), "name": name, "bpmn_process_id": process_id, "bpmn_files": sorted(bpmn),
            "lanes": {}}


def _primary_process(bpmn: dict[str, str]) -> str:
    """The process an upload runs: the one no other process calls (the first if several)."""
    ids, called = [], set()
    for text in bpmn.values():
        root = etree.fromstring(text.encode())
        ids += [p.get("id") for p in root.findall("bpmn:process", ALL_NS)]
        called |= {c.get("calledElement") for c in root.iter(f"{{{BPMN}}}callActivity")}
    candidates = [i for i in ids if i not in called] or ids
    if not candidates:
        raise ImportRefused("The BPMN has no process.")
    return candidates[0]


def _map_lanes(manifest: dict, bpmn: dict[str, str], notes: list[str]) -> None:
    """Lanes named like a role ('Team manager', 'qa_lead') are that role; others wait for the owner."""
    lanes = manifest.setdefault("lanes", {})
    by_name = {_normal(key): key for key in ROLES} | {_normal(label): key for key, label in ROLES.items()}
    for text in bpmn.values():
        for lane in etree.fromstring(text.encode()).iter(f"{{{BPMN}}}lane"):
            name = lane.get("name")
            if name and name not in lanes and _normal(name) in by_name:
                lanes[name] = {"role": by_name[_normal(name)], "person": None}
                notes.append(f"the lane '{name}' was given the role {ROLES[by_name[_normal(name)]]}")


def _check_runnable(files: dict[str, str], unsupported: list[str]) -> None:
    """SpiffWorkflow must build it, its forms must be JSON Schema, its scripts must be safe,
    its data files (a grading scale) must pass their checks."""
    manifest = json.loads(files[MANIFEST_NAME])
    try:
        parse_specs(files, manifest)
    except ModelError as error:
        unsupported.extend(error.problems)
        return
    report = validate_model(files)
    unsupported.extend(p.message for p in report.problems if p.code in ("unsafe", "form", "data"))


def _json(name: str, text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportRefused(f"{name} is not valid JSON: {error.msg} at line {error.lineno}.")
    if not isinstance(value, dict):
        raise ImportRefused(f"{name} is not a JSON object.")
    return value


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:80] or "process"


def _normal(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().lower())


def _excerpt(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= 40 else text[:39] + "…"
