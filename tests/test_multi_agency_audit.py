"""A multi-agency audit over HTTP as the real people: the QA lead invites partner auditors, each
partner completes their agency's section and sees nothing else, and the joint discussion records
the agreed findings and actions for each agency once every section is in."""
import json

from sqlalchemy import select

from engine.accounts import User
from engine.qa.models import Case
from engine.runtime.models import Event, HumanTask, InstanceStart, ProcessInstance
from tests.test_web_lifecycle import Browsers, read

SECTION = {"involvement": "Health visitor since birth.", "information_shared": "partly", "quality": "good",
           "findings": "Two missed appointments not shared.", "action": "complete"}


def test_a_multi_agency_audit_with_health_and_police(app, session):
    browsers = Browsers(app)
    lead = browsers["qa.lead"]
    case_id, case_ref = read(session, lambda s: tuple(s.execute(select(Case.id, Case.reference)
                                                                .where(Case.status == "open").order_by(Case.id)).first()))
    form = {"about": str(case_id), "focus": "Information sharing before the conference",
            "sections_due-day": "18", "sections_due-month": "12", "sections_due-year": "2026",
            "partners.0.agency": "health", "partners.0.username": "partner.health",
            "partners.1.agency": "police", "partners.1.username": "sw.safeguarding1.1"}
    refused = lead.post("/start/multi_agency_audit", data=form)
    assert refused.status_code == 422 and "no partner agency auditor" in refused.get_data(as_text=True)
    started = lead.post("/start/multi_agency_audit", data={**form, "partners.1.username": "partner.police"})
    assert started.status_code == 302 and "/tasks/" in started.location
    audit_id = read(session, lambda s: s.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == "multi_agency_audit")))

    def sections(s):
        children = s.scalars(select(InstanceStart.instance_id).where(InstanceStart.parent_instance_id == audit_id))
        return {s.get(User, t.assignee_id).username: t.id for t in s.scalars(select(HumanTask).where(
            HumanTask.instance_id.in_(children), HumanTask.state == "ready"))}
    tasks = read(session, sections)
    assert set(tasks) == {"partner.health", "partner.police"}
    health, police = browsers["partner.health"], browsers["partner.police"]
    inbox = health.get("/inbox").get_data(as_text=True)
    assert f"/tasks/{tasks['partner.health']}" in inbox and f"/tasks/{tasks['partner.police']}" not in inbox
    assert case_ref in health.get(f"/tasks/{tasks['partner.health']}").get_data(as_text=True)
    # A partner sees only the audits they are invited to: nothing else.
    assert health.get(f"/tasks/{tasks['partner.police']}").status_code == 403
    for page in ("/instances", "/monitoring", f"/instances/{audit_id}", "/reports", "/thematic/1"):
        assert health.get(page).status_code in (403, 404), page
    assert case_ref not in health.get("/audits").get_data(as_text=True)
    assert health.get("/start").get_data(as_text=True).count('data-process="') == 0

    assert health.post(f"/tasks/{tasks['partner.health']}", data=SECTION).status_code == 302
    discussion = int(started.location.rsplit("/", 1)[1])
    lead.post(f"/tasks/{discussion}", data={"action": "claim"})
    agreed = {"agreed_findings": "Missed appointments must reach the social worker the same week.",
              "actions.0.agency": "health", "actions.0.action": "Share missed appointments weekly",
              "actions.0.due_on-day": "15", "actions.0.due_on-month": "1", "actions.0.due_on-year": "2027",
              "actions.1.agency": "council", "actions.1.action": "Add health to the core group",
              "actions.1.due_on-day": "15", "actions.1.due_on-month": "1", "actions.1.due_on-year": "2027",
              "action": "complete"}
    early = lead.post(f"/tasks/{discussion}", data=agreed)
    assert early.status_code == 422 and "once every section is in" in early.get_data(as_text=True)
    assert police.post(f"/tasks/{tasks['partner.police']}", data={**SECTION, "quality": "requires_improvement"}).status_code == 302
    assert lead.post(f"/tasks/{discussion}", data=agreed).status_code == 302

    assert read(session, lambda s: s.get(ProcessInstance, audit_id).status) == "completed"
    payload = read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(Event.kind == "multi_agency.agreed"))))
    assert payload == {"actions_by_agency": {"health": 1, "council": 1}}
    completed = read(session, lambda s: [json.loads(p)["agency"] for p in s.scalars(select(Event.payload).where(
        Event.kind == "multi_agency.section_completed").order_by(Event.seq))])
    assert completed == ["health", "police"]
    page = lead.get(f"/instances/{audit_id}").get_data(as_text=True)
    assert "Health: " in page and "Police: " in page
