"""Draw a BPMN model that has no diagram interchange (DI), so bpmn-js can show it.

Models written by hand, generated, or exported without DI are still executable but
cannot be displayed or edited in a modeler. `add_layout` places every flow node in
its lane, in columns by the longest path from the start, and routes sequence flows
with right-angle bends. Subprocesses are drawn collapsed, each with its own plane
(bpmn-js lets people drill down into them). A model that already has DI is returned
unchanged.
"""
from collections import defaultdict

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI}

NOT_FLOW_NODES = {"sequenceFlow", "laneSet", "extensionElements", "incoming", "outgoing",
                  "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "documentation",
                  "ioSpecification", "dataObject", "dataObjectReference", "property", "textAnnotation",
                  "association", "dataInputAssociation", "dataOutputAssociation"}
SIZES = {"task": (100, 80), "gateway": (50, 50), "event": (36, 36)}
COLUMN_WIDTH = 160
ROW_HEIGHT = 130
LANE_LABEL_WIDTH = 30
MARGIN = 60


def add_layout(xml: bytes) -> bytes:
    """Return `xml` with a diagram for each process and subprocess it lacks."""
    root = etree.fromstring(xml)
    if root.find("bpmndi:BPMNDiagram", NS) is not None:
        return xml
    collaboration = root.find("bpmn:collaboration", NS)
    for process in root.findall("bpmn:process", NS):
        plane_owner = collaboration if collaboration is not None else process
        _draw_container(root, plane_owner, process, lanes=_lanes(process), participant=_participant(collaboration, process))
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _draw_container(root, plane_owner, container, lanes, participant=None):
    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id=f"{container.get('id')}_diagram")
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"{container.get('id')}_plane",
                             bpmnElement=plane_owner.get("id"))
    nodes = [child for child in container if etree.QName(child).localname not in NOT_FLOW_NODES
             and isinstance(child.tag, str)]
    flows = container.findall("bpmn:sequenceFlow", NS)
    ranks = _ranks(nodes, flows)
    lane_names = list(lanes) or [None]
    lane_of = {node_id: lane for lane, ids in lanes.items() for node_id in ids}
    slots = defaultdict(list)  # (lane, rank) -> node ids stacked in that cell
    for node in nodes:
        slots[(lane_of.get(node.get("id"), lane_names[0]), ranks[node.get("id")])].append(node.get("id"))
    rows = {lane: max([len(ids) for (name, _), ids in slots.items() if name == lane] or [1]) for lane in lane_names}
    columns = max(ranks.values(), default=0) + 1
    left = MARGIN + (LANE_LABEL_WIDTH if lanes else 0)
    width = columns * COLUMN_WIDTH + MARGIN
    lane_top, top = {}, MARGIN
    for lane in lane_names:
        lane_top[lane] = top
        top += rows[lane] * ROW_HEIGHT
    if participant is not None:
        _shape(plane, participant.get("id"), MARGIN - LANE_LABEL_WIDTH, MARGIN, width + LANE_LABEL_WIDTH * 2, top - MARGIN,
               isHorizontal="true")
    if lanes:
        for lane_id, lane in zip(_lane_ids(container), lane_names):
            _shape(plane, lane_id, MARGIN, lane_top[lane], width + LANE_LABEL_WIDTH, rows[lane] * ROW_HEIGHT, isHorizontal="true")
    centres, sizes = {}, {}
    for (lane, rank), ids in slots.items():
        for index, node_id in enumerate(ids):
            cx = left + rank * COLUMN_WIDTH + COLUMN_WIDTH // 2
            cy = lane_top[lane] + index * ROW_HEIGHT + ROW_HEIGHT // 2
            centres[node_id] = (cx, cy)
    for node in nodes:
        node_id = node.get("id")
        w, h = SIZES[_kind(node)]
        sizes[node_id] = (w, h)
        cx, cy = centres[node_id]
        extra = {"isExpanded": "false"} if etree.QName(node).localname in ("subProcess", "transaction") else {}
        _shape(plane, node_id, cx - w // 2, cy - h // 2, w, h, **extra)
        if extra:
            _draw_container(root, node, node, lanes={})
    for flow in flows:
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        (sx, sy), (tx, ty) = centres[source], centres[target]
        points = _route((sx, sy), sizes[source], (tx, ty), sizes[target])
        edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow.get('id')}_di", bpmnElement=flow.get("id"))
        for x, y in points:
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=str(x), y=str(y))


def _route(source, source_size, target, target_size) -> list[tuple[int, int]]:
    """Right-angle waypoints; a flow that would cross the row it runs along goes beneath it."""
    (sx, sy), (tx, ty) = source, target
    start, end = (sx + source_size[0] // 2, sy), (tx - target_size[0] // 2, ty)
    if sy == ty and end[0] - start[0] <= COLUMN_WIDTH:
        return [start, end]
    if sy == ty:
        below = sy + ROW_HEIGHT // 2 - 8
        return [(sx, sy + source_size[1] // 2), (sx, below), (tx, below), (tx, ty + target_size[1] // 2)]
    middle = (start[0] + end[0]) // 2
    return [start, (middle, sy), (middle, ty), end]


def _ranks(nodes, flows) -> dict[str, int]:
    """Column of each node: the longest path to it from a node with no incoming flow."""
    outgoing = defaultdict(list)
    incoming_count = defaultdict(int)
    ids = [n.get("id") for n in nodes]
    for flow in flows:
        outgoing[flow.get("sourceRef")].append(flow.get("targetRef"))
        incoming_count[flow.get("targetRef")] += 1
    rank = {node_id: 0 for node_id in ids}
    remaining = dict(incoming_count)
    queue = [node_id for node_id in ids if incoming_count[node_id] == 0]
    while queue:
        current = queue.pop(0)
        for target in outgoing[current]:
            rank[target] = max(rank[target], rank[current] + 1)
            remaining[target] -= 1
            if remaining[target] == 0:
                queue.append(target)
    return rank


def _kind(node) -> str:
    name = etree.QName(node).localname
    if name.endswith("Gateway"):
        return "gateway"
    if name.endswith("Event"):
        return "event"
    return "task"


def _lanes(process) -> dict[str, list[str]]:
    return {lane.get("name") or lane.get("id"): [ref.text for ref in lane.findall("bpmn:flowNodeRef", NS)]
            for lane in process.findall("bpmn:laneSet/bpmn:lane", NS)}


def _lane_ids(process) -> list[str]:
    return [lane.get("id") for lane in process.findall("bpmn:laneSet/bpmn:lane", NS)]


def _participant(collaboration, process):
    if collaboration is None:
        return None
    for participant in collaboration.findall("bpmn:participant", NS):
        if participant.get("processRef") == process.get("id"):
            return participant
    return None


def _shape(plane, element_id, x, y, width, height, **attributes):
    shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id, **attributes)
    etree.SubElement(shape, f"{{{DC}}}Bounds", x=str(x), y=str(y), width=str(width), height=str(height))
