"""The annual QA report assembled from every source: the practitioner survey (a round under 5
answers withheld), compliments and complaints by theme and the participation of children and
young people are in its figures, on its page and in its PDF; and it starts by itself once a
year, in the configured month, exactly once however many schedulers run."""
import io
from datetime import datetime, timedelta, timezone

from pypdf import PdfReader
from sqlalchemy import func, select

from engine.clock import clock
from engine.database import make_session_factory
from engine.qa import complaints_log, participation, staff_survey
from engine.qa.annual_report import run_scheduled
from engine.qa.reports import reporting_year
from engine.qa.thematic_models import AnnualReport
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.starting import start_process
from tests.conftest import sign_in, user_named

ANSWER = {"wellbeing": "4", "caseload": "mostly", "supervision_quality": "4", "supervision_regular": "yes",
          "learning_offered": "yes",
          "what_would_help": ""}
STRETCHED = dict(ANSWER, wellbeing="2", caseload="no", supervision_regular="sometimes")


def seed_sources(session, survey_answers: int) -> None:
    survey = staff_survey.open_round(session, user_named(session, "psw"))
    people = staff_survey.invited_people(session)[:survey_answers]
    for number, person in enumerate(people):
        staff_survey.answer(session, survey, person, dict(STRETCHED if number < 2 else ANSWER))
    lead = user_named(session, "qa.lead")
    for reference in ("CMP-1", "CMP-2"):
        complaints_log.record_entry(session, lead, {"reference": reference, "kind": "compliment",
                                                    "received_on": clock.today().isoformat(),
                                                    "service": "Front Door and Assessment", "theme": "listening"})
    participation.record_views(session, user_named(session, "participation.officer"), {
        "gathered_on": (clock.today() - timedelta(days=3)).isoformat(), "forum": "children_in_care_council",
        "cohort": "children_in_care", "participants": "12", "theme": "worker_changes",
        "what_they_said": "Too many workers", "what_we_did": "Handover visits"})


def assemble(session) -> int:
    start_process(session, user_named(session, "qa.lead"), "annual_report",
                  {"year": reporting_year(clock.today()), "due_on": (clock.today() + timedelta(days=20)).isoformat()})
    session.commit()
    return session.scalar(select(AnnualReport.id))


def page_and_pdf(app, report_id: int) -> tuple[str, str]:
    lead = app.test_client()
    sign_in(lead, "qa.lead")
    page = " ".join(lead.get(f"/annual-reports/{report_id}").get_data(as_text=True).split())
    pdf = lead.get(f"/annual-reports/{report_id}/report.pdf").data
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    return page, text


def test_the_survey_complaints_and_participation_are_in_the_report(app, session):
    seed_sources(session, survey_answers=5)
    report_id = assemble(session)
    figures = session.get(AnnualReport, report_id).figures
    assert figures["survey"] == [{"period_start": staff_survey.period_start(clock.today()).isoformat(),
                                  "responses": 5, "withheld": False, "wellbeing_average": 3.2,
                                  "caseload_unmanageable": 40, "supervision_irregular": 40}]
    assert figures["complaints"] == [{"label": "Being listened to", "compliments": 2, "complaints": 0, "upheld": 0}]
    assert figures["participation"] == {"sessions": 1, "participants": 12}
    session.close()

    page, pdf = page_and_pdf(app, report_id)
    for text in (page, pdf):
        assert "Practitioner survey" in text and "3.2" in text and "40%" in text
        assert "Compliments and complaints by theme" in text and "Being listened to" in text
        assert "Participation of children and young people" in text
    assert "Sessions held 1" in pdf and "Children and young people taking part 12" in pdf
    pair = '<dt class="govuk-summary-list__key">{}</dt> <dd class="govuk-summary-list__value">{}</dd>'
    assert pair.format("Sessions held", 1) in page and pair.format("Children and young people taking part", 12) in page


def test_a_survey_round_under_five_answers_is_withheld(app, session):
    seed_sources(session, survey_answers=3)
    report_id = assemble(session)
    [row] = session.get(AnnualReport, report_id).figures["survey"]
    assert (row["responses"], row["withheld"], row["wellbeing_average"]) == (3, True, None)
    session.close()
    page, pdf = page_and_pdf(app, report_id)
    for text in (page, pdf):
        assert "fewer than 5" in text


def test_the_report_starts_itself_once_in_its_month(session, database_url, monkeypatch):
    factory = make_session_factory(database_url)
    clock.set(datetime(2027, 3, 20, 9, tzinfo=timezone.utc))
    assert run_scheduled(factory) is None  # not April yet
    clock.set(datetime(2027, 4, 2, 9, tzinfo=timezone.utc))
    first = run_scheduled(factory)
    assert first is not None and run_scheduled(factory) is None and run_scheduled(factory) is None
    clock.set(datetime(2027, 4, 28, 9, tzinfo=timezone.utc))
    assert run_scheduled(factory) is None

    reports = session.scalars(select(AnnualReport)).all()
    assert [(r.year, r.reference) for r in reports] == [(2026, first["started"])]
    instance = session.get(ProcessInstance, reports[0].instance_id)
    assert instance.process_key == "annual_report" and instance.status == "running"
    write = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready"))
    assert write.role == "qa_lead"
    assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "annual_report.scheduled")) == 1

    session.close()
    monkeypatch.setenv("QA_ANNUAL_REPORT_MONTH", "5")
    clock.set(datetime(2028, 4, 2, 9, tzinfo=timezone.utc))
    assert run_scheduled(factory) is None
    clock.set(datetime(2028, 5, 2, 9, tzinfo=timezone.utc))
    assert run_scheduled(factory) is not None
    assert sorted(session.scalars(select(AnnualReport.year))) == [2026, 2027]
    factory.kw["bind"].dispose()
