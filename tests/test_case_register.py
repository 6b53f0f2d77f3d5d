"""Importing the case register: validation by line, all-or-nothing, idempotent, CSV and XLSX."""
import io

from openpyxl import Workbook
from sqlalchemy import func, select

from engine.qa.case_register import RegisterFormatError, import_register
from engine.qa.models import Case, Team
from tests.conftest import user_named

HEADER = "case_reference,cohort,team,worker,opened_on,age_band\n"


def _csv(*lines: str) -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode()


def test_new_cases_are_created_and_a_second_import_changes_nothing(session):
    content = _csv("NEW0001,Child in need,Safeguarding and Family Support 1,sw.safeguarding1.1,2026-03-01,5-9",
                   "NEW0002,child_protection,Safeguarding and Family Support 1,sw.safeguarding1.2,01/04/2026,")
    first = import_register(session, "register.csv", content, actor_id=None)
    session.commit()
    assert (first.created, first.updated, first.errors, first.applied) == (2, 0, [], True)
    second = import_register(session, "register.csv", content, actor_id=None)
    session.commit()
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)


def test_a_changed_worker_or_team_updates_the_case(session):
    import_register(session, "r.csv", _csv("NEW0003,Child in care,Children in Care 1,sw.cic1.1,2025-01-01,10-15"), actor_id=None)
    report = import_register(session, "r.csv", _csv("NEW0003,Child in care,Children in Care 2,sw.cic2.1,2025-01-01,10-15"), actor_id=None)
    session.commit()
    case = session.scalar(select(Case).where(Case.reference == "NEW0003"))
    assert report.updated == 1
    assert case.team_id == session.scalar(select(Team.id).where(Team.name == "Children in Care 2"))
    assert case.worker_id == user_named(session, "sw.cic2.1").id


def test_bad_rows_are_reported_by_line_and_nothing_is_applied(session):
    before = session.scalar(select(func.count(Case.id)))
    content = _csv("NEW0004,Child in need,Safeguarding and Family Support 1,sw.safeguarding1.1,2026-03-01,",
                   "NEW0005,Martian,Safeguarding and Family Support 1,sw.safeguarding1.1,2026-03-01,",
                   ",Child in need,Safeguarding and Family Support 1,sw.safeguarding1.1,2026-03-01,",
                   "NEW0006,Child in need,No Such Team,sw.safeguarding1.1,2026-03-01,",
                   "NEW0007,Child in need,Safeguarding and Family Support 1,nobody,2026-03-01,",
                   "NEW0008,Child in need,Safeguarding and Family Support 1,sw.safeguarding1.1,31/31/2026,",
                   "NEW0004,Child in need,Safeguarding and Family Support 1,sw.safeguarding1.1,2026-03-01,")
    report = import_register(session, "r.csv", content, actor_id=None)
    assert not report.applied
    assert [line for line, _ in report.errors] == [3, 4, 5, 6, 7, 8]
    assert "Martian" in report.errors[0][1] and "already on line 2" in report.errors[5][1]
    assert session.scalar(select(func.count(Case.id))) == before
    good_only = import_register(session, "r.csv", content, actor_id=None, apply_good_rows=True)
    assert good_only.applied and good_only.created == 1


def test_xlsx_files_import_too_and_other_files_are_refused(session):
    book = Workbook()
    sheet = book.active
    sheet.append(["Case reference", "Cohort", "Team", "Worker", "Opened on"])
    sheet.append(["NEW0009", "Care leaver", "Leaving Care 1", "sw.leavingcare1.1", "2024-06-30"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert import_register(session, "r.xlsx", buffer.getvalue(), actor_id=None).created == 1
    for name, content in (("r.txt", b"x"), ("r.csv", b"case_reference,team\nX,Y\n"), ("r.xlsx", b"not a zip")):
        try:
            import_register(session, name, content, actor_id=None)
        except RegisterFormatError as error:
            assert str(error)
        else:
            raise AssertionError(f"{name} was accepted")
