"""The annual QA report over HTTP as the real people: the QA lead assembles it from the year's
activities (seeded through their real processes), writes its sections, the director returns it
once and then signs it off, and it is published as a page and a PDF."""
from datetime import timedelta

from sqlalchemy import select

from engine.clock import clock
from engine.qa.demo_activities import run_dip_sample_history, run_practice_week_history, run_thematic_history
from engine.qa.reports import reporting_year
from engine.qa.thematic_models import AnnualReport
from engine.runtime.models import Event, HumanTask, ProcessInstance
from tests.test_web_lifecycle import Browsers, read

SECTIONS = {"introduction": "This year we widened the framework.", "audit_findings": "Most audits were good.",
            "thematic_learning": "Permanence planning starts late.", "practice_week": "Relational practice is strong.",
            "feedback": "Families want more notice of meetings.", "priorities": "Permanence and supervision."}


def ready(session, instance_id: int, step: str) -> int:
    return read(session, lambda s: s.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.spec_name == step, HumanTask.state == "ready")))


def test_the_annual_report_from_the_years_activities_to_publication(app, session):
    run_thematic_history(session, sample_size=1, seed=4)
    run_dip_sample_history(session, seed=4)
    run_practice_week_history(session)
    session.commit()
    browsers = Browsers(app)
    lead, director = browsers["qa.lead"], browsers["director"]
    year, due = reporting_year(clock.today()), clock.today() + timedelta(days=20)
    start = {"year": str(year), "due_on-day": str(due.day), "due_on-month": str(due.month), "due_on-year": str(due.year)}
    started = lead.post("/start/annual_report", data=start)
    assert started.status_code == 302 and "/tasks/" in started.location
    again = lead.post("/start/annual_report", data=start)
    assert again.status_code == 422 and f"already an annual QA report for {year}" in again.get_data(as_text=True)

    report = read(session, lambda s: (lambda r: {"id": r.id, "instance_id": r.instance_id, "figures": r.figures})(
        s.scalar(select(AnnualReport))))
    figures = report["figures"]
    assert len(figures["thematic"]) == 1 and figures["dip_samples"]["completed"] == 1
    assert figures["practice_weeks"]["held"] == 1 and figures["practice_weeks"]["observations"] >= 1
    assert browsers["hos.cincp"].get(f"/annual-reports/{report['id']}").status_code == 403  # not published yet

    write = int(started.location.rsplit("/", 1)[1])
    assert director.post(f"/tasks/{write}", data={**SECTIONS, "action": "complete"}).status_code == 403
    lead.post(f"/tasks/{write}", data={"action": "claim"})
    assert lead.post(f"/tasks/{write}", data={**SECTIONS, "action": "complete"}).status_code == 302
    sign_off = ready(session, report["instance_id"], "sign_off")
    assert lead.post(f"/tasks/{sign_off}", data={"action": "claim"}).status_code == 403  # the director's
    director.post(f"/tasks/{sign_off}", data={"action": "claim"})
    director.post(f"/tasks/{sign_off}", data={"sign_off_decision": "return", "sign_off_comments": "Add the figures.",
                                              "action": "complete"})
    assert read(session, lambda s: s.get(AnnualReport, report["id"]).status) == "returned"
    rewrite = ready(session, report["instance_id"], "write")
    lead.post(f"/tasks/{rewrite}", data={"action": "claim"})
    lead.post(f"/tasks/{rewrite}", data={**SECTIONS, "action": "complete"})
    sign_off = ready(session, report["instance_id"], "sign_off")
    director.post(f"/tasks/{sign_off}", data={"action": "claim"})
    director.post(f"/tasks/{sign_off}", data={"sign_off_decision": "approve", "action": "complete"})

    assert read(session, lambda s: (s.get(AnnualReport, report["id"]).status,
                                    s.get(ProcessInstance, report["instance_id"]).status)) == ("published", "completed")
    page = browsers["hos.cincp"].get(f"/annual-reports/{report['id']}").get_data(as_text=True)
    assert "Permanence planning starts late." in page and "Published" in page
    pdf = director.get(f"/annual-reports/{report['id']}/report.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert browsers["tm.safeguarding1"].get(f"/annual-reports/{report['id']}").status_code == 403
    kinds = read(session, lambda s: set(s.scalars(select(Event.kind).where(Event.instance_id == report["instance_id"]))))
    assert {"annual_report.assembled", "annual_report.written", "annual_report.returned", "annual_report.published",
            "annual_report.viewed", "annual_report.downloaded"} <= kinds
