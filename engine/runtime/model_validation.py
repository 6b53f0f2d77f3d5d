"""Everything a model must satisfy before it may be tried or published, tied to its elements.

`engine.runtime.registry.build_model` parses the full spec set (call activities, DMN)
with SpiffWorkflow's schema validator and checks lanes, forms and service operations.
This module adds what a process owner needs to hear before anyone runs the model,
each problem carrying the id of the BPMN element it is about so the modeler can show it
there:

- every lane has a role; every user task has a form that exists and is valid;
- every step can be reached from a start, and every path from it can reach an end;
  gateways that choose a path say how (a condition on each flow but the default);
- every script and expression passes the static safety check (model_script_safety): those
  below with their data, and every other place the BPMN holds code (model_code_places) too;
- conditions, timers, scripts and service parameters read only data that the start of
  the process or a step before them provides (forms, service results, script variables);
- timer expressions evaluate to an ISO 8601 date, duration or cycle;
- no data name shadows a function scripts use (SpiffWorkflow refuses such data).

Start data is declared in process.json as `start_data` (a list of names, or a mapping of
names to example values that timers are evaluated with). Without it, names that no step
produces are taken to be start data and listed in one warning.
"""
import ast
import difflib
import functools
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.clock import clock
from engine.runtime.model_code_places import code_places
from engine.runtime.model_graph import ALL_NS, CONTAINERS, ModelGraph, Node, service_operator, spiff_properties, spiff_text
from engine.runtime.model_script_safety import check_python
from engine.runtime.script_names import known_globals
from engine.runtime.registry import MANIFEST_NAME, BuiltModel, ModelError, Problem, build_model, content_hash, data_name
from engine.runtime.services import ServiceContext, ServiceScriptEngine

TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")
_ISO_LIKE = re.compile(r"^(R\d*|P|PT)\w*$")
_CHECKED_PROPERTIES = ("dueDateKey", "detailKey")


@dataclass
class ValidationReport:
    """The problems of one set of model files, and the runnable model when it builds."""
    problems: list[Problem] = field(default_factory=list)
    model: BuiltModel | None = None
    start_names: list[str] = field(default_factory=list)  # data the process reads from its start

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


_recent_reports: OrderedDict[str, ValidationReport] = OrderedDict()
RECENT_REPORTS = 32


def validate_model(files: dict[str, str]) -> ValidationReport:
    """Check a model's files; never raises for a bad model, every problem is in the report.

    The editor, the sandbox and publishing check the same draft several times a request;
    a report is kept by the files' content hash for the next ask (treat it as read-only)."""
    digest = content_hash(files)
    if digest in _recent_reports:
        _recent_reports.move_to_end(digest)
        return _recent_reports[digest]
    report = _validate(files)
    _recent_reports[digest] = report
    if len(_recent_reports) > RECENT_REPORTS:
        _recent_reports.popitem(last=False)
    return report


def _validate(files: dict[str, str]) -> ValidationReport:
    report = ValidationReport()
    try:
        manifest = json.loads(files[MANIFEST_NAME])
        if not isinstance(manifest, dict):
            raise ValueError("it is not a JSON object")
    except (KeyError, ValueError) as error:
        report.problems.append(Problem(f"{MANIFEST_NAME}: missing or not valid JSON ({error})", file=MANIFEST_NAME))
        return report
    try:
        report.model = build_model(files)
    except ModelError as error:
        report.problems.extend(error.located)
    documents = _documents(files, manifest.get("bpmn_files", []))
    if documents:
        graph = ModelGraph(documents)
        checker = _Checker(graph, documents, manifest, _forms(files), _decisions(files, manifest), report.problems)
        checker.run()
        report.start_names = sorted(checker.start | checker.inferred_start)
        report.problems[:] = [_at_lane(problem, graph) for problem in report.problems]
    report.problems[:] = list(dict.fromkeys(report.problems))
    return report


class _Checker:
    def __init__(self, graph: ModelGraph, documents: dict, manifest: dict, forms: dict, decisions: list,
                 problems: list):
        self.graph, self.documents, self.manifest, self.forms, self.decisions = graph, documents, manifest, forms, decisions
        self.dmn_outputs = {decision.get("id"): {out.get("name") for out in decision.iter("{*}output") if out.get("name")}
                            for _, decision in decisions}
        self.problems = problems
        start = manifest.get("start_data")
        self.start_declared = start is not None
        self.start_examples = start if isinstance(start, dict) else {}
        self.start = set(start or []) | {manifest[key] for key in ("subject_key", "team_key") if manifest.get(key)}
        self.start |= {data_name(name) for name in manifest.get("data_files") or [] if isinstance(name, str)}
        self.primary = manifest.get("bpmn_process_id")
        self.inferred_start: set[str] = set()
        self._produced: dict[str, set[str]] = {}
        self._own: dict[str, set[str]] = {}
        self._available: dict[str, set[str]] = {}
        self._checked: set[tuple[str | None, str]] = set()  # (element, source) checked with its data

    def run(self) -> None:
        for container in self.graph.containers.values():
            self._check_structure(container)
        self._check_lanes()
        self._check_data()
        self._check_decisions()
        self._check_other_code()
        if self.inferred_start:
            self.problems.append(Problem(
                "These names are read but no step produces them, so they must come with the start of the "
                f"process: {', '.join(sorted(self.inferred_start))}. Declare them as start_data in "
                f"{MANIFEST_NAME} so that a misspelt name is caught.", file=MANIFEST_NAME, severity="warning"))

    def error(self, message: str, element_id: str | None, file: str | None = None, severity: str = "error",
              code: str = ""):
        self.problems.append(Problem(message, element_id=element_id, file=file, severity=severity, code=code))

    # --- structure ------------------------------------------------------------------

    def _check_structure(self, container) -> None:
        graph, nodes = self.graph, [self.graph.nodes[n] for n in container.nodes]
        where = "the process" if container.kind == "process" else f"the subprocess '{container.id}'"
        if container.kind != "adHocSubProcess" and not any(n.kind == "startEvent" for n in nodes):
            self.error(f"{where} has no start event", container.parent_node, container.file)
        reachable, can_end = graph.reachable(container), graph.can_end(container)
        for node in nodes:
            if node.kind == "complexGateway":
                self.error(f"complex gateway {node.label}: not supported here; use an exclusive, inclusive "
                           "or parallel gateway", node.id, node.file)
            if node.id not in reachable:
                self.error(f"{node.kind_label} {node.label} can never be reached: no path from a start event "
                           "leads to it", node.id, node.file)
                continue
            if node.kind != "endEvent" and not graph.outgoing(node.id) and container.kind != "adHocSubProcess" \
                    and not graph.is_event_subprocess(node):
                self.error(f"{node.kind_label} {node.label} has no way out: connect it to the next step or "
                           "to an end event", node.id, node.file)
            elif node.id not in can_end and node.id in graph.before(node.id):
                # Only loops are reported here: a step that leads to a dead end is told so at the dead end.
                self.error(f"{node.kind_label} {node.label}: no path from here reaches an end event "
                           "(it loops for ever)", node.id, node.file)
            if node.kind in ("exclusiveGateway", "inclusiveGateway"):
                self._check_gateway(node)

    def _check_gateway(self, node: Node) -> None:
        flows = self.graph.outgoing(node.id)
        if len(flows) < 2:
            return
        default = node.element.get("default")
        for flow in flows:
            if flow.id != default and not (flow.condition or "").strip():
                self.error(f"flow {flow.id} from gateway {node.label} has no condition and is not the default "
                           "flow: give it a condition, or make it the default", flow.id, flow.file)
        if default is None:
            self.error(f"gateway {node.label} has no default flow: if no condition is true the process stops "
                       "with an error", node.id, node.file, severity="warning")

    # --- lanes ----------------------------------------------------------------------

    def _check_lanes(self) -> None:
        mapped = self.manifest.get("lanes", {}) or {}
        drawn = {lane.name for lane in self.graph.lanes.values()}
        for lane in self.graph.lanes.values():
            if not lane.name:
                self.error(f"lane {lane.id} has no name: name it, then choose its role", lane.id, lane.file)
            elif lane.name not in mapped:
                self.error(f"lane '{lane.name}' has no role: choose who works in it", lane.id, lane.file)
        for name, mapping in mapped.items():
            if name not in drawn:
                self.error(f"{MANIFEST_NAME} maps the lane '{name}', which the diagram does not have",
                           None, MANIFEST_NAME, severity="warning")
            person = (mapping or {}).get("person")
            if person and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", person):
                self.error(f"lane '{name}': the person key '{person}' is not a data name "
                           "(or a dotted path into one, such as action.reviewer)", None, MANIFEST_NAME)

    # --- data and expressions -------------------------------------------------------

    def _check_data(self) -> None:
        for node in self.graph.nodes.values():
            self._check_node_data(node)
        for flow in self.graph.flows.values():
            if (flow.condition or "").strip():
                source = self.graph.nodes.get(flow.source)
                if source is not None:
                    available = self.available_at(source) | self.produced(source)
                    self._check_code(flow.condition, False, available, f"the condition of flow {flow.id}",
                                     flow.id, flow.file)

    def _check_node_data(self, node: Node) -> None:
        element, available = node.element, self.available_at(node)
        label = f"{node.kind_label} {node.label}"
        for name in sorted(self._own_produced(node) & known_globals()):
            self.error(f"{label} stores data named '{name}', the name of a function scripts use: "
                       "SpiffWorkflow refuses such data; rename it", node.id, node.file)
        if spiff_text(element, "preScript"):
            self._check_code(spiff_text(element, "preScript"), True, available, f"the pre-script of {label}",
                             node.id, node.file)
        if spiff_text(element, "postScript"):
            self._check_code(spiff_text(element, "postScript"), True, available | self._form_fields(node),
                             f"the post-script of {label}", node.id, node.file)
        if node.kind == "scriptTask":
            script = element.find("bpmn:script", ALL_NS)
            self._check_code(script.text if script is not None else "", True, available,
                             f"the script of {label}", node.id, node.file)
        operator = service_operator(element)
        if operator is not None:
            for param in operator.findall(".//spiffworkflow:parameter", ALL_NS):
                self._check_code(param.get("value") or "", False, available,
                                 f"the parameter '{param.get('id')}' of {label}", node.id, node.file)
        loop = element.find("bpmn:multiInstanceLoopCharacteristics", ALL_NS)
        if loop is not None:
            self._check_loop(node, loop, available, label)
        for kind in TIMER_KINDS:
            for timer in element.findall(f"bpmn:timerEventDefinition/bpmn:{kind}", ALL_NS):
                self._check_timer(node, kind, timer.text or "", label)
        for condition in element.findall("bpmn:conditionalEventDefinition/bpmn:condition", ALL_NS):
            self._check_code(condition.text or "", False, available, f"the condition of {label}", node.id, node.file)
        properties = spiff_properties(element)
        for key in _CHECKED_PROPERTIES:
            if properties.get(key):
                root = properties[key].split(".")[0]
                if root not in available:
                    self._unknown(root, available, node, f"the {key} of {label}", severity="warning")
        person = (self.manifest.get("lanes", {}).get(node.lane or "") or {}).get("person")
        if node.kind == "userTask" and person and person.split(".")[0] not in available:
            self._unknown(person.split(".")[0], available, node, f"the person key of lane '{node.lane}' at {label}",
                          severity="warning")

    def _check_loop(self, node: Node, loop, available: set[str], label: str) -> None:
        collection = loop.find("bpmn:loopDataInputRef", ALL_NS)
        if collection is not None and (collection.text or "").strip() and collection.text.strip() not in available:
            self._unknown(collection.text.strip(), available, node, f"the collection {label} repeats over")
        for tag, what in (("loopCardinality", "number of instances"), ("completionCondition", "completion condition")):
            expression = loop.find(f"bpmn:{tag}", ALL_NS)
            if expression is not None and (expression.text or "").strip():
                self._check_code(expression.text, False, available | self.loop_item(node),
                                 f"the {what} of {label}", node.id, node.file)

    def _check_timer(self, node: Node, kind: str, expression: str, label: str) -> None:
        attached = self.graph.attached_to(node)
        available = self.available_at(self.graph.nodes[attached]) if attached in self.graph.nodes \
            else self.available_at(node)
        check = self._check_code(expression, False, available, f"the timer of {label}", node.id, node.file)
        if check is None or not check.reads <= set(self.samples):
            return  # unsafe, or reads data no example exists for: checked for safety and names only
        try:
            value = ServiceScriptEngine(ServiceContext(None, None, None)).environment.evaluate(
                expression, {name: self.samples[name] for name in check.reads})
        except Exception as error:  # the expression is safe; what it raises is the owner's to fix
            self.error(f"the timer of {label} does not evaluate: {type(error).__name__}: {error}", node.id, node.file)
            return
        problem = _timer_value_problem(kind, value)
        if problem:
            self.error(f"the timer of {label} evaluates to {value!r}, {problem}", node.id, node.file)

    def _check_code(self, source: str, script: bool, available: set[str], what: str, element_id, file):
        self._checked.add((element_id, (source or "").strip()))
        check = check_python(source, script=script)
        for problem in check.problems:
            self.error(f"{what}: {problem}", element_id, file, code="unsafe")
        if not check.safe:
            return None
        node = self.graph.nodes.get(element_id) or self.graph.nodes.get(
            self.graph.flows[element_id].source if element_id in self.graph.flows else "")
        for name in sorted(check.reads - available):
            self._unknown(name, available, node, what, element_id=element_id)
        return check

    def _unknown(self, name: str, available: set[str], node: Node | None, what: str,
                 severity: str = "error", element_id: str | None = None) -> None:
        """Say why `name` is not known where it is read, as precisely as the model allows."""
        element_id = element_id or (node.id if node else None)
        file = node.file if node else None
        producers = [n for n in self.graph.nodes.values() if name in self._own_produced(n)]
        close = difflib.get_close_matches(name, sorted(available), n=1, cutoff=0.88)
        if _ISO_LIKE.match(name):
            self.error(f"{what} reads {name} as data: write it in quotes, \"{name}\"", element_id, file, severity)
        elif producers:
            self.error(f"{what} reads '{name}', which only {', '.join(n.label for n in producers)} "
                       "produce(s), and not before this point", element_id, file, severity)
        elif close:
            self.error(f"{what} reads '{name}': no step or start data provides it; did you mean '{close[0]}'?",
                       element_id, file, severity)
        elif self.start_declared:
            self.error(f"{what} reads '{name}', which is neither start data ({MANIFEST_NAME} start_data) nor "
                       "produced by a step before this point", element_id, file, severity)
        else:
            self.inferred_start.add(name)

    def _check_other_code(self) -> None:
        """Code in places the checks above do not read with their data (a message payload, a loop
        condition, a correlation, ...): at least as safe, so it never runs when it is not."""
        for place in code_places(self.graph, self.documents):
            if (place.element_id, place.source.strip()) in self._checked:
                continue
            self._checked.add((place.element_id, place.source.strip()))
            for problem in check_python(place.source, script=place.script).problems:
                self.error(f"{place.what}: {problem}", place.element_id, place.file, code="unsafe")

    def _check_decisions(self) -> None:
        """Decision tables are Python too: their input expressions, the rules' entries (where
        `?` stands for the input, or a leading operator compares with it) and their outputs."""
        callers = {}
        for node in self.graph.nodes.values():
            if node.kind == "businessRuleTask":
                callers.setdefault(spiff_text(node.element, "calledDecisionId") or "", []).append(node.id)
        for file, decision in self.decisions:
            at = (callers.get(decision.get("id")) or [None])[0]
            what = f"decision '{decision.get('name') or decision.get('id')}' ({file})"
            for cell in decision.iter("{*}inputExpression", "{*}inputEntry", "{*}outputEntry"):
                text = (cell.findtext("{*}text") or "").strip()
                if not text or text == "-":
                    continue
                source = re.sub(r"\?(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmn_input", text)
                if etree.QName(cell).localname == "inputEntry" and not _parses(source):
                    source = f"dmn_input {source}"
                for problem in check_python(source, script=False).problems:
                    self.error(f"{what}, {etree.QName(cell).localname} {cell.get('id')}: {problem}", at, file,
                               code="unsafe")

    # --- what data exists where -----------------------------------------------------

    def available_at(self, node: Node) -> set[str]:
        """Data a step can read: its scope's data, what the steps before it produced, its loop item."""
        if node.id not in self._available:
            self._available[node.id] = set()  # a guard against subprocess cycles
            produced = set().union(*(self.produced(self.graph.nodes[n]) for n in self.graph.before(node.id)))
            self._available[node.id] = self._scope(node) | produced | self.loop_item(node)
        return self._available[node.id]

    def _scope(self, node: Node) -> set[str]:
        container = self.graph.container_of(node.id)
        if container.parent_node is None:
            return self.start if container.id == self.primary else self._all_produced() | self.start
        parent = self.graph.nodes[container.parent_node]
        scope = self.available_at(parent)
        if self.graph.is_event_subprocess(parent):
            scope = scope | self._all_produced_in(self.graph.container_of(parent.id))
        return scope

    def loop_item(self, node: Node) -> set[str]:
        item = node.element.find("bpmn:multiInstanceLoopCharacteristics/bpmn:inputDataItem", ALL_NS)
        return {item.get("name") or item.get("id")} if item is not None else set()

    def produced(self, node: Node) -> set[str]:
        """Names a step adds to the task data when it runs (a subprocess: all its steps')."""
        if node.id not in self._produced:
            self._produced[node.id] = set()  # a guard against call cycles
            names = set(self._own_produced(node))
            if node.kind in CONTAINERS:
                names |= self._all_produced_in(self.graph.containers[node.id])
            if node.kind == "callActivity" and node.element.get("calledElement") in self.graph.containers:
                names |= self._all_produced_in(self.graph.containers[node.element.get("calledElement")])
            self._produced[node.id] = names
        return self._produced[node.id]

    def _own_produced(self, node: Node) -> set[str]:
        if node.id not in self._own:
            self._own[node.id] = self._read_own_produced(node)
        return self._own[node.id]

    def _read_own_produced(self, node: Node) -> set[str]:
        element, names = node.element, set(self._form_fields(node))
        operator = service_operator(element)
        if operator is not None:
            names.add(operator.get("resultVariable") or f"spiff__{node.id.replace('-', '_')}_result")
        if node.kind == "scriptTask":
            script = element.find("bpmn:script", ALL_NS)
            names |= check_python(script.text if script is not None else "", script=True).writes
        for name in ("preScript", "postScript"):
            names |= check_python(spiff_text(element, name) or "", script=True).writes
        if node.kind == "businessRuleTask":
            names |= self.dmn_outputs.get(spiff_text(element, "calledDecisionId") or "", set())
        output = element.find("bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataOutputRef", ALL_NS)
        if output is not None and output.text:
            names.add(output.text.strip())
        return names

    def _form_fields(self, node: Node) -> set[str]:
        form = self.forms.get(spiff_properties(node.element).get("formJsonSchemaFilename", ""))
        return _schema_fields(form) if isinstance(form, dict) else set()

    def _all_produced_in(self, container) -> set[str]:
        return set().union(*(self.produced(self.graph.nodes[n]) for n in container.nodes))

    def _all_produced(self) -> set[str]:
        return set().union(*(self._own_produced(n) for n in self.graph.nodes.values()))

    @functools.cached_property
    def samples(self) -> dict:
        """Example values timers are evaluated with: declared start data examples and form answers."""
        samples = dict(self.start_examples)
        for node in self.graph.nodes.values():
            form = self.forms.get(spiff_properties(node.element).get("formJsonSchemaFilename", ""))
            for name, schema in ((form or {}).get("properties") or {}).items():
                samples.setdefault(name, _example(schema))
        return samples


def _schema_fields(schema: dict) -> set[str]:
    """Top-level answer names a form can produce, including those inside if/then/allOf."""
    names = set((schema.get("properties") or {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            if isinstance(part, dict):
                names |= _schema_fields(part)
    for key in ("then", "else"):
        if isinstance(schema.get(key), dict):
            names |= _schema_fields(schema[key])
    return names


def _example(schema: dict):
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return schema["enum"][0] if schema["enum"] else None
    kind = schema.get("type")
    if kind == "string":
        return clock.today().isoformat() if schema.get("format") == "date" else "example"
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "object":
        return {name: _example(sub) for name, sub in (schema.get("properties") or {}).items()}
    return [] if kind == "array" else None


def _timer_value_problem(kind: str, value) -> str | None:
    if not isinstance(value, str):
        return f"not text: a timer needs an ISO 8601 {_TIMER_WORDS[kind]} as text"
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif not isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime):
            return "a duration where a date and time is needed (use a duration timer instead)"
    except Exception:  # SpiffWorkflow's parsers raise bare exceptions for bad text
        return f"which is not an ISO 8601 {_TIMER_WORDS[kind]}"
    return None


_TIMER_WORDS = {"timeDate": "date and time (2027-01-31T09:00)", "timeDuration": "duration (\"P10D\")",
                "timeCycle": "repeating interval (\"R3/P1D\")"}


def _documents(files: dict[str, str], names: list[str]) -> dict[str, etree._Element]:
    documents = {}
    for name in names:
        try:
            documents[name] = etree.fromstring(files[name].encode())
        except (KeyError, etree.XMLSyntaxError):
            continue  # build_model has reported it
    return documents


def _forms(files: dict[str, str]) -> dict:
    forms = {}
    for path, text in files.items():
        if path.startswith("forms/"):
            try:
                forms[path[len("forms/"):]] = json.loads(text)
            except json.JSONDecodeError:
                continue  # build_model has reported it
    return forms


def _decisions(files: dict[str, str], manifest: dict) -> list[tuple[str, etree._Element]]:
    """Every decision of the model's DMN files, with the file it is in."""
    found = []
    for name in manifest.get("dmn_files", []):
        try:
            root = etree.fromstring(files[name].encode())
        except (KeyError, etree.XMLSyntaxError):
            continue  # build_model has reported it
        found += [(name, decision) for decision in root.iter("{*}decision")]
    return found


def _parses(source: str) -> bool:
    try:
        ast.parse(source, mode="eval")
    except SyntaxError:
        return False
    return True


def _at_lane(problem: Problem, graph: ModelGraph) -> Problem:
    """Registry problems about a lane's role name the lane; point them at the lane's element."""
    match = re.match(r"lane '(.+?)': ", problem.message)
    if problem.element_id is None and match:
        for lane in graph.lanes.values():
            if lane.name == match.group(1):
                return replace(problem, element_id=lane.id, file=lane.file)
    return problem
