"""The inspector export, opened and checked file by file against its own manifest.

The history is written by the direct generator; the export is made by the engine
(with worker processes, as for a year's export) and through the web pages (in the
background, with its progress page). Every file's SHA-256 is recomputed, every
event's hash is recomputed from the JSON, and the PDFs are read back for content.
"""
import csv
import hashlib
import io
import json
import time
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.qa.demo_history import ActionPlan, AuditPlan, random_plans, write_history
from engine.qa.models import Audit, Team
from engine.qa.trail_export import ExportError, ExportFilters, request_export, run_export
from engine.runtime.events import canonical_json, event_hash
from engine.runtime.models import ChainHead, Event
from tests.conftest import sign_in, user_named

YEAR = ExportFilters(date(2025, 4, 1), date(2026, 3, 31))


@pytest.fixture
def export_dir(tmp_path, monkeypatch):
    directory = tmp_path / "exports"
    monkeypatch.setenv("QA_EXPORT_DIR", str(directory))
    return directory


def open_export(path) -> tuple[zipfile.ZipFile, dict]:
    archive = zipfile.ZipFile(path)
    return archive, json.loads(archive.read("manifest.json"))


def check_against_manifest(archive: zipfile.ZipFile, manifest: dict) -> None:
    """Every file is listed with the right SHA-256 and size, and nothing unlisted is in the zip."""
    listed = {item["path"]: item for item in manifest["files"]}
    assert set(archive.namelist()) == set(listed) | {"manifest.json"}
    for name, item in listed.items():
        data = archive.read(name)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (item["sha256"], item["bytes"]), name


def check_event_hashes(events: list[dict]) -> None:
    """Each event's hash is recomputable from the JSON alone, as the manifest's recipe says."""
    for event in events:
        fields = {**event, "occurred_at": datetime.fromisoformat(event["occurred_at"]),
                  "payload": canonical_json(event["payload"])}
        assert event_hash(fields) == event["hash"], event["seq"]


def test_an_exported_year_checks_out_file_by_file(session, database_url, export_dir):
    plans = random_plans(session, date(2025, 4, 1), cycles=9, audits_per_cycle=6, seed=3)
    write_history(session, plans)
    lead = user_named(session, "qa.lead")
    export = request_export(session, lead, YEAR)
    session.commit()
    head_seq, head_hash = session.execute(select(ChainHead.seq, ChainHead.hash)).one()
    session.close()  # hand the database to the export's own connections

    seen = []
    done = run_export(make_session_factory(database_url), export.id, export_dir, workers=2,
                      progress=lambda count, total: seen.append((count, total)))
    assert done.status == "done", done.error
    assert seen[0] == (0, 54) and seen[-1] == (54, 54)
    path = export_dir / done.file_name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == done.sha256

    archive, manifest = open_export(path)
    check_against_manifest(archive, manifest)
    assert manifest["chain_head"] == {"seq": head_seq, "hash": head_hash}
    assert manifest["counts"]["audits"] == 54
    references = set(session.scalars(select(Audit.reference)))
    assert {name for name in archive.namelist() if name.startswith("audits/")} == {f"audits/{r}.pdf" for r in references}

    exported = json.loads(archive.read("events.json"))["events"]
    check_event_hashes(exported)
    assert [e["seq"] for e in exported] == sorted(e["seq"] for e in exported)
    stored = session.scalars(select(Event).where(Event.seq.in_([e["seq"] for e in exported]))).all()
    assert {e.seq: e.hash for e in stored} == {e["seq"]: e["hash"] for e in exported}
    assert "audit.viewed" in {e["kind"] for e in exported}

    rows = list(csv.DictReader(io.StringIO(archive.read("summary.csv").decode())))
    assert {row["audit"] for row in rows} == references
    sheet = load_workbook(io.BytesIO(archive.read("summary.xlsx")), read_only=True).active
    assert [cell.value for cell in next(sheet.iter_rows())][:2] == ["audit", "case_reference"]
    assert sorted(row[0].value for row in list(sheet.iter_rows())[1:]) == sorted(references)
    summary_text = archive.read("summary.csv").decode()
    names = session.scalars(select(User.display_name)).all()
    assert not [name for name in names if name in summary_text], "the summary must hold no names"

    recorded = {e.kind: json.loads(e.payload) for e in session.scalars(
        select(Event).where(Event.subject_type == "trail_export", Event.subject_id == str(export.id)))}
    assert recorded["trail.export_requested"]["filters"]["start"] == "2025-04-01"
    assert recorded["trail.export_generated"]["zip_sha256"] == done.sha256
    assert recorded["trail.export_generated"]["audits"] == 54


def june_2025_audit_pdf_text(session, database_url, export_dir, reference: str) -> str:
    """The director exports June 2025; the text of one audit's PDF, after checking the manifest."""
    export = request_export(session, user_named(session, "director"), ExportFilters(date(2025, 6, 1), date(2025, 6, 30)))
    session.commit()
    session.close()
    done = run_export(make_session_factory(database_url), export.id, export_dir)
    archive, manifest = open_export(export_dir / done.file_name)
    check_against_manifest(archive, manifest)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(archive.read(f"audits/{reference}.pdf"))).pages)


def test_one_audit_pdf_holds_its_whole_record(session, database_url, export_dir):
    write_history(session, [AuditPlan("MASH 1", date(2025, 6, 2), "requires_improvement",
                                      moderated_grade="good", moderated_area_grades={"planning": "good"},
                                      actions=[ActionPlan("chronology", 30, 12)], closed=True, views=2,
                                      answers={"chronology.used_in_analysis": "not_applicable"},
                                      moderated_answers={"planning.smart_plan": "partly"}, impact="no_change")])
    audit = session.scalar(select(Audit))
    case_reference, reference = audit.case.reference, audit.reference
    text = june_2025_audit_pdf_text(session, database_url, export_dir, reference)
    for expected in (f"Case file audit {reference}: case {case_reference}", "Grades by area, before and after moderation",
                     "Quality of planning", "Requires improvement to be good", "Good", "Moderated grade",
                     "Generated history: moderation rationale.", "Generated feedback summary.",
                     "Actions and their outcome", "Generated action 1", "completed",
                     "History: every event, with who viewed the audit", "Audit allocated", "Audit moderated",
                     "Audit viewed", "Audit closed"):
        assert expected in text, expected
    flat = " ".join(text.split())
    for expected in ("What the auditor found: each question's answer and where the evidence is",
                     "Is there a chronology on the file?", "Case note, 2 Jun 2025: Generated evidence note.",
                     "What has changed for the child Not changed Generated: what tells the auditor so.",
                     "Is it analysed and used to inform the assessment and plan (patterns, cumulative harm)? N/A"):
        assert expected in flat, expected
    for raw in ("not_applicable", "no_change", "case_note"):
        assert raw not in text, raw


def test_filters_choose_the_audits(session, database_url, export_dir):
    write_history(session, [AuditPlan("MASH 1", date(2025, 5, 1), "good"),
                            AuditPlan("MASH 1", date(2025, 5, 2), "good", audit_type="thematic"),
                            AuditPlan("Children in Care 1", date(2025, 5, 3), "good"),
                            AuditPlan("MASH 1", date(2025, 7, 1), "good")])
    mash = session.scalar(select(Team).where(Team.name == "MASH 1"))
    lead = user_named(session, "qa.lead")
    cases = [(ExportFilters(date(2025, 5, 1), date(2025, 5, 31), team_id=mash.id), 2),
             (ExportFilters(date(2025, 5, 1), date(2025, 5, 31), audit_type="thematic"), 1),
             (ExportFilters(date(2025, 5, 1), date(2025, 5, 31), service_id=mash.service_id), 2),
             (ExportFilters(date(2025, 4, 1), date(2025, 7, 31)), 4)]
    for filters, expected in cases:
        export = request_export(session, lead, filters)
        session.commit()
        session.close()
        done = run_export(make_session_factory(database_url), export.id, export_dir)
        archive, manifest = open_export(export_dir / done.file_name)
        assert manifest["counts"]["audits"] == expected, filters


def test_bad_requests_change_nothing(session):
    lead, officer = user_named(session, "qa.lead"), user_named(session, "qa.officer1")
    mash = session.scalar(select(Team).where(Team.name == "MASH 1"))
    other_service = session.scalar(select(Team).where(Team.service_id != mash.service_id)).service_id
    clock.set(None)
    refusals = [(officer, YEAR, "Only the QA lead or the director"),
                (lead, ExportFilters(date(2025, 5, 1), date(2025, 4, 1)), "on or before its end"),
                (lead, ExportFilters(date(2025, 5, 1), date(2099, 1, 1)), "cannot be in the future"),
                (lead, ExportFilters(date(2025, 5, 1), date(2025, 6, 1), team_id=mash.id, service_id=other_service),
                 "MASH 1 is not in the chosen service"),
                (lead, ExportFilters(date(2025, 5, 1), date(2025, 6, 1), audit_type="everything"), "type of audit")]
    before = session.scalar(select(ChainHead.seq))
    for user, filters, message in refusals:
        with pytest.raises(ExportError, match=message):
            request_export(session, user, filters)
        session.rollback()
    assert session.scalar(select(ChainHead.seq)) == before


def test_the_qa_lead_exports_from_the_page_and_watches_it_finish(app, session, export_dir):
    write_history(session, [AuditPlan("MASH 1", date(2025, 5, 1), "good", moderated_grade="good")])
    session.commit()
    session.close()
    client = app.test_client()
    sign_in(client, "qa.lead")
    refused = client.post("/trail/exports", data={"period": "custom", "start-day": "31", "start-month": "2",
                                                  "start-year": "2025", "end-day": "", "end-month": "", "end-year": ""})
    assert refused.status_code == 422
    assert "Start date must be a real date" in refused.text and "End date must be a real date" in refused.text

    response = client.post("/trail/exports", data={"period": "12"})
    assert response.status_code == 302
    status_url = response.location
    for _ in range(100):
        page = client.get(status_url)
        if "Download the zip" in page.text or "The export failed" in page.text:
            break
        assert 'http-equiv="refresh"' in page.text
        time.sleep(0.1)
    assert "Download the zip" in page.text, page.text
    download = client.get(f"{status_url}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    check_against_manifest(archive, json.loads(archive.read("manifest.json")))
    kinds = session.scalars(select(Event.kind).where(Event.subject_type == "trail_export")).all()
    assert kinds == ["trail.export_requested", "trail.export_generated", "trail.export_downloaded"]
