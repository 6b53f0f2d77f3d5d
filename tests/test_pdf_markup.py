"""Text full of ReportLab markup characters goes into the PDFs as the literal text it is.

ReportLab reads a Paragraph's text as markup: a "<" in a case reference or a rationale used
to make the inspector export fail for every audit it covered, and "<font>" could restyle
the page. Here a case reference and a team name (as they might stand from before references
were checked), a council name and the words people typed all carry `<`, `&`, `<para>`,
`<font>` and `]]>`; the report PDF and the inspector export's audit PDF must build, read
back with pypdf, and show each text exactly as typed.
"""
import io
import re
import zipfile
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from engine.database import make_session_factory
from engine.qa import reports
from engine.qa.demo_history import ActionPlan, AuditPlan, write_history
from engine.qa.models import AreaGrade, Audit, AuditAction, Case, Team
from engine.qa.report_pdf import report_pdf
from engine.qa.trail_export import ExportFilters, request_export, run_export
from tests.conftest import user_named

CASE_REFERENCE = "CS<para>1<b>&2]]>"
TEAM = 'MASH <font color="red">1</font> & Co'
COUNCIL = "Northbridge <para> & <b>Council</b>"
RATIONALE = "Plan <para>unclear</para> & the <font size=40>child</font> said ]]> <br/> &amp; <"
ACTION = "Write the <chronology> & check it ]]>"


def pdf_text(data: bytes) -> str:
    """The PDF's text with runs of white space made single: lines wrap where the page ends."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_report_pdf_prints_markup_characters_as_text(session):
    team = session.scalar(select(Team).where(Team.name == "MASH 1"))
    write_history(session, [AuditPlan("MASH 1", date(2025, 6, 2), "good")])
    team.name = TEAM
    session.commit()
    period = reports.cycles_of_year(2025)[0]
    report = reports.build_report(session, period, reports.Scope(team_id=team.id), as_of=date(2026, 1, 5))
    assert TEAM in report["scope_label"]
    text = pdf_text(report_pdf(report, COUNCIL))
    assert f"{COUNCIL}: case file audit report" in text
    assert spaced(TEAM) in text


def test_the_inspector_exports_audit_pdf_prints_them_too(session, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_EXPORT_DIR", str(tmp_path))
    write_history(session, [AuditPlan("MASH 1", date(2025, 6, 2), "requires_improvement",
                                      actions=[ActionPlan("chronology", 30, 12)], closed=True)])
    audit = session.scalar(select(Audit))
    session.get(Case, audit.case_id).reference = CASE_REFERENCE  # as it may stand from before the pattern
    audit.overall_rationale = RATIONALE
    session.scalar(select(AreaGrade).where(AreaGrade.audit_id == audit.id)).rationale = RATIONALE
    session.scalar(select(AuditAction).where(AuditAction.audit_id == audit.id)).description = ACTION
    reference = audit.reference
    export = request_export(session, user_named(session, "director"), ExportFilters(date(2025, 6, 1), date(2025, 6, 30)))
    session.commit()
    session.close()
    done = run_export(make_session_factory(database_url), export.id, tmp_path)
    assert done.status == "done", done.error
    with zipfile.ZipFile(tmp_path / done.file_name) as archive:
        reader_bytes = archive.read(f"audits/{reference}.pdf")
    text = pdf_text(reader_bytes)
    assert f"Case file audit {reference}: case {CASE_REFERENCE}" in text
    assert spaced(RATIONALE) in text
    assert "<chronology> &" in text
    assert PdfReader(io.BytesIO(reader_bytes)).metadata.title == f"Audit {reference}"
