"""The case profile in the register import: stored, updated on re-import, bad values named by
line, and a file with a name or date of birth column refused whole (engine and page)."""
from sqlalchemy import func, select

from engine.qa.case_profile import identifying_column
from engine.qa.case_register import RegisterFormatError, import_register
from engine.qa.models import Case
from engine.runtime.models import Event
from engine import cli
from tests.test_cycles_cli import url  # noqa: F401  (the CLI's database)
from tests.test_register_web import qa, upload  # noqa: F401  (the signed-in QA officer fixture)
from tests.test_web_lifecycle import read

PROFILE_HEADER = ("case_reference,cohort,team,worker,opened_on,age_band,Legal status,Placement moves 12 months,"
                  "missing_episodes_12_months,Disability,First language,referrals_12_months,s47 enquiries\n")
ROW = "PRO0001,Child in care,Children in Care 1,sw.cic1.1,2025-01-01,10-15,Care order (section 31),3,1,yes,Polish,2,0"


def _file(*rows: str, header: str = PROFILE_HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode()


def _case(session, reference: str) -> Case:
    return session.scalar(select(Case).where(Case.reference == reference).execution_options(populate_existing=True))


def test_profile_columns_are_stored_and_updated_on_reimport(session):
    report = import_register(session, "r.csv", _file(ROW), actor_id=None)
    session.commit()
    assert (report.created, report.errors) == (1, [])
    case = _case(session, "PRO0001")
    assert (case.legal_status, case.placement_moves_12_months, case.missing_episodes_12_months, case.disability,
            case.first_language, case.referrals_12_months, case.s47_enquiries_12_months, case.age_band) == \
        ("care_order", 3, 1, True, "Polish", 2, 0, "10-15")
    again = import_register(session, "r.csv", _file(ROW), actor_id=None)
    assert (again.unchanged, again.updated) == (1, 0)
    changed = import_register(session, "r.csv", _file(ROW.replace(",3,1,yes,Polish", ",4,,no,Polish")), actor_id=None)
    session.commit()
    case = _case(session, "PRO0001")
    assert changed.updated == 1
    assert (case.placement_moves_12_months, case.missing_episodes_12_months, case.disability) == (4, None, False)
    # A file without the profile columns leaves the stored profile as it was.
    plain = import_register(session, "r.csv", _file("PRO0001,Child in care,Children in Care 1,sw.cic1.1,2025-01-01,10-15",
                                                   header="case_reference,cohort,team,worker,opened_on,age_band\n"),
                            actor_id=None)
    session.commit()
    assert plain.unchanged == 1 and _case(session, "PRO0001").legal_status == "care_order"


def test_bad_profile_values_are_named_by_line_and_nothing_is_imported(session):
    before = session.scalar(select(func.count(Case.id)))
    report = import_register(session, "r.csv", _file(
        ROW,
        ROW.replace("PRO0001", "PRO0002").replace("Care order (section 31)", "Wardship maybe"),
        ROW.replace("PRO0001", "PRO0003").replace(",3,1,", ",three,1,"),
        ROW.replace("PRO0001", "PRO0004").replace(",yes,", ",sometimes,"),
        ROW.replace("PRO0001", "PRO0005").replace(",Polish,", ",Pol1sh!,")), actor_id=None)
    assert not report.applied
    assert [line for line, _ in report.errors] == [3, 4, 5, 6]
    assert "'Wardship maybe' is not a known legal status" in report.errors[0][1]
    assert "placement moves in the last 12 months: 'three' is not a whole number" in report.errors[1][1]
    assert "disability: 'sometimes' is not yes or no" in report.errors[2][1]
    assert "first language: 'Pol1sh!' is not a language name" in report.errors[3][1]
    assert session.scalar(select(func.count(Case.id))) == before


def test_a_name_or_date_of_birth_column_refuses_the_whole_file(session):
    before = session.scalar(select(func.count(Case.id)))
    for column in ("Child name", "Date of birth", "DOB", "Surname", "forename"):
        header = PROFILE_HEADER.rstrip("\n") + f",{column}\n"
        try:
            import_register(session, "r.csv", _file(ROW + ",x", header=header), actor_id=None)
        except RegisterFormatError as refusal:
            assert f"The column '{column}' looks like a child's name or date of birth" in str(refusal)
        else:
            raise AssertionError(f"a file with '{column}' was imported")
    assert session.scalar(select(func.count(Case.id))) == before
    assert not identifying_column("Team name") and not identifying_column("worker") and not identifying_column("First language")


def test_the_register_page_names_the_profile_columns_and_refuses_a_name_column(qa, session):  # noqa: F811
    page = qa.get("/register").text
    assert "legal_status" in page and "s47_enquiries_12_months" in page and "Never a name or date of birth" in page
    outcome = qa.get(upload(qa, _file(ROW + ",Jo", header=PROFILE_HEADER.rstrip("\n") + ",Child's name\n")).location).text
    assert "looks like a child&#39;s name or date of birth" in outcome and "Nothing was changed" in outcome
    assert read(session, lambda s: s.scalar(select(func.count(Case.id)).where(Case.reference == "PRO0001"))) == 0
    imported = qa.get(upload(qa, _file(ROW)).location).text
    assert "Register imported" in imported
    assert read(session, lambda s: _case(s, "PRO0001").first_language) == "Polish"
    assert read(session, lambda s: s.scalar(select(func.count(Event.seq)).where(Event.kind == "case_register.imported"))) >= 1


def test_the_cli_imports_the_profile_and_refuses_a_date_of_birth_column(url, session, tmp_path, capsys):  # noqa: F811
    with_birth = tmp_path / "with-birth.csv"
    with_birth.write_bytes(_file(ROW + ",2015-01-01", header=PROFILE_HEADER.rstrip("\n") + ",Date of birth\n"))
    assert cli.main(["import-cases", str(with_birth)]) == 1
    assert "The column 'Date of birth' looks like a child's name or date of birth" in capsys.readouterr().err
    good = tmp_path / "register.csv"
    good.write_bytes(_file(ROW))
    assert cli.main(["import-cases", str(good)]) == 0
    assert "1 new cases" in capsys.readouterr().out
    assert read(session, lambda s: _case(s, "PRO0001").s47_enquiries_12_months) == 0
    assert read(session, lambda s: _case(s, "PRO0001").legal_status) == "care_order"
