"""No place in a model can run code on the server (issue 9).

For each place a model can hold Python — the ones SpiffWorkflow evaluates and the ones the
BPMN standard defines as expressions — a model carrying an attribute walk to os.system is
refused at its element on upload, on saving in the editor, in the sandbox and on
publishing; and a version stored without validation (as if the checks were bypassed)
still cannot run it: the live instance stops in `error`, and no marker file appears.
"""
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from engine.runtime.instances import complete_task, start_instance
from engine.runtime.model_drafts import DraftError, create_draft, publish_draft, save_draft
from engine.runtime.model_import import ImportRefused, export_zip, read_upload
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.registry import ModelError, publish
from engine.runtime.sandbox import SandboxRefused, Scenario, run
from tests import scoring_model  # noqa: F401  (registers the service operation the service task names)
from tests.conftest import user_named
from tests.model_samples import flow, process_files

START, END = '<bpmn:startEvent id="start"/>', '<bpmn:endEvent id="end"/>'
SAFE_SCRIPT = "<bpmn:script>done = 1</bpmn:script>"


def attack(marker) -> str:
    return ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__=='_wrap_close'][0]"
            f".__init__.__globals__['system']('touch {marker}')")


def straight(step: str, step_id: str = "evil") -> str:
    return START + step + END + flow("start", step_id) + flow(step_id, "end")


def script_task(inner: str = "", script: str = SAFE_SCRIPT, extensions: str = "") -> str:
    extension = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>" if extensions else ""
    return f'<bpmn:scriptTask id="evil" name="Evil step">{extension}{inner}{script}</bpmn:scriptTask>'


def plain_task(extensions: str) -> str:
    """A task with no kind (it runs straight through): SpiffWorkflow runs pre- and post-scripts on it."""
    return f'<bpmn:task id="evil" name="Evil step"><bpmn:extensionElements>{extensions}</bpmn:extensionElements></bpmn:task>'


def definitions(files: dict, top: str) -> dict:
    """`files` with `top` (messages, signals, correlation properties) added to the diagram's definitions."""
    bpmn = files["sample.bpmn"]
    at = bpmn.index("<bpmn:process ")
    return {**files, "sample.bpmn": bpmn[:at] + top + bpmn[at:]}


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="Priority" namespace="http://bpmn.io/schema/dmn">
  <decision id="priority_decision" name="Priority"><decisionTable id="priority_table">
    <input id="outcome_input" label="Outcome"><inputExpression id="outcome_expression" typeRef="string">
      <text>outcome</text></inputExpression></input>
    <output id="priority_output" label="Priority" name="priority" typeRef="string"/>
    <rule id="first_rule"><inputEntry id="first_entry"><text>{entry}</text></inputEntry>
      <outputEntry id="first_output"><text>{output}</text></outputEntry></rule>
  </decisionTable></decision>
</definitions>"""
DECIDE = ('<bpmn:businessRuleTask id="evil" name="Decide"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
          'priority_decision</spiffworkflow:calledDecisionId></bpmn:extensionElements></bpmn:businessRuleTask>')
MESSAGE_THROW = ('<bpmn:intermediateThrowEvent id="evil" name="Tell the team"><bpmn:messageEventDefinition '
                 'id="evil_message" messageRef="note_message">{payload}</bpmn:messageEventDefinition>'
                 '</bpmn:intermediateThrowEvent>')


@dataclass
class Place:
    name: str
    build: object          # code -> model files
    named: str             # what the message names
    evaluated: bool = True  # SpiffWorkflow evaluates it (others are refused though SpiffWorkflow ignores them)
    start_data: dict | None = None
    answer: dict | None = None  # the answer a person gives the step before its code runs
    live_named: str = "evil"    # the element a live instance's error names


def with_data_object(association: str) -> dict[str, str]:
    """A script task joined to a data object by `association` (SpiffWorkflow reads only its references)."""
    return process_files('<bpmn:dataObject id="notes"/><bpmn:dataObjectReference id="notes_ref" dataObjectRef="notes"/>'
                         + straight(script_task(association)))


def _payload(code):
    return f"<bpmn:extensionElements><spiffworkflow:messagePayload>{code}</spiffworkflow:messagePayload></bpmn:extensionElements>"


PLACES = [
    Place("script task", lambda c: process_files(straight(script_task(script=f"<bpmn:script>{c}</bpmn:script>"))),
          "script task 'Evil step' (evil)"),
    Place("pre-script", lambda c: process_files(straight(plain_task(
        f"<spiffworkflow:preScript>{c}</spiffworkflow:preScript>"))), "pre-script of task 'Evil step' (evil)"),
    Place("post-script", lambda c: process_files(straight(
        '<bpmn:userTask id="evil" name="Evil step"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="note-schema.json"/></spiffworkflow:properties>'
        f'<spiffworkflow:postScript>{c}</spiffworkflow:postScript></bpmn:extensionElements></bpmn:userTask>')),
          "post-script of user task 'Evil step' (evil)", answer={"note": "Seen"}),
    Place("gateway condition", lambda c: process_files(
        START + '<bpmn:exclusiveGateway id="g" default="safe"/>' + END + '<bpmn:endEvent id="other"/>'
        + flow("start", "g") + f'<bpmn:sequenceFlow id="evil" sourceRef="g" targetRef="other"><bpmn:conditionExpression>'
        f'{c}</bpmn:conditionExpression></bpmn:sequenceFlow>' + flow("g", "end", flow_id="safe")), "flow evil", live_named="g"),
    Place("loop condition", lambda c: process_files(straight(script_task(
        f"<bpmn:standardLoopCharacteristics><bpmn:loopCondition>{c}</bpmn:loopCondition>"
        "</bpmn:standardLoopCharacteristics>"))), "loop condition of script task 'Evil step'"),
    Place("multi-instance cardinality", lambda c: process_files(straight(script_task(
        f'<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>{c}</bpmn:loopCardinality>'
        '</bpmn:multiInstanceLoopCharacteristics>'))), "number of instances of script task 'Evil step'"),
    Place("multi-instance completion condition", lambda c: process_files(straight(script_task(
        '<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>2</bpmn:loopCardinality>'
        f'<bpmn:completionCondition>{c}</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>'))),
          "completion condition of script task 'Evil step'"),
    Place("message payload", lambda c: definitions(process_files(straight(MESSAGE_THROW.format(payload=_payload(c)))),
                                                   '<bpmn:message id="note_message" name="note"/>'),
          "message payload of intermediate throw event 'Tell the team' (evil)"),
    Place("message payload on the message", lambda c: definitions(
        process_files(straight(MESSAGE_THROW.format(payload=""))),
        f'<bpmn:message id="note_message" name="note">{_payload(c)}</bpmn:message>'),
          "message payload of message 'note' (note_message)"),
    Place("message correlation", lambda c: definitions(
        process_files(straight(MESSAGE_THROW.format(payload=_payload("{'case': 1}")))),
        '<bpmn:message id="note_message" name="note"/><bpmn:correlationProperty id="evil_key" name="evil_key">'
        '<bpmn:correlationPropertyRetrievalExpression messageRef="note_message">'
        f'<bpmn:formalExpression>{c}</bpmn:formalExpression></bpmn:correlationPropertyRetrievalExpression>'
        '</bpmn:correlationProperty>'), "correlation property 'evil_key' (evil_key)"),
    Place("signal payload", lambda c: definitions(process_files(straight(
        '<bpmn:intermediateThrowEvent id="evil" name="Signal"><bpmn:signalEventDefinition signalRef="evil_signal"/>'
        '</bpmn:intermediateThrowEvent>')),
        '<bpmn:signal id="evil_signal" name="done"><bpmn:extensionElements>'
        f'<spiffworkflow:payloadExpression>{c}</spiffworkflow:payloadExpression></bpmn:extensionElements></bpmn:signal>'),
          "payload of signal 'done' (evil_signal)"),
    Place("timer expression", lambda c: process_files(straight(
        '<bpmn:intermediateCatchEvent id="evil" name="Wait"><bpmn:timerEventDefinition>'
        f'<bpmn:timeDuration>{c}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')),
          "timer of intermediate catch event 'Wait' (evil)"),
    Place("conditional event", lambda c: process_files(straight(
        '<bpmn:intermediateCatchEvent id="evil" name="When"><bpmn:conditionalEventDefinition>'
        f'<bpmn:condition>{c}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>')),
          "condition of intermediate catch event 'When' (evil)"),
    Place("DMN input entry", lambda c: process_files(straight(DECIDE), dmn={
        "priority.dmn": DMN.format(entry=c, output='"high"')}, start_data=["outcome"]), "inputEntry first_entry",
          start_data={"outcome": "concern"}),
    Place("DMN output entry", lambda c: process_files(straight(DECIDE), dmn={
        "priority.dmn": DMN.format(entry="", output=c)}, start_data=["outcome"]), "outputEntry first_output",
          start_data={"outcome": "concern"}),
    Place("DMN input expression", lambda c: process_files(straight(DECIDE), dmn={
        "priority.dmn": DMN.format(entry='"concern"', output='"high"').replace("<text>outcome</text>", f"<text>{c}</text>")},
        start_data=["outcome"]), "inputExpression outcome_expression", start_data={"outcome": "concern"}),
    Place("service task parameter", lambda c: process_files(straight(
        '<bpmn:serviceTask id="evil" name="Record"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
        'id="test_record_score" resultVariable="recorded"><spiffworkflow:parameters><spiffworkflow:parameter '
        f'id="score" type="str" value="{c}"/></spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
        '</bpmn:extensionElements></bpmn:serviceTask>')), "parameter 'score' of service task 'Record' (evil)"),
    Place("data input association", lambda c: with_data_object(
        '<bpmn:dataInputAssociation id="evil_in"><bpmn:sourceRef>notes_ref</bpmn:sourceRef><bpmn:targetRef>evil'
        f'</bpmn:targetRef><bpmn:transformation>{c}</bpmn:transformation></bpmn:dataInputAssociation>'),
          "data transformation of script task 'Evil step' (evil)", evaluated=False),
    Place("data output association", lambda c: with_data_object(
        '<bpmn:dataOutputAssociation id="evil_out"><bpmn:targetRef>notes_ref</bpmn:targetRef><bpmn:assignment>'
        f'<bpmn:from>{c}</bpmn:from><bpmn:to>notes</bpmn:to></bpmn:assignment></bpmn:dataOutputAssociation>'),
          "assignment of script task 'Evil step' (evil)", evaluated=False),
]


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "MARKER"


def carrying(place: Place, marker) -> dict[str, str]:
    return place.build(escape(attack(marker), {'"': "&quot;"}))


@pytest.mark.parametrize("place", PLACES, ids=[p.name for p in PLACES])
def test_model_code_is_refused_at_its_element_before_it_runs(session, place, marker):
    files = carrying(place, marker)
    owner = user_named(session, "process.owner")

    with pytest.raises(ImportRefused) as refused:
        read_upload("sample.zip", export_zip(files))
    assert any(place.named in problem for problem in refused.value.problems), \
        refused.value.problems

    draft = create_draft(session, process_files(straight(script_task())), owner)
    draft, report = save_draft(session, "sample", owner, draft.revision, files)
    unsafe = [p for p in report.errors if p.code == "unsafe"]
    assert unsafe and any(place.named in p.message for p in unsafe), report.errors
    assert all(p.element_id for p in unsafe)  # shown at an element in the modeler

    with pytest.raises(SandboxRefused) as refused:
        run(files, Scenario(start_data=place.start_data or {}))
    assert any(place.named in problem for problem in refused.value.problems)

    with pytest.raises(DraftError) as refused:
        publish_draft(session, "sample", owner, draft.revision, "Try to publish it")
    assert any(place.named in problem for problem in refused.value.problems)
    assert not marker.exists()


@pytest.mark.parametrize("place", PLACES, ids=[p.name for p in PLACES])
def test_model_code_stored_without_validation_still_never_runs(session, place, marker):
    publish(session, carrying(place, marker))  # as if every check before publishing had been bypassed
    instance = start_instance(session, "sample", place.start_data or {}, actor_id=None)
    session.commit()
    if place.answer is not None:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready"))
        complete_task(session, task.id, user_named(session, "qa.lead"), place.answer)
        session.commit()
    assert not marker.exists()
    row = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance.id))
    if place.evaluated:
        assert row.status == "error"
        assert f"({place.live_named}) failed: ModelCodeRefused: this code is not allowed to run" in row.last_error


def test_a_multi_instance_collection_is_a_data_name_that_can_never_hold_code(session, marker):
    """The BPMN schema makes loopDataInputRef a name: an expression there is refused at upload, and
    cannot even be stored past validation (SpiffWorkflow only ever looks the name up in the data)."""
    files = process_files(straight(script_task(
        f'<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>{escape(attack(marker))}'
        '</bpmn:loopDataInputRef><bpmn:inputDataItem id="item" name="item"/></bpmn:multiInstanceLoopCharacteristics>')))
    with pytest.raises(ImportRefused) as refused:
        read_upload("sample.zip", export_zip(files))
    assert any("loopDataInputRef" in problem and "line 1" in problem for problem in refused.value.problems)
    with pytest.raises(ModelError):
        publish(session, files)
    assert not marker.exists()
