"""The learning and training needs view (issue 11, point 6): practitioners' needs from their
reflections and the audits' areas for development, by team, exported as CSV and XLSX; text
blanked by retention stays out, and every view and export is recorded."""
import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from engine.qa.models import Audit, Reflection
from engine.qa.retention import ANONYMISED
from tests.test_reports_web import events_of, history, signed_in  # noqa: F401  (fixture)

YEAR = "year:2025-04-01"


def write_needs(app):
    """Give cycle one's audits known text: one need each kind kept, one anonymised, one blank."""
    from webapp.extensions import db
    with app.app_context():
        audits = db.session.scalars(select(Audit).order_by(Audit.id)).all()
        reflections = {r.audit_id: r for r in db.session.scalars(select(Reflection))}
        for audit in audits:
            audit.areas_for_development = ""
            if audit.id in reflections:
                reflections[audit.id].learning_needs = ""
        first, second = [a for a in audits if a.id in reflections][:2]
        reflections[first.id].learning_needs = "Training on writing chronologies"
        reflections[second.id].learning_needs = ANONYMISED
        first.areas_for_development = "=Analysis of the chronology"
        second.areas_for_development = ANONYMISED
        db.session.commit()
        return first.reference, first.team_id


def test_needs_are_gathered_by_team_and_blanked_text_stays_out(app, history):
    reference, _ = write_needs(app)
    page = signed_in(app, "qa.lead").get(f"/training-needs?period={YEAR}").text
    assert "Training on writing chronologies" in page and "=Analysis of the chronology" in page
    assert ANONYMISED not in page and "2 needs, by service and team" in page
    assert "Practitioner&#39;s learning or support need: " in page and reference in page
    viewed = events_of(app, "training_needs.viewed")
    assert viewed[-1][1] == {"period": YEAR, "service_id": None, "format": "page", "rows": 2}


def test_the_needs_export_as_csv_and_xlsx_safely(app, history):
    reference, _ = write_needs(app)
    client = signed_in(app, "psw")
    as_csv = client.get(f"/training-needs/export.csv?period={YEAR}")
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert [(r["From"], r["What is needed"], r["Audit"]) for r in rows] == [
        ("Practitioner's learning or support need", "Training on writing chronologies", reference),
        ("Area for development", "'=Analysis of the chronology", reference)]
    sheet = load_workbook(io.BytesIO(client.get(f"/training-needs/export.xlsx?period={YEAR}").data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Service", "Team", "From", "What is needed", "Practitioner", "Audit", "Written on"]
    assert values[2][3] == "=Analysis of the chronology" and sheet.cell(3, 4).data_type == "s"
    assert [payload["format"] for _, payload in events_of(app, "training_needs.exported")] == ["csv", "xlsx"]


def test_a_service_narrows_the_needs_and_bad_choices_fall_back(app, history):
    write_needs(app)
    client = signed_in(app, "qa.officer1")
    other = client.get(f"/training-needs?period={YEAR}&service={history['Care Leavers']}").text
    assert "No needs were written for the audits in this period." in other
    bad = client.get("/training-needs?period=year:2025-04-02&service=999").text
    assert "That period is not one of the reporting periods: showing this reporting year." in bad
    assert "There is no such service: showing all of them." in bad
