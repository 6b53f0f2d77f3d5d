"""A small scoring model whose script and service operation fail on request, shared by the
tests of the error state and of administration (one module, so one registered operation)."""
import json

import pytest
from sqlalchemy import select

from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.instances import complete_task, start_instance
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.registry import publish
from engine.runtime.services import service_operation
from tests.conftest import user_named

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="scoring" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="QA lead">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>enter_score</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>record</bpmn:flowNodeRef><bpmn:flowNodeRef>compute_band</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>which_band</bpmn:flowNodeRef><bpmn:flowNodeRef>review_high</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end_high</bpmn:flowNodeRef><bpmn:flowNodeRef>end_low</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="enter_score" name="Enter the score">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="score-schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:serviceTask id="record" name="Record the score">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="test_record_score" resultVariable="recorded">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="score" type="str" value="score"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:scriptTask id="compute_band" name="Work out the band">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>band = "high" if int(score) &gt;= 5 else "low"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="which_band" name="High band?" default="f6">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing><bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="review_high" name="Review a high score">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="score-schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end_high"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_low"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enter_score" />
    <bpmn:sequenceFlow id="f2" sourceRef="enter_score" targetRef="record" />
    <bpmn:sequenceFlow id="f3" sourceRef="record" targetRef="compute_band" />
    <bpmn:sequenceFlow id="f4" sourceRef="compute_band" targetRef="which_band" />
    <bpmn:sequenceFlow id="f5" sourceRef="which_band" targetRef="review_high">
      <bpmn:conditionExpression>band == "high"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f6" sourceRef="which_band" targetRef="end_low" />
    <bpmn:sequenceFlow id="f7" sourceRef="review_high" targetRef="end_high" />
  </bpmn:process>
</bpmn:definitions>"""

FILES = {
    "process.json": json.dumps({"key": "scoring", "name": "Scoring", "bpmn_process_id": "scoring",
                                "bpmn_files": ["scoring.bpmn"], "subject_key": "case_ref",
                                "lanes": {"QA lead": {"role": "qa_lead", "person": None}}}),
    "scoring.bpmn": BPMN,
    "forms/score-schema.json": json.dumps({"type": "object", "required": ["score"],
                                           "properties": {"score": {"type": "string", "title": "Score"}}}),
}

# What the "Record the score" service operation should do on its next call, by test.
SERVICE_BEHAVIOUR = {"mode": "ok"}


@service_operation("test_record_score")
def record_score(context, data, score):
    """Writes nothing; breaks on request, either unexpectedly or as a domain refusal."""
    if SERVICE_BEHAVIOUR["mode"] == "break":
        raise KeyError("scores_table")
    if SERVICE_BEHAVIOUR["mode"] == "refuse":
        raise InvalidFormData({"score": "The register says this score was already recorded"})
    events.record(context.session, "score.recorded", instance_id=context.instance_id, payload={"score": score})
    return {"recorded": score}


@pytest.fixture
def service_works():
    """Each test starts with the service operation working."""
    SERVICE_BEHAVIOUR["mode"] = "ok"
    yield
    SERVICE_BEHAVIOUR["mode"] = "ok"


def start_scoring(session, business_key: str = "SCORE-1") -> tuple[ProcessInstance, HumanTask]:
    """Publish the scoring model, start one instance and return it with its first task."""
    publish(session, FILES)
    instance = start_instance(session, "scoring", {"case_ref": "CS000001"}, actor_id=None, business_key=business_key)
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready"))
    return instance, task


def fail_scoring(session, business_key: str = "SCORE-1") -> ProcessInstance:
    """An instance whose script failed on a score that is not a number."""
    instance, task = start_scoring(session, business_key)
    complete_task(session, task.id, user_named(session, "qa.lead"), {"score": "seven"})
    session.commit()
    return instance
