"""Validation finds what would go wrong before anyone runs a model, at the element it is about."""
import json

from engine.runtime.model_validation import validate_model
from engine.runtime.registry import PROCESSES_DIR, read_model_from_disk
from tests.model_samples import flow, process_files, user_task

START = '<bpmn:startEvent id="start"/>'
END = '<bpmn:endEvent id="end"/>'


def problems(files, severity="error") -> list[tuple[str | None, str]]:
    return [(p.element_id, p.message) for p in validate_model(files).problems if p.severity == severity]


def at(files, element_id) -> str:
    return " | ".join(message for where, message in problems(files) if where == element_id)


def straight(*steps: str, **options) -> dict:
    """start -> each step in order -> end."""
    ids = ["start", *[s.split('id="')[1].split('"')[0] for s in steps], "end"]
    return process_files(START + "".join(steps) + END + "".join(flow(a, b) for a, b in zip(ids, ids[1:])), **options)


def test_the_case_file_audit_is_valid():
    report = validate_model(read_model_from_disk(PROCESSES_DIR / "case_file_audit"))
    assert report.ok and report.model is not None, report.errors


def test_a_step_nothing_leads_to_and_one_with_no_way_out():
    files = process_files(START + user_task("observe") + user_task("orphan") + user_task("dead_end") + END +
                          flow("start", "observe") + flow("observe", "end") + flow("observe", "dead_end"))
    assert "can never be reached" in at(files, "orphan")
    assert "has no way out" in at(files, "dead_end")


def test_a_loop_with_no_exit_cannot_end():
    files = process_files(START + user_task("a") + user_task("b") + END + flow("start", "a") + flow("a", "b") +
                          flow("b", "a"))
    assert "no path from here reaches an end event" in at(files, "a")


def test_gateway_flows_need_conditions_and_a_default_is_advised():
    files = process_files(START + user_task("observe") + '<bpmn:exclusiveGateway id="choose"/>' + END +
                          '<bpmn:endEvent id="end2"/>' + flow("start", "observe") + flow("observe", "choose") +
                          flow("choose", "end", 'outcome == "good"') + flow("choose", "end2", flow_id="unguarded"))
    assert "has no condition and is not the default" in at(files, "unguarded")
    assert ("choose", ) == tuple(w for w, m in problems(files, "warning") if "no default flow" in m)


def test_a_lane_without_a_role_is_shown_at_the_lane():
    files = straight(user_task("observe"))
    manifest = json.loads(files["process.json"])
    manifest["lanes"] = {"QA lead": {"role": "wizard", "person": None}}
    files["process.json"] = json.dumps(manifest)
    assert "role 'wizard' is not a known role" in at(files, "lane_main")
    manifest["lanes"] = {}
    files["process.json"] = json.dumps(manifest)
    assert "lane 'QA lead' has no role" in at(files, "lane_main")


def test_user_tasks_need_a_form_that_exists():
    assert "names no form" in at(straight(user_task("observe", form="")), "observe")
    assert "form 'missing-schema.json' does not exist" in at(straight(user_task("observe", form="missing-schema.json")),
                                                          "observe")


def test_a_form_that_is_not_json_schema():
    files = straight(user_task("observe"), forms={"note-schema.json": {"type": "object", "properties": {"x": {"type": 3}}}})
    assert any("not a valid JSON Schema" in message for _, message in problems(files))


def timer(expression: str, kind: str = "timeDuration") -> str:
    return (f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:{kind}>{expression}'
            f'</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def test_timer_expressions_must_evaluate_to_iso_8601():
    assert at(straight(timer('"P10D"')), "wait") == ""
    assert "write it in quotes" in at(straight(timer("P10D")), "wait")
    assert "which is not an ISO 8601 duration" in at(straight(timer('"ten days"')), "wait")
    assert "which is not an ISO 8601 date and time" in at(straight(timer('"next tuesday"', "timeDate")), "wait")
    assert "does not evaluate: ZeroDivisionError" in at(straight(timer("str(1 / 0)")), "wait")


def test_a_timer_reading_a_form_answer_is_evaluated_with_an_example_answer():
    due_form = {"type": "object", "properties": {"visit_on": {"type": "string", "format": "date"}}}
    good = straight(user_task("plan", form="due-schema.json"), timer('visit_on + "T09:00:00"', "timeDate"),
                    forms={"due-schema.json": due_form})
    assert at(good, "wait") == ""
    bad = straight(user_task("plan", form="due-schema.json"), timer("visit_on", "timeDuration"),
                   forms={"due-schema.json": due_form})
    assert "which is not an ISO 8601 duration" in at(bad, "wait")


def test_conditions_read_only_data_produced_before_them():
    body = (START + user_task("observe") + '<bpmn:exclusiveGateway id="choose" default="to_end"/>' +
            user_task("later", form="late-schema.json") + END +
            flow("start", "observe") + flow("observe", "choose") + flow("choose", "later", "verdict == 'yes'", "to_later") +
            flow("choose", "end", flow_id="to_end") + flow("later", "end"))
    files = process_files(body, forms={"note-schema.json": {"type": "object", "properties": {"outcome": {"type": "string"}}},
                                       "late-schema.json": {"type": "object", "properties": {"verdict": {"type": "string"}}}})
    assert "reads 'verdict', which only 'later' (later) produce(s), and not before this point" in at(files, "to_later")
    typo = files | {"sample.bpmn": files["sample.bpmn"].replace("verdict == 'yes'", "outcme == 'yes'")}
    assert "did you mean 'outcome'?" in at(typo, "to_later")


def test_declared_start_data_makes_unknown_names_errors():
    files = straight(timer("reminder_after"), start_data=["audit_due"])
    assert "reads 'reminder_after', which is neither start data" in at(files, "wait")
    inferred = straight(timer("reminder_after"))
    assert at(inferred, "wait") == ""
    assert any("reminder_after" in message for _, message in problems(inferred, "warning"))


def test_unsafe_expressions_and_scripts_are_errors_at_their_element():
    script = ('<bpmn:scriptTask id="tidy"><bpmn:script>import os\nos.system("id")</bpmn:script></bpmn:scriptTask>')
    assert "imports are not allowed" in at(straight(script), "tidy")
    files = process_files(START + '<bpmn:exclusiveGateway id="g" default="b"/>' + END + '<bpmn:endEvent id="e2"/>' +
                          flow("start", "g") + flow("g", "end", "().__class__.__base__", "a") + flow("g", "e2", flow_id="b"))
    assert "'.__class__' is not allowed" in at(files, "a")
    assert all(p.code == "unsafe" for p in validate_model(files).errors)


def test_data_named_like_a_function_is_refused():
    files = straight(user_task("observe", form="clash-schema.json"),
                     forms={"clash-schema.json": {"type": "object", "properties": {"date": {"type": "string"}}}})
    assert "stores data named 'date'" in at(files, "observe")


def test_service_operations_and_their_parameters_are_checked():
    service = ('<bpmn:serviceTask id="store"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="no_such_op" '
               'resultVariable="stored"><spiffworkflow:parameters><spiffworkflow:parameter id="audit_id" type="int" '
               'value="audit_idd"/></spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
               '</bpmn:extensionElements></bpmn:serviceTask>')
    message = at(straight(service, start_data=["audit_id"]), "store")
    assert "unknown operation 'no_such_op'" in message and "did you mean 'audit_id'?" in message


def test_a_missing_call_activity_target():
    call = '<bpmn:callActivity id="checklist" calledElement="home_visit_checklist"/>'
    assert any("The process 'home_visit_checklist' was not found" in m for _, m in problems(straight(call)))


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="priority_definitions" name="Priority"
  namespace="http://bpmn.io/schema/dmn">
  <decision id="priority_decision" name="Priority">
    <decisionTable id="priority_table">
      <input id="grade_input" label="Outcome"><inputExpression id="grade_expression" typeRef="string">
        <text>outcome</text></inputExpression></input>
      <output id="priority_output" label="Priority" name="priority" typeRef="string"/>
      <rule id="concern_rule"><inputEntry id="concern_entry"><text>"concern"</text></inputEntry>
        <outputEntry id="concern_output"><text>"high"</text></outputEntry></rule>
      <rule id="other_rule"><inputEntry id="other_entry"><text></text></inputEntry>
        <outputEntry id="other_output"><text>"normal"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def test_a_decision_table_builds_and_its_outputs_are_data():
    rule = ('<bpmn:businessRuleTask id="decide"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
            'priority_decision</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>')
    body = (START + user_task("observe") + rule + '<bpmn:exclusiveGateway id="g" default="normal"/>' + END +
            '<bpmn:endEvent id="urgent"/>' + flow("start", "observe") + flow("observe", "decide") + flow("decide", "g") +
            flow("g", "urgent", 'priority == "high"', "high") + flow("g", "end", flow_id="normal"))
    files = process_files(body, dmn={"priority.dmn": DMN})
    report = validate_model(files)
    assert report.ok and report.model is not None, report.errors
    missing = process_files(body)
    assert any("priority_decision" in p.message for p in validate_model(missing).errors)


def test_decision_table_expressions_pass_the_safety_check():
    rule = ('<bpmn:businessRuleTask id="decide"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
            'priority_decision</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>')
    unsafe = DMN.replace('<text>"high"</text>', "<text>().__class__.__name__</text>").replace(
        '<text>"concern"</text>', "<text>&gt; ().__class__</text>")
    files = process_files('<bpmn:startEvent id="start"/>' + user_task("observe") + rule + END + flow("start", "observe")
                          + flow("observe", "decide") + flow("decide", "end"), dmn={"priority.dmn": unsafe})
    messages = at(files, "decide")
    assert "outputEntry concern_output: line 1: '.__name__' is not allowed" in messages
    assert "inputEntry concern_entry: line 1: '.__class__' is not allowed" in messages
