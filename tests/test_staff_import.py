"""The staff import: a preview of who joins, moves, leaves and changes; bad rows by line;
nothing applied unless asked; the same file twice changes nothing."""
import io
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from engine.accounts import User
from engine.clock import clock
from engine.organisation.staff_import import SpreadsheetFormatError, import_staff
from engine.qa.case_register import import_register
from engine.qa.models import Case, Team
from engine.runtime.errors import NotAllowed
from engine.runtime.models import Event
from tests.conftest import user_named

HEADER = "EmployeeID,DisplayName,mail,userPrincipalName,Title,Department,Manager,Roles,StartDate,LeavingDate\n"


def staff_file(session, *rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def good_rows(session) -> list[str]:
    mover = user_named(session, "sw.mash1.1")
    leaver = user_named(session, "sw.mash1.2")
    manager = user_named(session, "tm.mash2")
    return [
        f"E1001,Priya Newton,priya.newton@example.invalid,priya.newton@example.invalid,Social Worker,MASH 2,"
        f"{manager.email},Practitioner,2026-01-05,",
        f"E1002,{mover.display_name},{mover.email},{mover.username},Senior Social Worker,MASH 2,,practitioner,,",
        f"E1003,{leaver.display_name},{leaver.email},{leaver.username},{leaver.job_title},MASH 1,,,,01/01/2020",
        "E1004,Tom Fostering,tom.f@example.invalid,tom.f,Team Manager,MASH 1,,team_manager;practitioner,,",
    ]


def counts(session) -> tuple:
    return (session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(Event)),
            session.scalar(select(func.count()).where(User.active.is_(False))))


def test_preview_lists_joiners_movers_leavers_and_role_changes_and_changes_nothing(session):
    admin = user_named(session, "sysadmin")
    before = counts(session)
    report = import_staff(session, "staff.csv", staff_file(session, *good_rows(session)), by=admin)
    session.commit()
    assert not report.applied and not report.errors and report.rows == 4
    assert [what for _, what in report.of_kind("joins")] == [
        "Priya Newton (priya.newton@example.invalid)", "Tom Fostering (tom.f)"]
    mover = user_named(session, "sw.mash1.1")
    assert report.of_kind("moves") == [(3, f"{mover.display_name} to MASH 2")]
    assert report.of_kind("leaves")[0][0] == 4
    assert any("job title" in what for _, what in report.of_kind("details"))
    assert counts(session) == before
    assert mover.team_id == session.scalar(select(Team.id).where(Team.name == "MASH 1"))


def test_apply_makes_the_changes_through_the_organisation_service_and_a_rerun_changes_nothing(session):
    admin = user_named(session, "sysadmin")
    content = staff_file(session, *good_rows(session))
    report = import_staff(session, "staff.csv", content, by=admin, apply=True)
    session.commit()
    assert report.applied and not report.errors
    priya = user_named(session, "priya.newton@example.invalid")
    assert priya.roles == {"practitioner"} and priya.employee_id == "E1001"
    assert priya.line_manager_id == user_named(session, "tm.mash2").id
    assert user_named(session, "sw.mash1.1").team_id == session.scalar(select(Team.id).where(Team.name == "MASH 2"))
    assert not user_named(session, "sw.mash1.2").active
    assert user_named(session, "tom.f").roles == {"team_manager", "practitioner"}
    kinds = set(session.scalars(select(Event.kind).where(Event.payload.like("%Staff import, line%"))))
    assert {"person.created", "person.moved", "person.deactivated"} <= kinds
    applied = json.loads(session.scalar(select(Event.payload).where(Event.kind == "staff_import.applied")))
    assert applied["joins"] == 2 and applied["leaves"] == 1

    again = import_staff(session, "staff.csv", content, by=admin, apply=True)
    session.commit()
    assert again.changes == [] and again.unchanged == 4

    # The case register can now name an imported worker and team.
    register = ("case_reference,cohort,team,worker,opened_on\n"
                "CS900001,Child in need,MASH 1,tom.f,2026-01-10\n").encode()
    imported = import_register(session, "register.csv", register, actor_id=admin.id)
    session.commit()
    assert imported.created == 1
    assert session.scalar(select(Case.worker_id).where(Case.reference == "CS900001")) == user_named(session, "tom.f").id


def test_every_bad_row_is_named_by_line_and_nothing_is_applied_unless_good_rows_only(session):
    admin = user_named(session, "sysadmin")
    rows = good_rows(session) + [
        "E2001,,nobody@example.invalid,nobody,Social Worker,MASH 1,,,,",
        "E2002,No Team,noteam@example.invalid,noteam,Social Worker,Nowhere,,,,",
        "E2003,Bad Role,badrole@example.invalid,badrole,Social Worker,MASH 1,,wizard,,",
        "E2004,Bad Date,baddate@example.invalid,baddate,Social Worker,MASH 1,,,31/02/2026,",
        "E2005,Taken Mail,priya.newton@example.invalid,other,Social Worker,MASH 1,,,,",
        "E2006,Admin,admin2@example.invalid,admin2,IT,MASH 1,,system administrator,,",
        "E2007,No Manager,nomanager@example.invalid,nomanager,Social Worker,MASH 1,ghost@example.invalid,,,",
        "E2008,Existing Mail,e2008@example.invalid,e2008,Social Worker,MASH 1,,,,",
    ]
    rows[-1] = rows[-1].replace("e2008@example.invalid", user_named(session, "qa.lead").email, 1).replace(
        ",e2008,", ",brand.new,")
    content = staff_file(session, *rows)
    before = counts(session)
    report = import_staff(session, "staff.csv", content, by=admin, apply=True)
    session.commit()
    assert not report.applied and counts(session) == before
    errors = dict(report.errors)
    assert sorted(errors) == [6, 7, 8, 9, 10, 11, 12]
    assert errors[6] == "the display name is missing"
    assert errors[7] == "there is no team called 'Nowhere'"
    assert "'wizard' is not a role" in errors[8]
    assert "'31/02/2026' is not a date" in errors[9]
    assert "already on line 2" in errors[10]
    assert "granted on the organisation pages" in errors[11]
    assert "ghost@example.invalid" in errors[12]
    # Line 13 names an existing person by email (the QA lead): matched, with a new username, so not an error.
    report = import_staff(session, "staff.csv", content, by=admin, apply=True, good_rows_only=True)
    session.commit()
    assert report.applied and user_named(session, "tom.f") is not None
    assert user_named(session, "nomanager") is None  # its manager was unknown: the whole row is left out


def test_only_a_system_administrator_imports_staff_and_a_bad_file_is_refused(session):
    with pytest.raises(NotAllowed):
        import_staff(session, "staff.csv", staff_file(session, *good_rows(session)), by=user_named(session, "qa.lead"))
    with pytest.raises(SpreadsheetFormatError, match="no column for: employee_id"):
        import_staff(session, "staff.csv", b"name,mail\nA,a@b.c\n", by=None)


def test_an_xlsx_export_reads_the_same(session):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    for row in good_rows(session):
        sheet.append(row.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    clock.today()
    report = import_staff(session, "staff.xlsx", buffer.getvalue(), by=user_named(session, "sysadmin"))
    assert not report.errors and len(report.of_kind("joins")) == 2


def test_the_staff_import_page_previews_then_applies_and_the_cli_does_the_same(app, session, tmp_path, capsys,
                                                                              monkeypatch, database_url):
    from engine import cli
    from tests.conftest import sign_in
    content = staff_file(session, *good_rows(session))
    session.rollback()
    client = app.test_client()
    sign_in(client, "sysadmin")
    preview = client.post("/organisation/import", data={"staff": (io.BytesIO(content), "staff.csv"),
                                                        "action": "preview"}, content_type="multipart/form-data")
    assert preview.status_code == 200 and "Nothing has been changed yet" in preview.text
    assert "Priya Newton (priya.newton@example.invalid)" in preview.text and 'id="changes-moves"' in preview.text
    assert session.scalar(select(User).where(User.username == "tom.f")) is None
    session.rollback()
    hidden = {name: value for name, value in
              __import__("re").findall(r'name="(filename|content)" value="([^"]*)"', preview.text)}
    applied = client.post("/organisation/import", data={**hidden, "action": "apply"})
    assert applied.status_code == 200 and "Staff list imported" in applied.text
    assert session.scalar(select(User.employee_id).where(User.username == "tom.f")) == "E1004"
    session.rollback()
    again = client.post("/organisation/import", data={**hidden, "action": "apply"})  # a second click
    assert "0 changes" in again.text
    session.rollback()
    assert client.post("/organisation/import", data={"staff": (io.BytesIO(b"x"), "staff.txt")},
                       content_type="multipart/form-data").status_code == 422

    path = tmp_path / "staff.csv"
    path.write_bytes(content.replace(b"Tom Fostering", b"Tom Fosterling"))
    monkeypatch.setenv("QA_DATABASE_URL", database_url)
    assert cli.main(["import-staff", str(path), "--by", "sysadmin"]) == 0
    out = capsys.readouterr().out
    assert "Details changing: Tom Fostering: name (line 5)" in out and "Preview only" in out
    assert cli.main(["import-staff", str(path), "--by", "sysadmin", "--apply"]) == 0
    assert session.scalar(select(User.display_name).where(User.username == "tom.f")) == "Tom Fosterling"
