"""The inspector export's activities: thematic audits, dip samples, practice weeks and the annual
report, run through their real processes, are in the zip (a summary row per instance, their
events with hashes, the thematic and annual reports as PDF), listed in the manifest and
checked file by file; the activity filter keeps one activity."""
import csv
import io
import json
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine.clock import clock
from engine.database import make_session_factory
from engine.qa.demo_activities import run_dip_sample_history, run_practice_week_history, run_thematic_history
from engine.qa.reports import reporting_year
from engine.qa.models import Team
from engine.qa.thematic_models import AnnualReport
from engine.qa.trail_export import ExportError, ExportFilters, request_export, run_export
from engine.runtime.models import ChainHead, Event, ProcessInstance
from engine.runtime.starting import start_process
from tests.conftest import sign_in, user_named
from tests.test_trail_export import check_against_manifest, check_event_hashes, open_export


@pytest.fixture
def export_dir(tmp_path, monkeypatch):
    directory = tmp_path / "exports"
    monkeypatch.setenv("QA_EXPORT_DIR", str(directory))
    return directory


def seed_activities(session) -> dict:
    thematic = run_thematic_history(session, sample_size=1, seed=4)
    dip = run_dip_sample_history(session, seed=4)
    run_practice_week_history(session)
    lead = user_named(session, "qa.lead")
    start_process(session, lead, "annual_report", {"year": reporting_year(clock.today()),
                                                  "due_on": (clock.today() + timedelta(days=20)).isoformat()})
    session.commit()
    report = session.scalar(select(AnnualReport))
    return {"thematic": (thematic.reference, thematic.theme, thematic.instance_id), "dip": dip.reference,
            "annual": (report.reference, report.instance_id)}


def export_of(session, database_url, export_dir, **choices):
    export = request_export(session, user_named(session, "qa.lead"),
                            ExportFilters.last_months(12, clock.today(), **choices))
    session.commit()
    session.close()
    done = run_export(make_session_factory(database_url), export.id, export_dir)
    assert done.status == "done", done.error
    archive, manifest = open_export(export_dir / done.file_name)
    check_against_manifest(archive, manifest)
    return archive, manifest


def pdf_text(archive, name: str) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(archive.read(name))).pages).split())


def test_every_activity_is_in_the_export_with_its_events_and_reports(session, database_url, export_dir):
    seeded = seed_activities(session)
    instances = {(row.process_key, row.business_key, row.id) for row in session.scalars(
        select(ProcessInstance).where(ProcessInstance.process_key != "case_file_audit"))}
    thematic_ref, theme, thematic_instance = seeded["thematic"]
    annual_ref, annual_instance = seeded["annual"]

    archive, manifest = export_of(session, database_url, export_dir)
    rows = list(csv.DictReader(io.StringIO(archive.read("activities/summary.csv").decode())))
    assert {(row["activity"], row["reference"], int(row["instance"])) for row in rows} == instances
    assert {"thematic_audit", "dip_sample", "practice_week", "practice_observation", "annual_report"} \
        <= {row["activity"] for row in rows}
    by_key = {row["reference"]: row for row in rows}
    assert by_key[thematic_ref]["activity_name"] == "Thematic audit" and by_key[thematic_ref]["status"] == "completed"
    assert manifest["counts"]["activities"] == len(rows) and manifest["counts"]["audits"] >= 1
    assert manifest["filters"]["activity"] is None and manifest["activity"] == "All activities"

    exported = json.loads(archive.read("activities/events.json"))
    check_event_hashes(exported["events"])
    stored = {e.seq: e.hash for e in session.scalars(select(Event).where(
        Event.instance_id.in_([i for _, _, i in instances]), Event.seq <= manifest["chain_head"]["seq"]))}
    assert {e["seq"]: e["hash"] for e in exported["events"]} == stored
    assert sum(int(row["events"]) for row in rows) == len(stored) == manifest["counts"]["activity_events"]
    assert {"thematic.published", "annual_report.assembled"} <= {e["kind"] for e in exported["events"]}

    thematic_text = pdf_text(archive, f"activities/thematic_audit/{thematic_ref}.pdf")
    assert f"Thematic audit {thematic_ref}: {theme}" in thematic_text and "Grades of the audits" in thematic_text
    annual_text = pdf_text(archive, f"activities/annual_report/{annual_ref}.pdf")
    assert "Draft: Annual quality assurance report" in annual_text and "Thematic audits published 1" in annual_text
    assert {e["kind"] for e in exported["events"] if e["instance_id"] == annual_instance} >= {"annual_report.assembled"}


def test_the_activity_filter_keeps_one_activity(session, database_url, export_dir):
    seeded = seed_activities(session)
    thematic_ref, _, thematic_instance = seeded["thematic"]
    archive, manifest = export_of(session, database_url, export_dir, activity="thematic_audit")
    rows = list(csv.DictReader(io.StringIO(archive.read("activities/summary.csv").decode())))
    assert [(row["activity"], row["reference"]) for row in rows] == [("thematic_audit", thematic_ref)]
    assert manifest["counts"]["audits"] == 0 and manifest["activity"] == "Thematic audit"
    assert not [name for name in archive.namelist() if name.startswith("audits/")]
    assert [name for name in archive.namelist() if name.endswith(".pdf")] == [
        f"activities/thematic_audit/{thematic_ref}.pdf"]
    assert {e["instance_id"] for e in json.loads(archive.read("activities/events.json"))["events"]} == {thematic_instance}

    session.expire_all()
    archive, manifest = export_of(session, database_url, export_dir, activity="case_file_audit")
    assert "activities/summary.csv" not in archive.namelist() and manifest["counts"]["activities"] == 0
    assert manifest["counts"]["audits"] >= 1


def test_a_bad_activity_choice_changes_nothing(session):
    lead = user_named(session, "qa.lead")
    team_id = session.scalar(select(Team.id).where(Team.name == "MASH 1"))
    before = session.scalar(select(ChainHead.seq))
    for choices, message in (({"activity": "everything"}, "Choose an activity from the list"),
                             ({"activity": "thematic_audit", "audit_type": "random"}, "choose the case file audit"),
                             ({"activity": "dip_sample", "team_id": team_id}, "choose the case file audit")):
        with pytest.raises(ExportError, match=message):
            request_export(session, lead, ExportFilters.last_months(12, clock.today(), **choices))
        session.rollback()
    assert session.scalar(select(ChainHead.seq)) == before


def test_the_trail_page_offers_the_activities_and_refuses_a_bad_one(app, session):
    client = app.test_client()
    sign_in(client, "qa.lead")
    page = client.get("/trail").text
    assert '<option value="thematic_audit">Thematic audit</option>' in page
    assert '<option value="annual_report">Annual QA report</option>' in page
    before = session.scalar(select(ChainHead.seq))
    session.close()
    refused = client.post("/trail/exports", data={"period": "12", "activity": "nothing_like_it"})
    assert refused.status_code == 422 and "Choose an activity from the list." in refused.text
    assert session.scalar(select(ChainHead.seq)) == before
