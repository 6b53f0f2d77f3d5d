"""The organisation pages walked as the system administrator, with what each step leaves behind."""
import json
import re

from sqlalchemy import select

from engine.accounts import User
from engine.qa.models import Audit, Case, Service, Team
from engine.runtime.models import Event, HumanTask
from tests.conftest import sign_in
from tests.test_monitoring import allocate
from tests.test_web_lifecycle import read


def admin(app):
    client = app.test_client()
    sign_in(client, "sysadmin")
    return client


def find(session, model, **where):
    """The row as it is now, detached so reading its attributes later starts no transaction."""
    def query(s):
        row = s.scalar(select(model).filter_by(**where))
        if row is not None:
            s.expunge(row)
        return row
    return read(session, query)


def last_event(session, kind: str) -> dict:
    return read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(Event.kind == kind)
                                                       .order_by(Event.seq.desc()))))


def test_an_administrator_adds_a_service_team_and_person_who_can_then_sign_in(app, session):
    client = admin(app)
    head = find(session, User, username="hos.cic")
    assert client.post("/organisation/services/new", data={"name": "Fostering", "head_of_service_id": head.id}
                       ).status_code == 302
    service = find(session, Service, name="Fostering")
    assert service.head_of_service_id == head.id
    assert "Fostering" in client.get("/organisation/services").text

    page = client.post("/organisation/teams/new", data={"name": "Fostering 1", "service_id": service.id, "kind": ""})
    assert page.status_code == 422 and "Choose what kind of team it is" in page.text
    assert find(session, Team, name="Fostering 1") is None
    client.post("/organisation/teams/new", data={"name": "Fostering 1", "service_id": service.id,
                                                 "kind": "fostering_adoption"})
    team = find(session, Team, name="Fostering 1")
    assert team.kind == "fostering_adoption"

    form = {"display_name": "Sam Newstarter", "username": "sam.newstarter", "email": "sam@example.invalid",
            "job_title": "Social Worker", "team_id": team.id, "roles": ["practitioner", "team_manager"],
            "active_from-day": "1", "active_from-month": "2", "active_from-year": "2026"}
    empty = client.post("/organisation/people/new", data={"display_name": ""}).text
    assert all(message in empty for message in ("Enter a username", "Enter the person&#39;s name",
                                                 "Enter a work email address"))
    duplicate = client.post("/organisation/people/new", data={**form, "username": "qa.lead"})
    assert duplicate.status_code == 422 and "The username qa.lead is already taken" in duplicate.text
    assert 'value="Sam Newstarter"' in duplicate.text  # what was typed is kept
    created = client.post("/organisation/people/new", data=form)
    assert created.status_code == 200
    one_time = re.search(r'id="one-time-password">([^<]+)<', created.text).group(1)
    person = find(session, User, username="sam.newstarter")
    assert person.roles == {"practitioner", "team_manager"} and person.must_change_password
    assert str(person.active_from) == "2026-02-01"

    client.post("/organisation/teams/" + str(team.id), data={"name": "Fostering 1", "service_id": service.id,
                                                              "kind": "fostering_adoption", "manager_id": person.id})
    assert find(session, Team, name="Fostering 1").manager_id == person.id
    assert "Sam Newstarter" in client.get("/organisation/people?q=newstarter").text

    newcomer = app.test_client()
    sign_in(newcomer, "sam.newstarter", one_time)
    assert newcomer.get("/inbox").headers["Location"].endswith("/account/password")  # the one-time password first
    changed = newcomer.post("/account/password", data={"current_password": one_time,
                                                       "new_password": "granite harbour lantern 42",
                                                       "confirm_password": "granite harbour lantern 42"})
    assert changed.status_code == 302
    assert newcomer.get("/inbox").status_code == 200


def test_roles_moves_and_deactivation_with_reasons_and_a_stale_edit_refused(app, session):
    client = admin(app)
    worker = find(session, User, username="sw.mash1.1")
    refused = client.post(f"/organisation/people/{worker.id}/roles", data={
        "change": "remove", "role": "practitioner", "reason": "", "version": worker.version})
    assert refused.status_code == 422 and "Enter the reason" in refused.text
    client.post(f"/organisation/people/{worker.id}/roles", data={
        "change": "grant", "role": "qa_officer", "reason": "Secondment", "version": worker.version})
    assert "qa_officer" in find(session, User, username="sw.mash1.1").roles
    assert last_event(session, "person.role_granted")["reason"] == "Secondment"

    # A second administrator's form, opened before the grant, is now stale.
    stale = client.post(f"/organisation/people/{worker.id}/edit", data={
        "display_name": "Changed Meanwhile", "username": worker.username, "email": worker.email,
        "version": worker.version})
    assert stale.status_code == 422 and "Someone else changed" in stale.text
    assert find(session, User, username="sw.mash1.1").display_name == worker.display_name

    mash2 = find(session, Team, name="MASH 2")
    current = find(session, User, username="sw.mash1.1")
    client.post(f"/organisation/people/{worker.id}/move", data={"team_id": mash2.id, "reason": "Restructure",
                                                               "version": current.version})
    assert find(session, User, username="sw.mash1.1").team_id == mash2.id

    signed_in_before = app.test_client()
    sign_in(signed_in_before, "sw.mash1.1")
    page = client.get(f"/organisation/people/{worker.id}/deactivate")
    assert "still holds open work" in page.text and "allocated worker" in page.text
    current = find(session, User, username="sw.mash1.1")
    client.post(f"/organisation/people/{worker.id}/deactivate", data={"reason": "Left", "version": current.version})
    assert not find(session, User, username="sw.mash1.1").active
    assert last_event(session, "person.deactivated")["reason"] == "Left"
    leaver = app.test_client()
    assert leaver.post("/sign-in", data={"username": "sw.mash1.1", "password": "demo-password"}).status_code == 401
    # A session that was signed in before is refused at its next request (the user loader).
    assert "/sign-in" in signed_in_before.get("/inbox").headers["Location"]


def test_an_administrator_cannot_change_their_own_roles(app, session):
    client = admin(app)
    me = find(session, User, username="sysadmin")
    page = client.post(f"/organisation/people/{me.id}/roles", data={"change": "grant", "role": "qa_lead",
                                                                     "reason": "why not", "version": me.version})
    assert page.status_code == 422 and "cannot change your own roles" in page.text
    assert find(session, User, username="sysadmin").roles == {"system_administrator"}


def test_a_leavers_tasks_are_reassigned_in_one_step(app, session):
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    auditor_id, audit_id = audit.auditor_id, audit.id
    session.close()
    client = admin(app)
    version = find(session, User, id=auditor_id).version
    client.post(f"/organisation/people/{auditor_id}/deactivate", data={"reason": "Left", "version": version})
    page = client.get(f"/organisation/people/{auditor_id}/work")
    assert "Prepare" in page.text or "Task:" in page.text
    task_id = read(session, lambda s: s.scalar(select(HumanTask.id).where(
        HumanTask.assignee_id == auditor_id, HumanTask.state == "ready")))
    new_auditor = find(session, User, username="tm.mash2")
    missing_reason = client.post(f"/organisation/people/{auditor_id}/work",
                                 data={f"task:{task_id}": new_auditor.id, f"audit:{audit_id}:auditor": new_auditor.id})
    assert missing_reason.status_code == 422 and "Enter the reason" in missing_reason.text
    done = client.post(f"/organisation/people/{auditor_id}/work", data={
        f"task:{task_id}": new_auditor.id, f"audit:{audit_id}:auditor": new_auditor.id, "reason": "Left the council"})
    assert done.status_code == 302
    assert find(session, HumanTask, id=task_id).assignee_id == new_auditor.id
    assert find(session, Audit, id=audit_id).auditor_id == new_auditor.id
    assert last_event(session, "task.reassigned")["reason"] == "Left the council"
    assert "No open tasks" in client.get(f"/organisation/people/{auditor_id}").text
    newcomer = app.test_client()
    sign_in(newcomer, "tm.mash2")
    assert f"/tasks/{task_id}" in newcomer.get("/inbox").text


def test_the_qa_lead_reads_the_organisation_but_changes_nothing(app, session):
    client = app.test_client()
    sign_in(client, "qa.lead")
    service = find(session, Service, name="Children in Care")
    page = client.get(f"/organisation/services/{service.id}")
    assert page.status_code == 200 and "<h1 class=\"govuk-heading-l\">Children in Care</h1>" in page.text
    assert "Save the service" not in page.text
    assert client.post(f"/organisation/services/{service.id}", data={"name": "Renamed"}).status_code == 403
    assert find(session, Service, id=service.id).name == "Children in Care"
    assert "Add a person" not in client.get("/organisation/people").text


def test_cases_whose_worker_left_show_on_the_register_as_needing_a_new_worker(app, session):
    worker = find(session, User, username="sw.mash1.1")
    references = read(session, lambda s: list(s.scalars(select(Case.reference).where(Case.worker_id == worker.id))))
    qa = app.test_client()
    sign_in(qa, "qa.lead")
    assert "Cases needing a new worker" not in qa.get("/register").text
    admin(app).post(f"/organisation/people/{worker.id}/deactivate", data={"reason": "Left", "version": worker.version})
    page = qa.get("/register").text
    assert f"Cases needing a new worker ({len(references)})" in page
    assert all(reference in page for reference in references) and worker.display_name in page
