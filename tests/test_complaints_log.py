"""Compliments and complaints as intelligence: entered, imported like the case register (bad
rows by line, nothing half-applied, idempotent), scoped by service, counted by theme in reports."""
import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from engine.qa import complaints_log
from engine.qa.complaints_models import ComplimentOrComplaint
from engine.runtime.models import Event
from tests.conftest import sign_in, user_named

HEADER = "reference,type,received,service,team,theme,stage,outcome,learning\n"
GOOD_ROWS = (
    "CMP-1,complaint,2026-10-02,Children in Care,Children in Care 1,Changes of worker,stage_1,upheld,Handover visits\n"
    "CMP-2,Complaint,03/10/2026,Children in Care,,communication,Stage 2 (investigation),Not upheld,\n"
    "CMP-3,compliment,2026-10-05,Children in Care,,communication,,,\n"
    "CMP-4,complaint,2026-10-06,Front Door and Assessment,,worker changes,informal,partly upheld,\n"
)
BAD_ROWS = (
    "CMP-5,grumble,2026-10-06,Front Door and Assessment,,communication,,,\n"
    "CMP-6,complaint,2099-01-01,Front Door and Assessment,,communication,stage_1,open,\n"
    "CMP-7,complaint,2026-10-06,Front Door and Assessment,Children in Care 1,communication,stage_1,open,\n"
    "CMP-8,complaint,2026-10-06,Front Door and Assessment,,communication,,open,\n"
    "CMP-1,complaint,2026-10-06,Front Door and Assessment,,communication,stage_1,open,\n"
)


def _import(session, text, good_rows_only=False, by="qa.lead", name="log.csv"):
    report = complaints_log.import_log(session, user_named(session, by), name, text.encode(), good_rows_only)
    session.commit()
    return report


def test_a_file_with_bad_rows_changes_nothing_and_names_each_line(session):
    report = _import(session, HEADER + GOOD_ROWS + BAD_ROWS)
    assert not report.applied and session.scalar(select(func.count()).select_from(ComplimentOrComplaint)) == 0
    problems = dict(report.errors)
    assert sorted(problems) == [6, 7, 8, 9, 10]
    assert "compliment or a complaint" in problems[6] and "future" in problems[7]
    assert "no team called 'Children in Care 1' in Front Door and Assessment" in problems[8] and "needs its stage" in problems[9]
    assert "already on line 2" in problems[10]


def test_good_rows_only_then_the_same_file_again_changes_nothing(session):
    report = _import(session, HEADER + GOOD_ROWS + BAD_ROWS, good_rows_only=True)
    assert (report.applied, report.created, len(report.errors)) == (True, 4, 5)
    again = _import(session, HEADER + GOOD_ROWS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    moved_on = _import(session, HEADER + GOOD_ROWS.replace("Stage 2 (investigation),Not upheld", "stage_2,Upheld"))
    assert (moved_on.updated, moved_on.unchanged) == (1, 3)
    assert session.scalar(select(ComplimentOrComplaint.outcome).where(ComplimentOrComplaint.reference == "CMP-2")) == "upheld"
    imported = session.scalars(select(Event).where(Event.kind == "complaints_log.imported")).all()
    assert len(imported) == 3


def test_themes_are_counted_by_service_and_upheld(session):
    _import(session, HEADER + GOOD_ROWS)
    council = {row["theme"]: row for row in complaints_log.themes_summary(session, date(2026, 10, 1), date(2026, 10, 31))}
    assert (council["worker_changes"]["complaints"], council["worker_changes"]["upheld"]) == (2, 2)
    assert (council["communication"]["complaints"], council["communication"]["compliments"],
            council["communication"]["upheld"]) == (1, 1, 0)
    from engine.qa.models import Service
    front_door = session.scalar(select(Service.id).where(Service.name == "Front Door and Assessment"))
    assert [row["theme"] for row in complaints_log.themes_summary(session, date(2026, 10, 1), date(2026, 10, 31),
                                                                  front_door)] == ["worker_changes"]
    hos = user_named(session, "hos.frontdoor")
    assert {entry.reference for entry in complaints_log.read_entries(session, hos)} == {"CMP-4"}


def test_an_xlsx_export_imports_too(session):
    book = Workbook()
    sheet = book.active
    sheet.append(["Reference", "Type", "Received", "Service", "Theme"])
    sheet.append(["CMP-9", "Compliment", date(2026, 9, 1), "Front Door and Assessment", "Being listened to"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = complaints_log.import_log(session, user_named(session, "qa.lead"), "log.xlsx", buffer.getvalue())
    assert report.created == 1 and not report.errors


def test_the_qa_lead_adds_one_on_the_page_and_leaders_read_the_log(app):
    lead = app.test_client()
    sign_in(lead, "qa.lead")
    refused = lead.post("/complaints/new", data={"reference": "CMP-20", "kind": "complaint",
                                                 "received_on": "2026-11-30", "service": "Front Door and Assessment",
                                                 "theme": "timeliness"})
    assert refused.status_code == 400 and "A complaint needs its stage" in refused.get_data(as_text=True)
    added = lead.post("/complaints/new", data={"reference": "cmp-20", "kind": "complaint", "received_on": "2026-11-30",
                                               "service": "Front Door and Assessment", "theme": "timeliness", "stage": "stage_1",
                                               "outcome": "open", "learning": "Call back within two days"})
    assert added.status_code == 302
    page = lead.get("/complaints").get_data(as_text=True)
    assert "CMP-20" in page and "Call back within two days" in page and "Delays and timeliness" in page
    uploaded = lead.post("/complaints/import", data={"log": (io.BytesIO((HEADER + BAD_ROWS).encode()), "bad.csv")},
                         content_type="multipart/form-data")
    assert "Nothing was imported" in uploaded.get_data(as_text=True) and "needs its stage" in uploaded.get_data(as_text=True)

    other_hos = app.test_client()
    sign_in(other_hos, "hos.cic")
    assert "CMP-20" not in other_hos.get("/complaints").get_data(as_text=True)
    assert other_hos.get("/complaints/new").status_code == 403
    worker = app.test_client()
    sign_in(worker, "sw.safeguarding1.1")
    assert worker.get("/complaints").status_code == 403


def test_reports_set_the_themes_beside_the_audit_findings(app):
    from webapp.extensions import db
    with app.app_context():
        complaints_log.record_entry(db.session, user_named(db.session, "qa.lead"),
                                    {"reference": "CMP-30", "kind": "compliment", "received_on": "2026-12-01",
                                     "service": "Front Door and Assessment", "theme": "listening"})
        db.session.commit()
    lead = app.test_client()
    sign_in(lead, "qa.lead")
    page = lead.get("/reports?period=period:2026-11-25").get_data(as_text=True)
    assert "Compliments and complaints by theme" in page and "Being listened to" in page
