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


def run_audit(browsers, session, case_offset: int, partners: dict[str, str], actions: list[tuple[str, str]]) -> int:
    """A whole multi-agency audit over HTTP: set up, every section in, the joint discussion agreed."""
    lead = browsers["qa.lead"]
    case_id = read(session, lambda s: s.scalar(select(Case.id).where(Case.status == "open").order_by(Case.id)
                                              .offset(case_offset).limit(1)))
    form = {"about": str(case_id), "focus": "Information sharing", "sections_due-day": "18",
            "sections_due-month": "12", "sections_due-year": "2026"}
    for index, (agency, username) in enumerate(partners.items()):
        form |= {f"partners.{index}.agency": agency, f"partners.{index}.username": username}
    started = lead.post("/start/multi_agency_audit", data=form)
    audit_id = read(session, lambda s: s.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == "multi_agency_audit").order_by(ProcessInstance.id.desc()).limit(1)))
    children = read(session, lambda s: [(t.id, s.get(User, t.assignee_id).username) for t in s.scalars(
        select(HumanTask).where(HumanTask.state == "ready", HumanTask.instance_id.in_(select(
            InstanceStart.instance_id).where(InstanceStart.parent_instance_id == audit_id))))])
    for task_id, username in children:
        assert browsers[username].post(f"/tasks/{task_id}", data=SECTION).status_code == 302
    discussion = int(started.location.rsplit("/", 1)[1])
    lead.post(f"/tasks/{discussion}", data={"action": "claim"})
    agreed = {"agreed_findings": "Agreed.", "action": "complete"}
    for index, (agency, text) in enumerate(actions):
        agreed |= {f"actions.{index}.agency": agency, f"actions.{index}.action": text, f"actions.{index}.due_on-day": "15",
                   f"actions.{index}.due_on-month": "1", f"actions.{index}.due_on-year": "2027"}
    assert lead.post(f"/tasks/{discussion}", data=agreed).status_code == 302
    return audit_id


def test_agreed_actions_go_into_the_tracker_and_partners_see_only_their_audits(app, session):
    import io
    from openpyxl import load_workbook
    from engine.qa.models import AuditAction
    browsers = Browsers(app)
    first = run_audit(browsers, session, 0, {"health": "partner.health"},
                      [("health", "Share missed appointments weekly"), ("council", "Add health to the core group")])
    second = run_audit(browsers, session, 1, {"police": "partner.police"}, [("police", "Flag the address")])
    rows = read(session, lambda s: {a.description: (a.id, a.instance_id, a.source, a.agency, s.get(User, a.owner_id).username)
                                    for a in s.scalars(select(AuditAction).where(AuditAction.source == "multi_agency"))})
    health_action, council_action, police_action = (rows[text][0] for text in (
        "Share missed appointments weekly", "Add health to the core group", "Flag the address"))
    assert rows["Share missed appointments weekly"][1:] == (first, "multi_agency", "health", "partner.health")
    assert rows["Add health to the core group"][1:] == (first, "multi_agency", "council", "qa.lead")  # no partner named
    assert rows["Flag the address"][1:] == (second, "multi_agency", "police", "partner.police")

    health = browsers["partner.health"]
    page = health.get("/tracker").text
    assert f'data-action="{health_action}"' in page and f'data-action="{council_action}"' in page
    assert f'data-action="{police_action}"' not in page and "Flag the address" not in page
    assert health.get(f"/tracker/actions/{police_action}").status_code == 404
    assert health.post(f"/tracker/actions/{council_action}", data={"status": "in_progress"}).status_code == 403
    assert "Flag the address" not in health.get("/tracker/export.csv").data.decode("utf-8-sig")
    assert f'data-action="{police_action}"' in browsers["partner.police"].get("/tracker").text
    reason = "Waiting for the new GP practice system."
    updated = health.post(f"/tracker/actions/{health_action}", data={"status": "in_progress", "not_completed_reason": reason})
    assert updated.status_code == 302

    lead_page = browsers["qa.lead"].get("/tracker?source=multi_agency").text
    assert "Share missed appointments weekly" in lead_page and f"Not completed: {reason}" in lead_page
    assert f'href="/instances/{first}"' in lead_page
    sheet = load_workbook(io.BytesIO(browsers["qa.lead"].get("/tracker/export.xlsx?source=multi_agency").data)).active
    header = [cell.value for cell in sheet[1]]
    exported = {row[header.index("Action")]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    health_row = exported["Share missed appointments weekly"]
    assert (health_row["Source activity"], health_row["Agency"], health_row["Status"], health_row["Reason not completed"]) == (
        "Multi-agency audit", "Health", "In progress", reason)
    assert health_row["Reference"].startswith("MAA-") and health_row["Ref"] == "A1" and health_row["Case reference"]
    assert set(exported) == {"Share missed appointments weekly", "Add health to the core group", "Flag the address"}
