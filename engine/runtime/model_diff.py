"""What changed between two versions of a process model, in the words a process owner uses.

Frameworks change every year; before publishing (or moving audits under way to a new
version) people need to see what a version changes: steps added, removed, renamed or
moved to another lane; who a lane means; which form a step asks and what its fields are;
timers and due dates; gateway conditions; scripts and service operations. `compare`
reads both sets of files (any two versions, or a version and the draft) and lists each
change with the element it is about.
"""
import json
from dataclasses import dataclass

from lxml import etree

from engine.runtime.model_graph import ALL_NS, ModelGraph, Node, service_operator, spiff_properties, spiff_text
from engine.runtime.registry import MANIFEST_NAME

AREAS = {"elements": "Steps and flows", "lanes": "Lanes", "forms": "Forms", "timings": "Timers and due dates",
         "conditions": "Conditions", "behaviour": "Scripts, services and instructions"}
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")


@dataclass(frozen=True)
class Change:
    area: str  # a key of AREAS
    description: str
    element_id: str | None = None


def compare(old: dict[str, str], new: dict[str, str]) -> list[Change]:
    """Every change from the files `old` to the files `new`, grouped by area in AREAS order."""
    old_manifest, new_manifest = _manifest(old), _manifest(new)
    old_graph, new_graph = _graph(old, old_manifest), _graph(new, new_manifest)
    changes = [*_elements(old_graph, new_graph), *_flows(old_graph, new_graph),
               *_lanes(old_graph, new_graph, old_manifest, new_manifest),
               *_forms(old, new), *_step_details(old_graph, new_graph)]
    order = list(AREAS)
    return sorted(changes, key=lambda change: order.index(change.area))


def _elements(old: ModelGraph, new: ModelGraph) -> list[Change]:
    changes = []
    for node_id, node in new.nodes.items():
        before = old.nodes.get(node_id)
        if before is None:
            where = f" in lane '{node.lane}'" if node.lane else ""
            changes.append(Change("elements", f"Added {node.kind_label} {node.label}{where}", node_id))
            continue
        if before.kind != node.kind:
            changes.append(Change("elements", f"{node.label} changed from {before.kind_label} to {node.kind_label}", node_id))
        if before.name != node.name:
            changes.append(Change("elements", f"Renamed '{before.name or node_id}' to '{node.name or node_id}'", node_id))
        if before.lane != node.lane:
            changes.append(Change("lanes", f"{node.label} moved from lane '{before.lane}' to lane '{node.lane}'", node_id))
    for node_id, node in old.nodes.items():
        if node_id not in new.nodes:
            changes.append(Change("elements", f"Removed {node.kind_label} {node.label}", node_id))
    return changes


def _flows(old: ModelGraph, new: ModelGraph) -> list[Change]:
    changes = []
    old_links = {(f.source, f.target): f for f in old.flows.values()}
    new_links = {(f.source, f.target): f for f in new.flows.values()}
    for link, flow in new_links.items():
        if link not in old_links:
            changes.append(Change("elements", f"New flow from {_name(new, link[0])} to {_name(new, link[1])}", flow.id))
        elif (old_links[link].condition or "").strip() != (flow.condition or "").strip():
            changes.append(Change("conditions", f"Condition from {_name(new, link[0])} to {_name(new, link[1])}: "
                                  f"{_text(old_links[link].condition)} → {_text(flow.condition)}", flow.id))
    for link, flow in old_links.items():
        if link not in new_links:
            changes.append(Change("elements", f"Removed the flow from {_name(old, link[0])} to {_name(old, link[1])}",
                                  flow.id))
    for node_id, node in new.nodes.items():
        before = old.nodes.get(node_id)
        if before is not None and _default_target(old, before) != _default_target(new, node):
            changes.append(Change("conditions", f"Default path of {node.label}: {_name(old, _default_target(old, before))} "
                                  f"→ {_name(new, _default_target(new, node))}", node_id))
    return changes


def _lanes(old: ModelGraph, new: ModelGraph, old_manifest: dict, new_manifest: dict) -> list[Change]:
    changes = []
    old_names = {lane.name for lane in old.lanes.values()}
    new_names = {lane.name for lane in new.lanes.values()}
    for name in sorted(new_names - old_names):
        changes.append(Change("lanes", f"Added the lane '{name}'", _lane_id(new, name)))
    for name in sorted(old_names - new_names):
        changes.append(Change("lanes", f"Removed the lane '{name}'"))
    old_map, new_map = old_manifest.get("lanes", {}) or {}, new_manifest.get("lanes", {}) or {}
    for name in sorted(set(old_map) & set(new_map)):
        for key, label in (("role", "role"), ("person", "person key")):
            before, after = (old_map[name] or {}).get(key), (new_map[name] or {}).get(key)
            if before != after:
                changes.append(Change("lanes", f"Lane '{name}': {label} {_text(before)} → {_text(after)}",
                                      _lane_id(new, name)))
    return changes


def _step_details(old: ModelGraph, new: ModelGraph) -> list[Change]:
    """Per step: its form, due date, timers, scripts, service operation and instructions."""
    changes = []
    for node_id, node in new.nodes.items():
        before = old.nodes.get(node_id)
        if before is None:
            continue
        for area, label, read in _DETAILS:
            was, now = read(before), read(node)
            if was != now:
                changes.append(Change(area, f"{node.label}: {label} {_text(was)} → {_text(now)}", node_id))
    return changes


def _forms(old: dict[str, str], new: dict[str, str]) -> list[Change]:
    changes = []
    old_forms, new_forms = _form_files(old), _form_files(new)
    for name in sorted(set(new_forms) - set(old_forms)):
        changes.append(Change("forms", f"Added the form {name}"))
    for name in sorted(set(old_forms) - set(new_forms)):
        changes.append(Change("forms", f"Removed the form {name}"))
    for name in sorted(set(old_forms) & set(new_forms)):
        if old_forms[name] == new_forms[name]:
            continue
        before, after = _fields(old_forms[name]), _fields(new_forms[name])
        for path in sorted(set(after) - set(before)):
            changes.append(Change("forms", f"{name}: new field '{path}' ({after[path]['title']})"))
        for path in sorted(set(before) - set(after)):
            changes.append(Change("forms", f"{name}: removed field '{path}' ({before[path]['title']})"))
        for path in sorted(set(before) & set(after)):
            for key, was in before[path].items():
                if after[path][key] != was:
                    changes.append(Change("forms", f"{name}: '{path}' {key} {_text(was)} → {_text(after[path][key])}"))
        if not any(c.description.startswith(f"{name}:") for c in changes):
            changes.append(Change("forms", f"{name}: changed (layout or wording)"))
    return changes


def _timers(node: Node) -> str | None:
    found = [f"{kind[4:].lower()} {timer.text.strip()}" for kind in TIMER_KINDS
             for timer in node.element.findall(f"bpmn:timerEventDefinition/bpmn:{kind}", ALL_NS) if timer.text]
    return "; ".join(found) or None


def _service(node: Node) -> str | None:
    operator = service_operator(node.element)
    if operator is None:
        return None
    params = ", ".join(f"{p.get('id')}={p.get('value')}" for p in operator.findall(".//spiffworkflow:parameter", ALL_NS))
    return f"{operator.get('id')}({params}) → {operator.get('resultVariable') or 'its result'}"


def _script(node: Node) -> str | None:
    script = node.element.find("bpmn:script", ALL_NS)
    parts = [script.text if script is not None else None, spiff_text(node.element, "preScript"),
             spiff_text(node.element, "postScript")]
    return " | ".join(p.strip() for p in parts if p and p.strip()) or None


_DETAILS = (
    ("forms", "form", lambda n: spiff_properties(n.element).get("formJsonSchemaFilename")),
    ("timings", "due date from", lambda n: spiff_properties(n.element).get("dueDateKey")),
    ("timings", "timer", _timers),
    ("behaviour", "script", _script),
    ("behaviour", "service operation", _service),
    ("behaviour", "instructions", lambda n: spiff_text(n.element, "instructionsForEndUser")),
)


def _fields(schema: dict, prefix: str = "") -> dict[str, dict]:
    """Each field of a form by dotted path, with what a reader would notice changing."""
    fields, required = {}, set(schema.get("required", []))
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{key}"
        fields[path] = {"title": sub.get("title", key), "type": sub.get("type"), "choices": sub.get("enum"),
                        "required": key in required, "format": sub.get("format")}
        if sub.get("type") == "object":
            fields.update(_fields(sub, f"{path}."))
        elif sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            fields.update(_fields(sub["items"], f"{path}[]."))
    return fields


def _form_files(files: dict[str, str]) -> dict[str, dict]:
    forms = {}
    for path, text in files.items():
        if path.startswith("forms/") and path.endswith("-schema.json") and not path.endswith("-uischema.json"):
            try:
                forms[path[len("forms/"):]] = json.loads(text)
            except json.JSONDecodeError:
                forms[path[len("forms/"):]] = {"title": "not valid JSON"}
    return forms


def _manifest(files: dict[str, str]) -> dict:
    try:
        return json.loads(files.get(MANIFEST_NAME, "{}"))
    except json.JSONDecodeError:
        return {}


def _graph(files: dict[str, str], manifest: dict) -> ModelGraph:
    documents = {}
    for name in manifest.get("bpmn_files", []):
        try:
            documents[name] = etree.fromstring(files[name].encode())
        except (KeyError, etree.XMLSyntaxError):
            continue
    return ModelGraph(documents)


def _default_target(graph: ModelGraph, node: Node) -> str | None:
    default = node.element.get("default")
    return graph.flows[default].target if default in graph.flows else None


def _lane_id(graph: ModelGraph, name: str) -> str | None:
    return next((lane.id for lane in graph.lanes.values() if lane.name == name), None)


def _name(graph: ModelGraph, node_id: str | None) -> str:
    node = graph.nodes.get(node_id or "")
    return node.label if node else "(none)"


def _text(value) -> str:
    return "(none)" if value in (None, "") else f"'{value}'" if isinstance(value, str) else str(value)
