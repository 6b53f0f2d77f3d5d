"""Uploading models: what other modelers export is accepted when it can run here, refused
with what and where otherwise; SpiffArena models import and run; downloads round-trip."""
import io
import json
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from engine.runtime.instances import complete_task, start_instance
from engine.runtime.model_drafts import create_draft, publish_draft
from engine.runtime.model_import import ImportRefused, export_zip, read_upload
from engine.runtime.model_validation import validate_model
from engine.runtime.models import HumanTask, ProcessInstance
from tests.conftest import user_named
from tests.model_samples import OBSERVATION_BPMN, observation_files

UPLOADS = Path(__file__).parent / "model_uploads"


def zipped(folder: Path, top: str = "model") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{top}/{path.name}")
    return buffer.getvalue()


def refusal(filename: str, data: bytes) -> str:
    with pytest.raises(ImportRefused) as refused:
        read_upload(filename, data)
    return " ".join([str(refused.value), *refused.value.problems])


def test_camunda_modeler_export_is_accepted_and_adapted():
    model = read_upload("camunda_leave.bpmn", (UPLOADS / "camunda_leave.bpmn").read_bytes())
    manifest = json.loads(model.files["process.json"])
    assert manifest["key"] == "supervision_check" and manifest["bpmn_process_id"] == "supervision_check"
    assert manifest["lanes"] == {"Team manager": {"role": "team_manager", "person": None}}
    root = etree.fromstring(model.files["camunda_leave.bpmn"].encode())
    assert root.find(".//{*}timeDuration").text == '"P2D"'
    assert root.find(".//{*}BPMNDiagram") is not None  # laid out: it had none
    assert any("camunda:assignee" in note for note in model.notes)
    # Accepted, with what is left to do shown at the element: the step needs a form.
    problems = validate_model(model.files).errors
    assert [(p.element_id, p.message.split(": ")[-1]) for p in problems] == [("Task_review", "names no form")]


def test_signavio_export_marked_not_executable_is_accepted_as_executable():
    model = read_upload("referral.bpmn", (UPLOADS / "signavio_referral.bpmn").read_bytes())
    root = etree.fromstring(model.files["referral.bpmn"].encode())
    assert root.find("{*}process").get("isExecutable") == "true"
    assert any("marked not executable" in note for note in model.notes)
    assert validate_model(model.files).ok


def test_bizagi_style_export_without_diagram_or_executable_flag_is_accepted():
    bizagi = OBSERVATION_BPMN.replace('isExecutable="true"', 'isExecutable="false"').replace(
        '<bpmn:startEvent id="start" name="Observation planned">',
        '<bpmn:startEvent id="start" name="Observation planned"><bpmn:extensionElements>'
        '<bizagi:BizagiExtensions xmlns:bizagi="http://www.bizagi.com/bpmn20"><bizagi:BizagiProperty name="bgColor" '
        'value="White"/></bizagi:BizagiExtensions></bpmn:extensionElements>')
    model = read_upload("observation.bpmn", bizagi.encode())
    assert model.key == "observation" and set(model.files) == {"process.json", "observation.bpmn"}
    assert any("no diagram" in note for note in model.notes)
    # The form the task names was not in the upload: accepted, and shown at the task to fix.
    assert [p.element_id for p in validate_model(model.files).errors] == ["observe"]


def test_spiffarena_model_imports_publishes_and_runs(session):
    model = read_upload("home-visit.zip", zipped(UPLOADS / "spiffarena_home_visit", "home-visit"))
    assert model.key == "home_visit_record"
    assert {"forms/visit-schema.json", "forms/visit-uischema.json", "forms/follow_up-schema.json"} <= set(model.files)
    owner = user_named(session, "process.owner")
    draft = create_draft(session, model.files, owner)
    version = publish_draft(session, draft.process_key, owner, draft.revision, "Imported from SpiffArena")
    session.commit()
    instance = start_instance(session, "home_visit_record", {}, actor_id=owner.id)
    session.commit()
    manager = user_named(session, "tm.mash1")
    visit = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert (visit.title, visit.role, visit.form_key) == ("Record the home visit", "team_manager", "visit-schema.json")
    complete_task(session, visit.id, manager, {"visit_date": "2026-12-01", "child_seen": False, "concerns": []})
    session.commit()
    follow_up = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready"))
    assert follow_up.spec_name == "follow_up"  # the script found the child was not seen
    complete_task(session, follow_up.id, manager, {"follow_up": "Visit again within 5 working days"})
    session.commit()
    assert session.get(ProcessInstance, instance.id).status == "completed"
    assert version.version == 1


def test_malformed_xml_is_refused_with_where():
    message = refusal("broken.bpmn", OBSERVATION_BPMN.replace("</bpmn:process>", "").encode())
    assert "broken.bpmn is not well-formed XML: line" in message


def test_unsupported_elements_are_listed_with_their_ids():
    bpmn = (OBSERVATION_BPMN
            .replace('xmlns:spiffworkflow=', 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:spiffworkflow=')
            .replace('<bpmn:endEvent id="end"', '<bpmn:complexGateway id="gate_complex"/><bpmn:serviceTask id="notify" '
                     'camunda:class="org.council.Notify"/><bpmn:endEvent id="end"')
            .replace('<bpmn:sequenceFlow id="flow_observe" sourceRef="observe" targetRef="end"/>',
                     '<bpmn:sequenceFlow id="flow_observe" sourceRef="observe" targetRef="end">'
                     '<bpmn:conditionExpression>${approved}</bpmn:conditionExpression></bpmn:sequenceFlow>'))
    message = refusal("observation.bpmn", bpmn.encode())
    assert "complex gateway 'gate_complex' is not supported here" in message
    assert "serviceTask notify uses camunda:class" in message
    assert "the condition on flow flow_observe is not Python (${approved})" in message


def test_a_missing_call_activity_target_is_refused():
    bpmn = OBSERVATION_BPMN.replace(
        '<bpmn:userTask id="observe" name="Record the observation">',
        '<bpmn:callActivity id="observe" name="Record the observation" calledElement="home_visit_checklist">'
    ).replace("</bpmn:userTask>", "</bpmn:callActivity>")
    message = refusal("observation.bpmn", bpmn.encode())
    assert "The process 'home_visit_checklist' was not found" in message


def test_an_unsafe_script_is_refused():
    bpmn = OBSERVATION_BPMN.replace(
        '<bpmn:sequenceFlow id="flow_observe" sourceRef="observe" targetRef="end"/>',
        '<bpmn:sequenceFlow id="flow_observe" sourceRef="observe" targetRef="tidy"/>'
        '<bpmn:scriptTask id="tidy" name="Tidy up"><bpmn:script>classes = ().__class__.__base__.__subclasses__()'
        '</bpmn:script></bpmn:scriptTask><bpmn:sequenceFlow id="flow_tidy" sourceRef="tidy" targetRef="end"/>')
    message = refusal("observation.bpmn", bpmn.encode())
    assert "the script of script task 'Tidy up' (tidy): line 1: '.__subclasses__' is not allowed" in message


def test_a_form_that_is_not_json_schema_is_refused():
    files = observation_files()
    files["forms/observation-schema.json"] = json.dumps({"type": "object", "properties": {"note": {"type": "words"}}})
    message = refusal("observation.zip", export_zip(files))
    assert "observation-schema.json: not a valid JSON Schema" in message


def test_a_document_type_declaration_is_refused():
    bpmn = OBSERVATION_BPMN.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    assert "document type declarations are not allowed" in refusal("observation.bpmn", bpmn.encode())


def test_other_files_are_refused():
    assert "Upload a BPMN file" in refusal("observation.docx", b"PK")


def test_a_download_uploads_back_to_the_same_files():
    files = observation_files()
    assert read_upload("observation.zip", export_zip(files)).files == {
        **files, "process.json": json.dumps(json.loads(files["process.json"]), indent=2) + "\n",
        "observation.bpmn": read_upload("observation.bpmn", files["observation.bpmn"].encode()).files["observation.bpmn"]}


def test_a_single_bpmn_for_an_existing_process_keeps_its_lanes_and_forms():
    files = observation_files()
    renamed = OBSERVATION_BPMN.replace("Record the observation", "Record what you observed")
    model = read_upload("new-diagram.bpmn", renamed.encode(), existing=files)
    assert json.loads(model.files["process.json"]) == json.loads(files["process.json"])
    assert "Record what you observed" in model.files["observation.bpmn"]
    assert model.files["forms/observation-schema.json"] == files["forms/observation-schema.json"]
