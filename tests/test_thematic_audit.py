"""A thematic audit walked end to end over HTTP, as the real people: the principal social
worker commissions it from the Start page, the QA lead draws the seeded sample (one linked
case file audit per case), the audits run, the QA lead writes the findings, the commissioner
returns them once and then signs off, and the report is published as a page and a PDF."""
import json
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from engine.clock import clock
from engine.qa.demo_history import walk_audit
from engine.qa.models import Audit, Service
from engine.qa.thematic_models import ThematicAudit
from engine.runtime.events import verify_chain
from engine.runtime.models import Event, HumanTask, InstanceStart, ProcessInstance
from tests.test_web_lifecycle import Browsers, read

SERVICE = "Child in Need and Child Protection"


def commission(deadline) -> dict:
    return {"theme": "Neglect", "question": "Do plans for neglected children lead to change within six months?",
            "why_now": "performance_data", "why_now_detail": "Re-referrals for neglect rose last quarter.",
            "cohort": "any", "sample_size": "3", "tool": "case_file_audit", "deadline-day": str(deadline.day),
            "deadline-month": str(deadline.month), "deadline-year": str(deadline.year)}


def ready_task(session, instance_id: int, spec_name: str) -> int:
    return read(session, lambda s: s.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.spec_name == spec_name, HumanTask.state == "ready")))


def thematic_row(session) -> dict:
    def query(s):
        row = s.scalar(select(ThematicAudit))
        return {column: getattr(row, column) for column in ("id", "reference", "instance_id", "status", "seed",
                                                            "sample", "findings", "recommendations", "signed_off_at")}
    return read(session, query)


def kinds(session, instance_id: int) -> list[str]:
    return read(session, lambda s: list(s.scalars(select(Event.kind).where(Event.instance_id == instance_id)
                                                  .order_by(Event.seq))))


FINDINGS = {"findings": "Plans named the neglect but rarely measured change.", "learning": "Measure change in plans.",
            "recommendations.0.recommendation": "Add a measure of change to every neglect plan",
            "recommendations.0.owner": "head_of_service", "recommendations.0.due_on-day": "1",
            "recommendations.0.due_on-month": "6", "recommendations.0.due_on-year": "2027", "action": "complete"}


def test_a_thematic_audit_from_commission_to_published_report(app, session):
    browsers = Browsers(app)
    psw, lead = browsers["psw"], browsers["qa.lead"]
    service_id = read(session, lambda s: s.scalar(select(Service.id).where(Service.name == SERVICE)))
    assert 'data-process="thematic_audit"' in psw.get("/start").get_data(as_text=True)

    too_soon = psw.post("/start/thematic_audit", data={"about": str(service_id),
                                                       **commission(clock.today() + timedelta(days=10))})
    assert too_soon.status_code == 422 and "The deadline must leave time" in too_soon.get_data(as_text=True)
    assert read(session, lambda s: s.scalar(select(ThematicAudit))) is None

    started = psw.post("/start/thematic_audit", data={"about": str(service_id),
                                                      **commission(clock.today() + timedelta(days=90))})
    assert started.status_code == 302 and started.location.endswith("/start")  # the next step is the QA lead's
    thematic = thematic_row(session)
    assert thematic["status"] == "commissioned" and thematic["reference"].startswith("THM-")

    draw = ready_task(session, thematic["instance_id"], "draw_sample")
    assert f"/tasks/{draw}" in lead.get("/inbox").get_data(as_text=True)
    assert psw.post(f"/tasks/{draw}", data={"action": "claim"}).status_code == 403  # not the QA lead
    lead.post(f"/tasks/{draw}", data={"action": "claim"})
    drawn = lead.post(f"/tasks/{draw}", data={"seed": "4242", "confirmed": "yes", "action": "complete"})
    assert drawn.status_code == 302
    thematic = thematic_row(session)
    assert thematic["status"] == "in_review" and thematic["seed"] == 4242 and thematic["sample"] == []
    review = ready_task(session, thematic["instance_id"], "review_sample")
    assert f"/tasks/{review}" in lead.get("/inbox").get_data(as_text=True)
    assert lead.post(f"/thematic/{thematic['id']}/confirm").status_code == 302  # nothing changed: the draw stands
    thematic = thematic_row(session)
    assert thematic["status"] == "audits_running" and len(thematic["sample"]) == 3

    def children(s):
        ids = list(s.scalars(select(InstanceStart.instance_id).where(
            InstanceStart.parent_instance_id == thematic["instance_id"])))
        return [(a.id, a.reference, a.audit_type, a.service_id, a.case.reference)
                for a in s.scalars(select(Audit).where(Audit.instance_id.in_(ids)).order_by(Audit.id))]
    audits = read(session, children)
    assert len(audits) == 3 and {row[2] for row in audits} == {"thematic"} and {row[3] for row in audits} == {service_id}
    assert sorted(row[4] for row in audits) == sorted(thematic["sample"])
    drawn_event = read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(
        Event.kind == "thematic.sample_drawn"))))
    assert drawn_event["seed"] == 4242 and len(drawn_event["allocations"]) == 3

    # Parent and children on both instance pages.
    parent_page = lead.get(f"/instances/{thematic['instance_id']}").get_data(as_text=True)
    assert 'id="child-instances"' in parent_page and all(row[1] in parent_page for row in audits)
    child_instance = read(session, lambda s: s.get(Audit, audits[0][0]).instance_id)
    child_page = lead.get(f"/instances/{child_instance}").get_data(as_text=True)
    assert "Part of" in child_page and thematic["reference"] in child_page

    findings = ready_task(session, thematic["instance_id"], "write_findings")
    lead.post(f"/tasks/{findings}", data={"action": "claim"})
    early = lead.post(f"/tasks/{findings}", data=FINDINGS)
    assert early.status_code == 422 and "once every audit in the sample is moderated" in early.get_data(as_text=True)

    for audit_id, *_ in audits:  # each sampled audit runs its own lifecycle, as its people
        walk_audit(session, session.get(Audit, audit_id), "good", disagree=False, day=clock.today())
        session.commit()
    # Walking the audits moved the clock on: the earlier browsers' sessions have ended, so sign in again.
    browsers = Browsers(app)
    psw, lead = browsers["psw"], browsers["qa.lead"]
    assert lead.post(f"/tasks/{findings}", data=FINDINGS).status_code == 302
    assert thematic_row(session)["status"] == "awaiting_sign_off"

    sign_off = ready_task(session, thematic["instance_id"], "sign_off")
    assert f"/tasks/{sign_off}" in psw.get("/inbox").get_data(as_text=True)
    assert lead.post(f"/tasks/{sign_off}", data={"sign_off_decision": "approve", "action": "complete"}).status_code == 403
    psw.post(f"/tasks/{sign_off}", data={"sign_off_decision": "return", "sign_off_comments": "Say which teams.",
                                         "action": "complete"})
    assert thematic_row(session)["status"] == "returned"
    again = ready_task(session, thematic["instance_id"], "write_findings")
    lead.post(f"/tasks/{again}", data={"action": "claim"})
    assert lead.post(f"/tasks/{again}", data=FINDINGS).status_code == 302
    sign_off = ready_task(session, thematic["instance_id"], "sign_off")
    psw.post(f"/tasks/{sign_off}", data={"sign_off_decision": "approve", "action": "complete"})

    thematic = thematic_row(session)
    assert thematic["status"] == "published" and thematic["signed_off_at"] is not None
    assert thematic["recommendations"] == [{"recommendation": "Add a measure of change to every neglect plan",
                                            "owner": "head_of_service", "due_on": "2027-06-01"}]
    assert read(session, lambda s: s.get(ProcessInstance, thematic["instance_id"]).status) == "completed"
    assert {"thematic.commissioned", "thematic.sample_drawn", "thematic.findings_recorded", "thematic.returned",
            "thematic.published", "instance.completed"} <= set(kinds(session, thematic["instance_id"]))

    page = psw.get(f"/thematic/{thematic['id']}").get_data(as_text=True)
    assert "Published" in page and "Plans named the neglect" in page and 'id="thematic-grades"' in page
    pdf = psw.get(f"/thematic/{thematic['id']}/report.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert browsers["hos.cincp"].get(f"/thematic/{thematic['id']}").status_code == 200  # the service's head
    for outsider in ("hos.cic", "tm.safeguarding1", "sw.safeguarding1.1"):
        assert browsers[outsider].get(f"/thematic/{thematic['id']}").status_code == 403, outsider
        assert browsers[outsider].get(f"/thematic/{thematic['id']}/report.pdf").status_code == 403, outsider
    assert {"thematic.viewed", "thematic.report_downloaded"} <= set(kinds(session, thematic["instance_id"]))
    assert read(session, lambda s: verify_chain(s)).ok


def test_the_demo_history_publishes_a_thematic_audit_through_its_process(session):
    from engine.qa.demo_activities import run_thematic_history
    thematic = run_thematic_history(session, sample_size=2, seed=7)
    session.commit()
    assert thematic.status == "published" and thematic.seed == 7 and len(thematic.sample) == 2
    assert session.get(ProcessInstance, thematic.instance_id).status == "completed"
    audits = session.scalars(select(Audit).where(Audit.audit_type == "thematic")).all()
    assert len(audits) == 2 and {audit.status for audit in audits} == {"closed"}
    assert thematic.published_at.date() < clock.today()
    assert verify_chain(session).ok


def test_published_recommendations_are_tracked_in_the_master_tracker_until_verified(app, session):
    import io
    from openpyxl import load_workbook
    from engine.qa.models import AuditAction
    from engine.qa.demo_activities import run_thematic_history
    published = run_thematic_history(session, sample_size=1, seed=3)
    session.commit()
    thematic = read(session, lambda s: SimpleNamespace(**{key: getattr(published, key) for key in (
        "reference", "instance_id", "service_id")}))  # read once: the app under test must be free to write
    row = read(session, lambda s: (lambda a: {"id": a.id, "owner": a.owner_id, "instance": a.instance_id})(s.scalar(
        select(AuditAction).where(AuditAction.source == "thematic", AuditAction.source_reference == thematic.reference))))
    head_of_service = read(session, lambda s: s.get(Service, thematic.service_id).head_of_service_id)
    assert row["owner"] == head_of_service and row["instance"] == thematic.instance_id  # a head-of-service recommendation
    browsers = Browsers(app)
    listing = browsers["psw"].get("/tracker?source=thematic").text
    assert f'data-action="{row["id"]}" data-source="thematic"' in listing
    assert "Add permanence to the second-review template" in listing and "Thematic audit" in listing
    assert f'href="/instances/{thematic.instance_id}"' in browsers["qa.lead"].get("/tracker?source=thematic").text
    assert f'data-action="{row["id"]}"' not in browsers["psw"].get("/tracker?source=dip_sample").text
    old = browsers["psw"].get("/recommendations?activity=thematic")  # the old list's address opens the tracker
    assert old.status_code == 302 and old.location.endswith("/tracker?source=thematic")
    assert browsers["hos.cic"].get(f"/tracker/actions/{row['id']}").status_code == 200  # its service's head, the owner
    assert browsers["hos.cincp"].get(f"/tracker/actions/{row['id']}").status_code == 404  # another service
    assert f'data-action="{row["id"]}"' not in browsers["tm.safeguarding1"].get("/tracker").text

    owner = browsers["hos.cic"]
    not_yet = owner.post(f"/tracker/actions/{row['id']}", data={
        "status": "in_progress", "evidence": "", "not_completed_reason": "Template change waits for the IRO service."})
    assert not_yet.status_code == 302
    lead = browsers["qa.lead"]
    sheet = load_workbook(io.BytesIO(lead.get("/tracker/export.xlsx?source=thematic").data)).active
    header = [cell.value for cell in sheet[1]]
    exported = [dict(zip(header, values)) for values in sheet.iter_rows(min_row=2, values_only=True)]
    assert [(r["Source activity"], r["Reference"], r["Ref"], r["Status"], r["Reason not completed"]) for r in exported] == [
        ("Thematic audit", thematic.reference, "R1", "In progress", "Template change waits for the IRO service.")]
    today = clock.today()
    done = owner.post(f"/tracker/actions/{row['id']}", data={
        "status": "completed", "evidence": "Template v3 issued", "completed_on-day": str(today.day),
        "completed_on-month": str(today.month), "completed_on-year": str(today.year)})
    assert done.status_code == 302
    assert lead.post(f"/tracker/actions/{row['id']}", data={"action": "verify"}).status_code == 302
    state = read(session, lambda s: (lambda a: (a.status, a.evidence, a.verified_by_id is not None))(
        s.get(AuditAction, row["id"])))
    assert state == ("completed", "Template v3 issued", True)
    assert {"actions.tracked", "action.updated", "action.verified"} <= set(kinds(session, thematic.instance_id))
