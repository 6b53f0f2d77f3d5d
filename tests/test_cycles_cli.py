"""The operator's commands for the register and the cycle: `import-cases` and `start-cycle`."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from engine import cli
from engine.clock import clock
from engine.qa.cycle_models import AuditCycle, CycleAllocation
from engine.qa.models import Case
from tests.test_web_lifecycle import read

HEADER = "case_reference,cohort,team,worker,opened_on\n"


@pytest.fixture
def url(database_url, monkeypatch):
    monkeypatch.setenv("QA_DATABASE_URL", database_url)
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    return database_url


def test_import_cases_prints_progress_and_refuses_a_file_with_bad_rows_unless_asked(url, session, tmp_path, capsys):
    rows = [f"CLI{n:04d},Child in care,Children in Care 1,sw.cic1.1,2026-02-01" for n in range(1, 451)]
    bad = tmp_path / "register.csv"
    bad.write_text(HEADER + "\n".join(rows + ["CLI9999,Child in care,Nowhere,sw.cic1.1,2026-02-01"]) + "\n")

    assert cli.main(["import-cases", str(bad), "--by", "qa.lead"]) == 1
    out, err = capsys.readouterr()
    assert "Checked 200 of 451 rows" in out and "Checked 400 of 451 rows" in out
    assert "Line 452: there is no team called 'Nowhere'" in err and "Nothing imported: 1 of 451 rows are wrong" in err
    assert read(session, lambda s: s.scalar(select(func.count(Case.id)).where(Case.reference.like("CLI%")))) == 0

    assert cli.main(["import-cases", str(bad), "--good-rows-only"]) == 0
    out, err = capsys.readouterr()
    assert "Checked 451 of 451 rows" in out and "450 new cases, 0 updated, 0 unchanged; 1 bad rows left out." in out
    assert read(session, lambda s: s.scalar(select(func.count(Case.id)).where(Case.reference.like("CLI%")))) == 450

    assert cli.main(["import-cases", str(tmp_path / "missing.csv")]) == 2
    wrong = tmp_path / "register.txt"
    wrong.write_text("x")
    assert cli.main(["import-cases", str(wrong)]) == 1
    assert "Upload a .csv or .xlsx file" in capsys.readouterr().err


def test_start_cycle_draws_as_the_qa_lead_and_refuses_anyone_else(url, session, capsys):
    assert cli.main(["start-cycle", "--by", "tm.mash1"]) == 1
    assert "Only the QA lead can start" in capsys.readouterr().err
    assert cli.main(["start-cycle", "--by", "qa.lead", "--sample-size", "1", "--cadence-weeks", "4"]) == 0
    out = capsys.readouterr().out
    seed, *settings = read(session, lambda s: s.execute(select(
        AuditCycle.seed, AuditCycle.status, AuditCycle.sample_size, AuditCycle.cadence_weeks, AuditCycle.sample_basis)).one())
    proposed = read(session, lambda s: s.scalar(select(func.count(CycleAllocation.id))))
    assert f"Cycle 1 drawn with seed {seed}: {proposed} cases proposed" in out
    assert settings == ["in_review", 1, 4, "per_team"]
    assert cli.main(["start-cycle", "--by", "qa.lead"]) == 1
    assert "Cycle 1 is awaiting review" in capsys.readouterr().err
