"""The case file audit model's timers: where they are, that they evaluate, and that the
diagram still draws every element (so the process owner can see and edit them)."""
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.qa.timescales import working_days_after
from engine.runtime.registry import PROCESSES_DIR, build_model, read_model_from_disk
from engine.runtime.services import ServiceContext, ServiceScriptEngine

MODEL_DIR = PROCESSES_DIR / "case_file_audit"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
# Host of each timer, what it calls, and the stage it watches: written out from the issue, not read from the model.
EXPECTED_TIMERS = {
    "audit_reminder_due": ("carry_out_audit", "send_reminder"),
    "audit_overdue": ("carry_out_audit", "mark_overdue"),
    "audit_long_overdue": ("carry_out_audit", "escalate_overdue"),
    "moderation_reminder_due": ("moderation", "send_reminder"),
    "moderation_overdue": ("moderation", "mark_overdue"),
    "moderation_long_overdue": ("moderation", "escalate_overdue"),
    "acknowledgement_reminder_due": ("acknowledge_escalation", "send_reminder"),
    "acknowledgement_overdue": ("acknowledge_escalation", "mark_overdue"),
    "moderated_acknowledgement_reminder_due": ("acknowledge_moderated_escalation", "send_reminder"),
    "moderated_acknowledgement_overdue": ("acknowledge_moderated_escalation", "mark_overdue"),
    "action_reminder_due": ("review_action", "send_reminder"),
    "action_overdue": ("review_action", "mark_overdue"),
    "action_long_overdue": ("review_action", "escalate_overdue"),
}


def _root():
    return etree.parse(str(MODEL_DIR / "case_file_audit.bpmn")).getroot()


def test_every_timer_is_a_non_interrupting_boundary_event_leading_to_its_operation():
    root = _root()
    boundary = {e.get("id"): e for e in root.iterfind(".//bpmn:boundaryEvent", NS)}
    assert set(boundary) == set(EXPECTED_TIMERS)
    for event_id, (host, operation) in EXPECTED_TIMERS.items():
        event = boundary[event_id]
        assert event.get("attachedToRef") == host and event.get("cancelActivity") == "false", event_id
        flow = root.find(f".//bpmn:sequenceFlow[@sourceRef='{event_id}']", NS)
        task = root.find(f".//bpmn:serviceTask[@id='{flow.get('targetRef')}']", NS)
        assert task.find(".//{*}serviceTaskOperator").get("id") == operation, event_id


def test_every_timer_expression_evaluates_to_a_working_day_moment():
    model = build_model(read_model_from_disk(MODEL_DIR))
    data = {"audit_due": "2026-12-30", "moderation_due": "2027-01-14", "escalation": {"due_on": "2026-12-10"},
            "action": {"due_on": "2027-01-11"}}
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs,
                            script_engine=ServiceScriptEngine(ServiceContext(None, None, None)))
    task = workflow.get_next_task(state=TaskState.READY)
    task.data.update(data)
    timers = {spec.bpmn_id: spec.event_definition for process in (model.spec, *model.subprocess_specs.values())
              for spec in process.task_specs.values()
              if isinstance(getattr(spec, "event_definition", None), TimeDateEventDefinition)}
    assert set(timers) == set(EXPECTED_TIMERS)
    moments = {name: workflow.script_engine.evaluate(task, timer.expression) for name, timer in timers.items()}
    assert moments["audit_overdue"] == working_days_after("2026-12-30", 1) == "2026-12-31T08:00:00+00:00"
    assert moments["moderated_acknowledgement_reminder_due"] == "2026-12-10T08:00:00+00:00"
    assert moments["action_long_overdue"] == "2027-01-19T08:00:00+00:00"


def test_the_diagram_draws_every_element_and_flow():
    root = _root()
    drawn = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)} | \
            {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    elements = {node.get("id") for node in root.iter() if isinstance(node.tag, str) and node.get("id")
                and etree.QName(node).localname in (
                    "startEvent", "endEvent", "boundaryEvent", "userTask", "serviceTask", "subProcess",
                    "exclusiveGateway", "parallelGateway", "sequenceFlow", "lane")}
    assert elements - drawn == set()
