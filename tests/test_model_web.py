"""The model pages over HTTP, as a process owner and the QA lead use them."""
import io
import json
import re
from types import SimpleNamespace

from sqlalchemy import func, select

from engine.runtime.instances import start_instance
from engine.runtime.model_draft_models import ModelDraft, ModelScenario
from engine.runtime.models import Event, ProcessInstance, ProcessVersion
from engine.runtime.registry import publish
from tests.conftest import sign_in
from tests.model_samples import OBSERVATION_BPMN, observation_files, with_step_after
from tests.test_model_import import UPLOADS, zipped


def _db(app, query):
    from webapp.extensions import db
    with app.app_context():
        try:
            return query(db.session)
        finally:
            db.session.rollback()


def _setup(app, versions=1):
    def make(session):
        files = observation_files()
        publish(session, files)
        if versions > 1:
            publish(session, with_step_after(files, "observation.bpmn", "observe", "discuss", "Discuss with the worker"))
        session.commit()
    _db(app, make)


def owner(app):
    client = app.test_client()
    sign_in(client, "process.owner")
    return client


def drafting(app):
    """A process owner's client with a draft of the observation model open."""
    _setup(app)
    client = owner(app)
    client.post("/models/observation/draft")
    return client


def draft_of(app, key="observation"):
    def read(session):
        draft = session.scalar(select(ModelDraft).where(ModelDraft.process_key == key))
        return SimpleNamespace(revision=draft.revision, files=dict(draft.files))
    return _db(app, read)


def scenario_on(page: str) -> str:
    """The scenario a sandbox page carries to its next post (as the browser sends it back)."""
    return re.search(r'name="scenario" value="([^"]*)"', page).group(1).replace("&#34;", '"')


def test_the_models_page_lists_processes_versions_and_running_instances(app):
    _setup(app)
    _db(app, lambda s: (start_instance(s, "observation", {}, actor_id=None), s.commit()))
    client = owner(app)
    page = client.get("/models").get_data(as_text=True)
    assert "Practice observation" in page and "Case file audit" in page
    detail = client.get("/models/observation").get_data(as_text=True)
    assert "Version" in detail and re.search(r'govuk-table__cell--numeric">1</td>', detail)
    assert "Start a draft from version 1" in detail


def test_open_edit_and_save_a_draft_from_the_modeler(app):
    _setup(app)
    client = owner(app)
    response = client.post("/models/observation/draft")
    assert response.status_code == 302 and response.location.endswith("/models/observation/draft/modeler")
    assert "Edit Practice observation" in client.get("/models/observation/draft/modeler").get_data(as_text=True)
    content = client.get("/models/observation/draft/content").get_json()
    assert content["revision"] == 1 and content["file"] == "observation.bpmn"
    assert content["forms"] == ["observation-schema.json"] and content["lanes"]["QA lead"]["role"] == "qa_lead"
    assert "qa_lead" in content["roles"] and content["problems"] == []

    changed = with_step_after(observation_files(), "observation.bpmn", "observe", "discuss", "Discuss", form=None)
    reply = client.post("/models/observation/draft/diagram", json={
        "revision": 1, "file": "observation.bpmn", "xml": changed["observation.bpmn"],
        "lanes": {"QA lead": {"role": "qa_lead", "person": "observer"}}})
    assert reply.status_code == 200 and reply.get_json()["revision"] == 2
    assert {"message": "user task 'Discuss' (discuss): names no form", "element_id": "discuss",
            "severity": "error"} in reply.get_json()["problems"]
    saved = draft_of(app)
    assert "discuss" in saved.files["observation.bpmn"]
    assert json.loads(saved.files["process.json"])["lanes"]["QA lead"]["person"] == "observer"

    declared = client.post("/models/observation/draft/diagram", json={
        "revision": 2, "file": "observation.bpmn", "xml": changed["observation.bpmn"], "start_data": ["observer"]})
    assert declared.status_code == 200 and json.loads(draft_of(app).files["process.json"])["start_data"] == ["observer"]
    refused = client.post("/models/observation/draft/diagram", json={
        "revision": 3, "file": "observation.bpmn", "xml": changed["observation.bpmn"], "start_data": 7})
    assert refused.status_code == 422 and "Start data is a list of names" in refused.get_json()["error"]
    assert draft_of(app).revision == 3


def test_a_second_save_from_an_old_revision_is_refused_and_nothing_is_overwritten(app):
    _setup(app)
    first, second = owner(app), owner(app)
    first.post("/models/observation/draft")
    changed = with_step_after(observation_files(), "observation.bpmn", "observe", "discuss", "Discuss")
    assert first.post("/models/observation/draft/diagram", json={
        "revision": 1, "file": "observation.bpmn", "xml": changed["observation.bpmn"]}).status_code == 200
    reply = second.post("/models/observation/draft/diagram", json={
        "revision": 1, "file": "observation.bpmn", "xml": OBSERVATION_BPMN})
    assert reply.status_code == 409
    assert "saved this draft on" in reply.get_json()["error"] and "nothing was overwritten" in reply.get_json()["error"]
    assert "discuss" in draft_of(app).files["observation.bpmn"] and draft_of(app).revision == 2


def test_malformed_xml_from_the_editor_is_refused(app):
    client = drafting(app)
    reply = client.post("/models/observation/draft/diagram", json={"revision": 1, "file": "observation.bpmn",
                                                                     "xml": "<bpmn:definitions"})
    assert reply.status_code == 422 and "not well-formed XML" in reply.get_json()["error"]
    assert draft_of(app).revision == 1


def test_the_form_editor_previews_and_saves(app):
    client = drafting(app)
    page = client.get("/models/observation/draft/forms/observation").get_data(as_text=True)
    assert "What did you observe?" in page and 'name="schema"' in page
    schema = {"type": "object", "title": "Visit", "properties": {"seen": {"type": "boolean", "title": "Child seen alone?"}}}
    preview = client.post("/models/form-preview", data={"schema": json.dumps(schema), "ui_schema": "{}"})
    assert "Child seen alone?" in preview.get_data(as_text=True) and 'type="radio"' in preview.get_data(as_text=True)
    broken = client.post("/models/form-preview", data={"schema": '{"type": "object", "properties": {"x": {"type": 7}}}'})
    assert "Not a valid JSON Schema" in broken.get_data(as_text=True)
    refused = client.post("/models/observation/draft/forms/observation",
                          data={"action": "save", "revision": "1", "schema": "{", "ui_schema": "{}"})
    assert refused.status_code == 422 and "is not valid JSON" in refused.get_data(as_text=True)
    assert draft_of(app).revision == 1
    saved = client.post("/models/observation/draft/forms/home_visit",
                        data={"action": "save", "revision": "1", "schema": json.dumps(schema), "ui_schema": "{}"})
    assert saved.status_code == 302
    assert json.loads(draft_of(app).files["forms/home_visit-schema.json"]) == schema


def test_the_sandbox_runs_the_draft_and_saves_a_scenario(app):
    client = drafting(app)
    page = client.get("/models/observation/draft/sandbox").get_data(as_text=True)
    assert "Waiting: Record the observation" in page and "What did you observe?" in page
    scenario = scenario_on(page)
    invalid = client.post("/models/observation/draft/sandbox", data={"scenario": scenario, "action": "answer:observe"})
    assert "Enter what did you observe?" in invalid.get_data(as_text=True)
    done = client.post("/models/observation/draft/sandbox",
                       data={"scenario": scenario, "action": "answer:observe", "note": "Warm, child-focused"})
    text = done.get_data(as_text=True)
    assert "The process ended" in text and "Record the observation" in text
    finished = scenario_on(text)
    assert client.post("/models/observation/draft/scenarios",
                       data={"scenario": finished, "name": "A good visit"}).status_code == 302
    saved = _db(app, lambda s: [(x.name, x.expected["ended"]) for x in s.scalars(select(ModelScenario))])
    assert saved == [("A good visit", True)]
    assert _db(app, lambda s: s.scalar(select(func.count()).select_from(ProcessInstance))) == 0


def test_publish_compare_and_download(app):
    client = drafting(app)
    changed = with_step_after(observation_files(), "observation.bpmn", "observe", "discuss", "Discuss with the worker")
    client.post("/models/observation/draft/diagram", json={"revision": 1, "file": "observation.bpmn",
                                                           "xml": changed["observation.bpmn"]})
    comparison = client.get("/models/observation/compare?from=1&to=draft").get_data(as_text=True)
    assert "Added user task &#39;Discuss with the worker&#39; (discuss) in lane &#39;QA lead&#39;" in comparison
    refused = client.post("/models/observation/draft/publish", data={"revision": "2", "note": ""}, follow_redirects=True)
    assert "Enter a change note" in refused.get_data(as_text=True)
    published = client.post("/models/observation/draft/publish", follow_redirects=True,
                            data={"revision": "2", "note": "Discuss every observation with the worker"})
    assert "Version 2 published" in published.get_data(as_text=True)
    digest = _db(app, lambda s: s.scalar(select(ProcessVersion.content_hash).where(
        ProcessVersion.process_key == "observation", ProcessVersion.version == 2)))
    event = _db(app, lambda s: s.scalar(select(Event.payload).where(Event.kind == "model.published").order_by(Event.seq.desc())))
    assert json.loads(event)["content_hash"] == digest
    download = client.get("/models/observation/download?ref=2")
    assert download.mimetype == "application/zip" and b"observation.bpmn" in download.data


def test_uploads_that_cannot_run_are_refused_and_change_nothing(app):
    _setup(app)
    client = owner(app)
    cases = {
        "malformed.bpmn": (OBSERVATION_BPMN.replace("</bpmn:process>", ""), "is not well-formed XML"),
        "complex.bpmn": (OBSERVATION_BPMN.replace('<bpmn:endEvent id="end"', '<bpmn:complexGateway id="gate"/>'
                                                 '<bpmn:endEvent id="end"'), "complex gateway &#39;gate&#39;"),
        "call.bpmn": (OBSERVATION_BPMN.replace('<bpmn:userTask id="observe" name="Record the observation">',
                                               '<bpmn:callActivity id="observe" calledElement="missing_checklist">')
                      .replace("</bpmn:userTask>", "</bpmn:callActivity>"), "missing_checklist"),
        "script.bpmn": (OBSERVATION_BPMN.replace('targetRef="end"/>\n  </bpmn:process>', 'targetRef="tidy"/><bpmn:scriptTask '
                        'id="tidy"><bpmn:script>import os</bpmn:script></bpmn:scriptTask><bpmn:sequenceFlow id="f9" '
                        'sourceRef="tidy" targetRef="end"/></bpmn:process>').replace(
                            '<bpmn:sequenceFlow id="flow_observe" sourceRef="observe" targetRef="end"/>',
                            '<bpmn:sequenceFlow id="flow_observe" sourceRef="observe" targetRef="tidy"/>'),
                        "imports are not allowed"),
    }
    for filename, (text, expected) in cases.items():
        reply = client.post("/models/upload", data={"model": (io.BytesIO(text.encode()), filename)},
                            content_type="multipart/form-data")
        assert reply.status_code == 422 and expected in reply.get_data(as_text=True), filename
    files = observation_files()
    files["forms/observation-schema.json"] = json.dumps({"type": "object", "properties": {"note": {"type": "prose"}}})
    from engine.runtime.model_import import export_zip
    reply = client.post("/models/upload", data={"model": (io.BytesIO(export_zip(files)), "observation.zip")},
                        content_type="multipart/form-data")
    assert reply.status_code == 422 and "not a valid JSON Schema" in reply.get_data(as_text=True)
    assert _db(app, lambda s: s.scalar(select(func.count()).select_from(ModelDraft))) == 0


def test_an_accepted_upload_becomes_a_draft(app):
    client = owner(app)
    reply = client.post("/models/upload", content_type="multipart/form-data",
                        data={"model": (io.BytesIO(zipped(UPLOADS / "spiffarena_home_visit")), "home-visit.zip")})
    assert reply.status_code == 302 and reply.location.endswith("/models/home_visit_record/draft/modeler")
    assert set(draft_of(app, "home_visit_record").files) >= {"process.json", "home_visit.bpmn", "forms/visit-schema.json"}


def test_the_qa_lead_previews_and_moves_running_instances(app):
    _setup(app)
    instance_id = _db(app, lambda s: (start_instance(s, "observation", {}, actor_id=None), s.commit())[0].id)
    _setup_v2 = observation_files()
    _db(app, lambda s: (publish(s, with_step_after(_setup_v2, "observation.bpmn", "observe", "discuss", "Discuss")),
                        s.commit()))
    client = app.test_client()
    sign_in(client, "qa.lead")
    page = client.get("/models/observation/migrate?from=1&to=2").get_data(as_text=True)
    assert f'value="{instance_id}" checked' in page and "Added user task" in page
    moved = client.post("/models/observation/migrate", data={"from": "1", "to": "2", "instance": str(instance_id)},
                        follow_redirects=True)
    assert "1 instance(s) moved to version 2" in moved.get_data(as_text=True)
    version_two = _db(app, lambda s: s.scalar(select(ProcessVersion.id).where(ProcessVersion.version == 2,
                                                                             ProcessVersion.process_key == "observation")))
    assert _db(app, lambda s: s.get(ProcessInstance, instance_id).process_version_id) == version_two
