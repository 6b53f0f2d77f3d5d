"""Starting a published process by hand, over HTTP: a process owner uploads and publishes a
small model whose process.json names who may start it; those people start it from the Start
page and the API, and nobody else can. Each start leaves its row, its event and its first task."""
import io
import json
from types import SimpleNamespace

from sqlalchemy import func, select

from engine.accounts import User
from engine.qa.models import Service
from engine.runtime.model_import import export_zip
from engine.runtime.models import Event, HumanTask, InstanceStart, ProcessInstance
from tests.conftest import sign_in
from tests.model_samples import NOTE_FORM, flow, process_files, user_task
from tests.test_api import bearer, token_for

PLAN_FORM = {"title": "Plan the visit", "type": "object", "required": ["purpose", "visit_on"],
             "properties": {"purpose": {"type": "string", "title": "Purpose of the visit", "minLength": 1},
                            "visit_on": {"type": "string", "format": "date", "title": "Visit date"}}}
START = {"roles": ["head_of_service"], "scope": "own", "about": "service", "form": "visit_plan-schema.json"}
SECRET_TEXT = "Observe the Tuesday duty meeting"


def visit_model() -> bytes:
    """A one-task model: the head of service who started it records what they saw."""
    files = process_files(f'<bpmn:startEvent id="start"/>{user_task("record", "Record the visit")}'
                          '<bpmn:endEvent id="end"/>' + flow("start", "record") + flow("record", "end"),
                          forms={"note-schema.json": NOTE_FORM, "visit_plan-schema.json": PLAN_FORM},
                          lane="Head of service")
    manifest = json.loads(files["process.json"])
    manifest.update(key="service_visit", name="Service visit", description="A head of service visits a team.",
                    lanes={"Head of service": {"role": "head_of_service", "person": "started_by"}}, start=START)
    files["process.json"] = json.dumps(manifest)
    return export_zip(files)


def publish_visit_model(app):
    owner = app.test_client()
    sign_in(owner, "process.owner")
    uploaded = owner.post("/models/upload", content_type="multipart/form-data",
                          data={"model": (io.BytesIO(visit_model()), "service-visit.zip")})
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    key = uploaded.location.split("/models/")[1].split("/")[0]
    published = owner.post(f"/models/{key}/draft/publish", follow_redirects=True,
                           data={"revision": "1", "note": "Heads of service may start a visit"})
    assert "Version 1 published" in published.get_data(as_text=True)
    return key


def db_read(app, query):
    from webapp.extensions import db
    with app.app_context():
        try:
            return query(db.session)
        finally:
            db.session.rollback()


def own_service_id(app, username: str) -> int:
    return db_read(app, lambda s: s.scalar(select(Service.id).join(User, User.id == Service.head_of_service_id)
                                           .where(User.username == username)))


def instance_count(app) -> int:
    return db_read(app, lambda s: s.scalar(select(func.count(ProcessInstance.id))
                                           .where(ProcessInstance.process_key == "service_visit")))


def test_a_newly_published_model_is_started_by_the_roles_it_names_on_the_web(app):
    key = publish_visit_model(app)
    hos = app.test_client()
    sign_in(hos, "hos.cincp")
    listing = hos.get("/start").get_data(as_text=True)
    assert 'data-process="service_visit"' in listing and "About a service." in listing
    form = hos.get(f"/start/{key}").get_data(as_text=True)
    mine, other = own_service_id(app, "hos.cincp"), own_service_id(app, "hos.cic")
    assert f'<option value="{mine}"' in form and f'<option value="{other}"' not in form  # scope: own

    missing = hos.post(f"/start/{key}", data={"about": str(mine), "purpose": ""})
    page = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "Enter purpose of the visit" in page and "Enter a date for: Visit date" in page
    outside = hos.post(f"/start/{key}", data={"about": str(other), "purpose": SECRET_TEXT, "visit_on-day": "3",
                                              "visit_on-month": "12", "visit_on-year": "2026"})
    assert outside.status_code == 422 and "Choose the service this is about" in outside.get_data(as_text=True)
    assert instance_count(app) == 0

    started = hos.post(f"/start/{key}", data={"about": str(mine), "purpose": SECRET_TEXT, "visit_on-day": "3",
                                              "visit_on-month": "12", "visit_on-year": "2026"})
    assert started.status_code == 302 and "/tasks/" in started.location
    task_page = hos.get(started.location).get_data(as_text=True)
    assert "Record the visit" in task_page and "Complete task" in task_page

    def recorded(session):
        start = session.scalar(select(InstanceStart))
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == start.instance_id))
        event = session.scalar(select(Event).where(Event.kind == "instance.started",
                                                   Event.instance_id == start.instance_id))
        hos_id = session.scalar(select(User.id).where(User.username == "hos.cincp"))
        copy = SimpleNamespace(**{column: getattr(start, column) for column in (
            "instance_id", "started_by_id", "about_kind", "about_id", "about_label", "answers", "answers_sha256")})
        return copy, SimpleNamespace(assignee_id=task.assignee_id, title=task.title), \
            json.loads(event.payload), event.actor_id, hos_id
    start, task, payload, actor, hos_id = db_read(app, recorded)
    assert (start.started_by_id, start.about_kind, start.about_id) == (hos_id, "service", mine)
    assert start.answers == {"purpose": SECRET_TEXT, "visit_on": "2026-12-03"} and start.about_label
    assert task.assignee_id == hos_id and task.title == "Record the visit"
    assert actor == hos_id and payload["data"]["answers_sha256"] == start.answers_sha256
    assert SECRET_TEXT not in json.dumps(payload)  # the free text is beside the trail, not in it

    # The head of service sees it among the instances about their service, with what it is about.
    instance_page = hos.get(f"/instances/{start.instance_id}").get_data(as_text=True)
    assert start.about_label in instance_page and "Started by" in instance_page


def test_nobody_else_may_start_it_on_the_web(app):
    key = publish_visit_model(app)
    for username in ("tm.safeguarding1", "qa.lead", "sw.safeguarding1.1", "process.owner"):
        other = app.test_client()
        sign_in(other, username)
        assert 'data-process="service_visit"' not in other.get("/start").get_data(as_text=True), username
        assert other.get(f"/start/{key}").status_code == 403, username
        assert other.post(f"/start/{key}", data={"purpose": "x"}).status_code == 403, username
    assert instance_count(app) == 0
    hos = app.test_client()
    sign_in(hos, "hos.cincp")
    assert hos.get("/start/no_such_process").status_code == 404


def test_the_same_through_the_api(app):
    publish_visit_model(app)
    client = app.test_client()
    hos = bearer(token_for(client, "hos.cincp"))
    listed = client.get("/api/v1/processes/startable", headers=hos).get_json()
    assert [(p["key"], p["about"]) for p in listed["processes"] if p["key"] == "service_visit"] == [("service_visit", "service")]
    form = client.get("/api/v1/processes/service_visit/start-form", headers=hos).get_json()
    mine = own_service_id(app, "hos.cincp")
    assert [option["id"] for option in form["about_options"]] == [mine] and form["schema"]["title"] == "Plan the visit"

    bad = client.post("/api/v1/processes/service_visit/instances", headers=hos, json={"about_id": mine, "answers": {}})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"purpose", "visit_on"}
    started = client.post("/api/v1/processes/service_visit/instances", headers=hos,
                          json={"about_id": mine, "answers": {"purpose": SECRET_TEXT, "visit_on": "2026-12-03"}})
    assert started.status_code == 201
    body = started.get_json()
    assert body["reference"].startswith("SERVICE_VISI-") and body["first_task_id"] is not None
    task = client.get(f"/api/v1/tasks/{body['first_task_id']}", headers=hos).get_json()
    assert task["title"] == "Record the visit"

    for username in ("tm.safeguarding1", "qa.lead"):
        other = bearer(token_for(client, username))
        assert all(p["key"] != "service_visit" for p in
                   client.get("/api/v1/processes/startable", headers=other).get_json()["processes"])
        refused = client.post("/api/v1/processes/service_visit/instances", headers=other,
                              json={"about_id": mine, "answers": {"purpose": "x", "visit_on": "2026-12-03"}})
        assert refused.status_code == 403, username
    assert instance_count(app) == 1


def test_a_start_declaration_that_cannot_work_is_refused_at_validation():
    from engine.runtime.registry import ModelError, build_model
    import zipfile
    with zipfile.ZipFile(io.BytesIO(visit_model())) as archive:
        files = {name.removeprefix("model/"): archive.read(name).decode() for name in archive.namelist()
                 if not name.endswith("/")}
    manifest = json.loads(files["process.json"])
    manifest["start"] = {"roles": ["head_of_service", "janitor"], "scope": "mine", "about": "school",
                         "form": "missing-schema.json"}
    files["process.json"] = json.dumps(manifest)
    try:
        build_model(files)
    except ModelError as refused:
        problems = str(refused)
    else:
        raise AssertionError("the declaration was accepted")
    for expected in ("role 'janitor' is not a known role", "scope must be one of any, own",
                     "cannot be about 'school'", "form 'missing-schema.json' does not exist"):
        assert expected in problems
