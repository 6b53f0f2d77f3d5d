"""Importing the case register through its page: bad rows by line, good rows only, idempotent
re-imports, XLSX, files that cannot be read, and a large file in the background with progress."""
import io
import re
import time

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from engine.qa import register_jobs
from engine.qa.models import Case, Team
from engine.runtime.models import Event
from tests.conftest import sign_in, user_named
from tests.test_web_lifecycle import read

HEADER = "case_reference,cohort,team,worker,opened_on,age_band\n"
GOOD = ("REG0001,Child in need,Safeguarding and Family Support 1,sw.safeguarding1.1,2026-03-01,5-9",
        "REG0002,Child protection,Safeguarding and Family Support 1,sw.safeguarding1.2,01/04/2026,")
BAD = ("REG0003,Martian,Safeguarding and Family Support 1,sw.safeguarding1.1,2026-03-01,",
       "REG0004,Child in need,No Such Team,sw.safeguarding1.1,2026-03-01,",
       "REG0005,Child in need,Safeguarding and Family Support 1,nobody,31/31/2026,")


def upload(client, content: bytes, name="register.csv", good_rows_only=False):
    data = {"register": (io.BytesIO(content), name)}
    if good_rows_only:
        data["good_rows_only"] = "yes"
    return client.post("/register", data=data, content_type="multipart/form-data")


def csv_file(*lines: str) -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode()


def count(page: str, label: str) -> int:
    return int(re.search(rf"{label}</dt>\s*<dd[^>]*>(\d+)<", page).group(1))


@pytest.fixture
def qa(app):
    client = app.test_client()
    sign_in(client, "qa.officer1")
    return client


def cases(session) -> int:
    return read(session, lambda s: s.scalar(select(func.count(Case.id))))


def test_bad_rows_are_listed_by_line_and_nothing_is_imported(qa, session):
    before = cases(session)
    response = upload(qa, csv_file(GOOD[0], *BAD, GOOD[1]))
    assert response.status_code == 302
    page = qa.get(response.location).text
    assert "Nothing was imported: 3 of 5 rows are wrong" in page
    lines = re.findall(r'numeric">(\d+)</td>\s*<td class="govuk-table__cell">([^<]+)</td>', page)
    assert [int(line) for line, _ in lines] == [3, 4, 5]
    assert "&#39;Martian&#39; is not a known cohort" in lines[0][1]
    assert "There is no team called &#39;No Such Team&#39;" in lines[1][1]
    assert "There is no active member of staff &#39;nobody&#39;" in lines[2][1]
    assert cases(session) == before

    good_only = qa.get(upload(qa, csv_file(GOOD[0], *BAD, GOOD[1]), good_rows_only=True).location).text
    assert "Register imported" in good_only and count(good_only, "New cases") == 2 and count(good_only, "Bad rows") == 3
    assert cases(session) == before + 2


def test_a_second_import_of_the_same_file_changes_nothing_and_a_change_updates_the_case(qa, session):
    first = qa.get(upload(qa, csv_file(*GOOD)).location).text
    assert count(first, "New cases") == 2
    again = qa.get(upload(qa, csv_file(*GOOD)).location).text
    assert (count(again, "New cases"), count(again, "Cases updated"), count(again, "Cases unchanged")) == (0, 0, 2)
    moved = GOOD[0].replace("Safeguarding and Family Support 1", "Safeguarding and Family Support 2") \
                   .replace("sw.safeguarding1.1", "sw.safeguarding2.1")
    changed = qa.get(upload(qa, csv_file(moved, GOOD[1])).location).text
    assert (count(changed, "Cases updated"), count(changed, "Cases unchanged")) == (1, 1)
    team, worker = read(session, lambda s: (s.scalar(select(Case.team_id).where(Case.reference == "REG0001")),
                                            s.scalar(select(Case.worker_id).where(Case.reference == "REG0001"))))
    assert team == read(session, lambda s: s.scalar(select(Team.id).where(Team.name == "Safeguarding and Family Support 2")))
    assert worker == read(session, lambda s: user_named(s, "sw.safeguarding2.1").id)
    recorded = read(session, lambda s: s.scalars(select(Event.kind).where(Event.kind.like("case_register.%"))).all())
    assert recorded.count("case_register.imported") == 3 and recorded.count("case_register.import_finished") == 3


def test_xlsx_imports_and_unreadable_files_are_explained(qa, session):
    book = Workbook()
    book.active.append(["Case reference", "Cohort", "Team", "Worker", "Opened on"])
    book.active.append(["REG0010", "Care leaver", "Leaving Care 1", "sw.leavingcare1.1", "2024-06-30"])
    buffer = io.BytesIO()
    book.save(buffer)
    page = qa.get(upload(qa, buffer.getvalue(), name="register.xlsx").location).text
    assert count(page, "New cases") == 1

    missing = qa.get(upload(qa, b"case_reference,team\nX,Y\n").location).text
    assert "The file could not be imported" in missing and "no column for: cohort, worker, opened_on" in missing
    broken = qa.get(upload(qa, b"not a zip", name="register.xlsx").location).text
    assert "The XLSX file could not be read" in broken
    for response, message in ((upload(qa, b"x", name="register.txt"), "must be a CSV or XLSX file"),
                              (qa.post("/register", data={}, content_type="multipart/form-data"), "Choose the register file")):
        assert response.status_code == 422 and message in response.text


def test_a_large_file_imports_in_the_background_with_progress(qa, session, monkeypatch):
    monkeypatch.setattr(register_jobs, "BACKGROUND_BYTES", 1_000)
    rows = [f"BIG{n:05d},Child in need,Assessment 1,sw.assessment1.1,2026-01-01," for n in range(1, 1201)]
    response = upload(qa, csv_file(*rows))
    job = response.location.rsplit("/", 1)[1]
    first = qa.get(response.location).text
    assert "This page updates by itself" in first or "Register imported" in first
    assert 'http-equiv="refresh"' in first or "Register imported" in first
    states = []
    for _ in range(300):
        progress = qa.get(f"/register/imports/{job}/progress").get_json()
        states.append(progress)
        if progress["state"] != "running":
            break
        time.sleep(0.1)
    assert states[-1]["state"] == "finished"
    finished = qa.get(response.location).text
    assert count(finished, "New cases") == 1200 and "This page updates by itself" not in finished
    assert read(session, lambda s: s.scalar(select(func.count(Case.id)).where(Case.reference.like("BIG%")))) == 1200
    assert qa.get("/register/imports/no-such-job").status_code == 404


def test_the_progress_endpoint_reports_rows_checked_while_the_import_runs(qa, session, monkeypatch):
    """The import is held half way (a stand-in that reports progress, then waits for the test)."""
    import threading
    halfway, release = threading.Event(), threading.Event()
    real_import = register_jobs.import_register

    def held_import(session, filename, content, **options):
        options["progress"](600, 1200)
        halfway.set()
        release.wait(30)
        return real_import(session, filename, content, **options)

    monkeypatch.setattr(register_jobs, "BACKGROUND_BYTES", 10)
    monkeypatch.setattr(register_jobs, "import_register", held_import)
    job = upload(qa, csv_file(*GOOD)).location.rsplit("/", 1)[1]
    assert halfway.wait(30)
    try:
        assert qa.get(f"/register/imports/{job}/progress").get_json() == {"state": "running", "done": 600, "total": 1200}
        running = qa.get(f"/register/imports/{job}").text
        assert "Checked 600 of 1200 rows." in running and '<progress max="1200" value="600"' in running
    finally:
        release.set()
    for _ in range(300):
        if qa.get(f"/register/imports/{job}/progress").get_json()["state"] != "running":
            break
        time.sleep(0.05)
    assert count(qa.get(f"/register/imports/{job}").text, "New cases") == 2
