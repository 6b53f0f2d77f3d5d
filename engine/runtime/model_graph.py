"""A model's BPMN as a graph of elements: what validation, comparison and import read.

SpiffWorkflow parses only what can be reached from a start event, and its specs drop
what it does not run; checking a model needs every element as drawn, with its id, its
lane and the container (process or subprocess) it sits in. `ModelGraph` reads the XML of
every BPMN file of a model into nodes, sequence flows and lanes, and answers the graph
questions the checks ask: what can be reached, what can end, what comes before what.
"""
import re
from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree

from engine.runtime.diagram_layout import BPMN, NS

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ALL_NS = {**NS, "spiffworkflow": SPIFF}

ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
FLOW_NODES = ACTIVITIES | GATEWAYS | EVENTS
CONTAINERS = {"subProcess", "transaction", "adHocSubProcess"}
# Children of a process that are not steps: drawn or described, never run.
NOT_STEPS = {"sequenceFlow", "laneSet", "extensionElements", "documentation", "ioSpecification", "dataObject",
             "dataObjectReference", "dataStoreReference", "property", "textAnnotation", "association",
             "group", "category", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
             "incoming", "outgoing", "dataInputAssociation", "dataOutputAssociation", "ioBinding"}


@dataclass
class Node:
    """One flow node (task, gateway or event) as drawn."""
    id: str
    kind: str
    name: str
    element: etree._Element
    container: str
    lane: str | None
    file: str

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.id})" if self.name else f"'{self.id}'"

    @property
    def kind_label(self) -> str:
        """'user task' for userTask: how people name the kind of step."""
        return re.sub(r"(?<!^)(?=[A-Z])", " ", self.kind).lower()


@dataclass
class Flow:
    id: str
    source: str
    target: str
    condition: str | None
    element: etree._Element
    container: str
    file: str


@dataclass
class Container:
    """A process or a subprocess: the scope its nodes and flows live in."""
    id: str
    kind: str
    element: etree._Element
    file: str
    parent_node: str | None  # the subprocess node, None for a process
    nodes: list[str] = field(default_factory=list)


@dataclass
class Lane:
    id: str
    name: str
    file: str


class ModelGraph:
    """Every process, subprocess, flow node, sequence flow and lane of a set of BPMN files."""

    def __init__(self, documents: dict[str, etree._Element]):
        self.nodes: dict[str, Node] = {}
        self.flows: dict[str, Flow] = {}
        self.containers: dict[str, Container] = {}
        self.lanes: dict[str, Lane] = {}
        self.others: list[tuple[str, etree._Element, str, str]] = []  # (container, element, kind, file)
        self._outgoing = defaultdict(list)
        self._incoming = defaultdict(list)
        self._boundary = defaultdict(list)
        for file, root in documents.items():
            for process in root.findall("bpmn:process", NS):
                self._read_container(process, "process", file, parent_node=None, lane=None)

    # --- questions ------------------------------------------------------------------

    def processes(self) -> list[Container]:
        return [c for c in self.containers.values() if c.kind == "process"]

    def outgoing(self, node_id: str) -> list[Flow]:
        return self._outgoing[node_id]

    def incoming(self, node_id: str) -> list[Flow]:
        return self._incoming[node_id]

    def successors(self, node_id: str) -> list[str]:
        """Where a token can go next: along sequence flows, or out through a boundary event."""
        return [flow.target for flow in self._outgoing[node_id]] + self._boundary[node_id]

    def attached_to(self, node: Node) -> str | None:
        return node.element.get("attachedToRef") if node.kind == "boundaryEvent" else None

    def roots(self, container: Container) -> list[str]:
        """Where a container's tokens come from: start events, event subprocesses, and every
        node of an ad hoc subprocess (any of them may be started)."""
        if container.kind == "adHocSubProcess":
            return list(container.nodes)
        return [n for n in container.nodes
                if self.nodes[n].kind == "startEvent" or self.is_event_subprocess(self.nodes[n])]

    def reachable(self, container: Container) -> set[str]:
        return self._walk(self.roots(container), self.successors)

    def can_end(self, container: Container) -> set[str]:
        """Nodes from which some path reaches an end event (or, ad hoc, that may simply finish)."""
        ends = [n for n in container.nodes if self.nodes[n].kind == "endEvent"
                or container.kind == "adHocSubProcess" or self.is_event_subprocess(self.nodes[n])]
        return self._walk(ends, self.predecessors)

    def predecessors(self, node_id: str) -> list[str]:
        node = self.nodes[node_id]
        attached = self.attached_to(node)
        return [flow.source for flow in self._incoming[node_id]] + ([attached] if attached else [])

    def before(self, node_id: str) -> set[str]:
        """Nodes of the same container that some path runs through on the way to `node_id`
        (including itself when it sits on a loop)."""
        return self._walk(self.predecessors(node_id), self.predecessors)

    def is_event_subprocess(self, node: Node) -> bool:
        return node.kind == "subProcess" and node.element.get("triggeredByEvent") == "true"

    def container_of(self, node_id: str) -> Container:
        return self.containers[self.nodes[node_id].container]

    def element_kind(self, element_id: str) -> str | None:
        if element_id in self.nodes:
            return self.nodes[element_id].kind
        if element_id in self.flows:
            return "sequenceFlow"
        return "lane" if element_id in self.lanes else None

    # --- reading --------------------------------------------------------------------

    def _read_container(self, element, kind: str, file: str, parent_node: str | None, lane: str | None) -> None:
        container = Container(element.get("id"), kind, element, file, parent_node)
        self.containers[container.id] = container
        lanes_of = self._read_lanes(element, file)
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child)
            local = name.localname
            if name.namespace != BPMN or local in NOT_STEPS:
                if local == "sequenceFlow" and name.namespace == BPMN:
                    self._add_flow(child, container, file)
                continue
            if local not in FLOW_NODES:
                self.others.append((container.id, child, local, file))
                continue
            node = Node(child.get("id"), local, child.get("name") or "", child, container.id,
                        lanes_of.get(child.get("id"), lane), file)
            self.nodes[node.id] = node
            container.nodes.append(node.id)
            if local == "boundaryEvent" and child.get("attachedToRef"):
                self._boundary[child.get("attachedToRef")].append(node.id)
            if local in CONTAINERS:
                self._read_container(child, local, file, parent_node=node.id, lane=node.lane)

    def _read_lanes(self, container_element, file: str) -> dict[str, str]:
        lane_of = {}
        for lane in container_element.findall("bpmn:laneSet//bpmn:lane", NS):
            name = lane.get("name") or ""
            self.lanes[lane.get("id")] = Lane(lane.get("id"), name, file)
            for ref in lane.findall("bpmn:flowNodeRef", NS):
                if ref.text:
                    lane_of[ref.text.strip()] = name or None
        return lane_of

    def _add_flow(self, element, container: Container, file: str) -> None:
        condition = element.find("bpmn:conditionExpression", NS)
        flow = Flow(element.get("id"), element.get("sourceRef"), element.get("targetRef"),
                    condition.text if condition is not None else None, element, container.id, file)
        self.flows[flow.id] = flow
        self._outgoing[flow.source].append(flow)
        self._incoming[flow.target].append(flow)

    @staticmethod
    def _walk(starts, step) -> set[str]:
        seen, queue = set(), list(starts)
        while queue:
            current = queue.pop()
            if current in seen:
                continue
            seen.add(current)
            queue.extend(step(current))
        return seen


def spiff_properties(element) -> dict[str, str]:
    """The `spiffworkflow:property` name/value pairs of an element."""
    return {prop.get("name"): prop.get("value") or ""
            for prop in element.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", ALL_NS)}


def spiff_text(element, name: str) -> str | None:
    """The text of a `spiffworkflow:<name>` extension (instructions, pre-/post-script...)."""
    found = element.find(f"bpmn:extensionElements/spiffworkflow:{name}", ALL_NS)
    return found.text if found is not None else None


def service_operator(element):
    return element.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", ALL_NS)
