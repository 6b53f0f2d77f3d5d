"""Small process models for the model editing tests, and a way to add a step to any model."""
import json
from xml.sax.saxutils import escape

from lxml import etree

from engine.runtime.model_graph import ALL_NS, BPMN, SPIFF

NOTE_FORM = {"title": "Observation", "type": "object", "required": ["note"],
             "properties": {"note": {"type": "string", "title": "What did you observe?"},
                            "outcome": {"type": "string", "title": "Outcome", "enum": ["good", "concern"]}}}

OBSERVATION_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="observation_definitions"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="observation_collaboration">
    <bpmn:participant id="observation_participant" name="Practice observation" processRef="observation"/>
  </bpmn:collaboration>
  <bpmn:process id="observation" name="Practice observation" isExecutable="true">
    <bpmn:laneSet id="observation_lanes">
      <bpmn:lane id="lane_qa_lead" name="QA lead">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>observe</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Observation planned"><bpmn:outgoing>flow_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="observe" name="Record the observation">
      <bpmn:extensionElements>
        <spiffworkflow:instructionsForEndUser>Observe a home visit and record what you saw.</spiffworkflow:instructionsForEndUser>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="observation-schema.json"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_start</bpmn:incoming><bpmn:outgoing>flow_observe</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="Observed"><bpmn:incoming>flow_observe</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="observe"/>
    <bpmn:sequenceFlow id="flow_observe" sourceRef="observe" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def observation_files(bpmn: str = OBSERVATION_BPMN, **manifest) -> dict[str, str]:
    """The practice observation model: one QA lead lane, one user task with a form."""
    return {
        "process.json": json.dumps({"key": "observation", "name": "Practice observation",
                                    "bpmn_process_id": "observation", "bpmn_files": ["observation.bpmn"],
                                    "lanes": {"QA lead": {"role": "qa_lead", "person": None}}, **manifest}),
        "observation.bpmn": bpmn,
        "forms/observation-schema.json": json.dumps(NOTE_FORM),
    }


def with_step_after(files: dict[str, str], bpmn_file: str, after: str, step_id: str, name: str,
                    form: str | None = "observation-schema.json") -> dict[str, str]:
    """A copy of `files` with a user task `step_id` inserted on the flow leaving `after`,
    in the same lane as `after` (what a process owner does in the modeler)."""
    root = etree.fromstring(files[bpmn_file].encode())
    flow = root.find(f".//bpmn:sequenceFlow[@sourceRef='{after}']", ALL_NS)
    container = flow.getparent()
    target = flow.get("targetRef")
    task = etree.SubElement(container, f"{{{BPMN}}}userTask", id=step_id, name=name)
    if form:
        extensions = etree.SubElement(task, f"{{{BPMN}}}extensionElements")
        properties = etree.SubElement(extensions, f"{{{SPIFF}}}properties")
        etree.SubElement(properties, f"{{{SPIFF}}}property", name="formJsonSchemaFilename", value=form)
    flow.set("targetRef", step_id)
    etree.SubElement(container, f"{{{BPMN}}}sequenceFlow", id=f"flow_{step_id}", sourceRef=step_id, targetRef=target)
    lane_ref = root.find(f".//bpmn:lane/bpmn:flowNodeRef[.='{after}']", ALL_NS)
    if lane_ref is not None:
        reference = etree.Element(f"{{{BPMN}}}flowNodeRef")
        reference.text = step_id
        lane_ref.addnext(reference)
    return {**files, bpmn_file: etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()}


def process_files(body: str, forms: dict | None = None, dmn: dict[str, str] | None = None,
                  lane: str = "QA lead", **manifest) -> dict[str, str]:
    """A one-lane process 'sample' whose elements are `body` (BPMN XML, spiffworkflow
    prefix available); every flow node is put in the lane. Forms default to the note form."""
    wrapper = (f'<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:spiffworkflow="{SPIFF}" id="sample_definitions" '
               'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="sample" isExecutable="true">'
               f'{body}</bpmn:process></bpmn:definitions>')
    root = etree.fromstring(wrapper.encode())
    process = root[0]
    lane_set = etree.Element(f"{{{BPMN}}}laneSet", id="sample_lanes")
    lane_element = etree.SubElement(lane_set, f"{{{BPMN}}}lane", id="lane_main", name=lane)
    for child in process:
        if etree.QName(child).localname not in ("sequenceFlow", "laneSet"):
            etree.SubElement(lane_element, f"{{{BPMN}}}flowNodeRef").text = child.get("id")
    process.insert(0, lane_set)
    forms = {"note-schema.json": NOTE_FORM} if forms is None else forms
    return {"process.json": json.dumps({"key": "sample", "name": "Sample", "bpmn_process_id": "sample",
                                        "bpmn_files": ["sample.bpmn"], "dmn_files": sorted(dmn or {}),
                                        "lanes": {lane: {"role": "qa_lead", "person": None}}, **manifest}),
            "sample.bpmn": etree.tostring(root, encoding="unicode"),
            **{f"forms/{name}": json.dumps(schema) for name, schema in forms.items()}, **(dmn or {})}


def user_task(task_id: str, name: str = "", form: str = "note-schema.json", extra: str = "") -> str:
    """A user task with a form (the note form by default)."""
    properties = (f'<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="{form}"/>'
                  f'{extra}</spiffworkflow:properties>') if form else ""
    return (f'<bpmn:userTask id="{task_id}" name="{name or task_id}"><bpmn:extensionElements>{properties}'
            '</bpmn:extensionElements></bpmn:userTask>')


def flow(source: str, target: str, condition: str | None = None, flow_id: str | None = None) -> str:
    body = f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>" if condition else ""
    return (f'<bpmn:sequenceFlow id="{flow_id or f"{source}_to_{target}"}" sourceRef="{source}" '
            f'targetRef="{target}">{body}</bpmn:sequenceFlow>')
