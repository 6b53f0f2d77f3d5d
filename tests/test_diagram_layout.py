"""A model without diagram interchange gets a complete, valid diagram."""
from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, VALIDATOR

from engine.runtime.diagram_layout import NS, add_layout
from engine.runtime.registry import PROCESSES_DIR
from tests.test_timers import BPMN


def test_every_node_and_flow_is_drawn_and_the_model_still_validates():
    drawn = add_layout(BPMN.encode())
    root = etree.fromstring(drawn)
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert {"start", "wait", "follow_up", "end", "l"} <= shapes
    assert edges == {"f1", "f2", "f3"}
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(drawn, filename="drawn.bpmn")
    assert parser.get_spec("reminder") is not None


def test_a_model_that_has_a_diagram_is_left_alone():
    drawn = add_layout(BPMN.encode())
    assert add_layout(drawn) == drawn


def test_the_case_file_audit_model_ships_with_its_diagram():
    root = etree.parse(str(PROCESSES_DIR / "case_file_audit" / "case_file_audit.bpmn")).getroot()
    planes = {p.get("bpmnElement") for p in root.iterfind(".//bpmndi:BPMNPlane", NS)}
    assert planes == {"case_file_audit_collaboration", "carry_out_audit", "moderation", "review_actions"}
