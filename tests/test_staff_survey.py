"""The practitioner survey: opened by the timer once a period, answered anonymously once,
reported only for groups of five or more, and read by leaders as staffing pressure."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, func, inspect, select

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.database import make_session_factory
from engine.notification_models import Notification
from engine.qa import staff_survey
from engine.qa.models import Team
from engine.qa.staff_survey_models import SurveyParticipation, SurveyResponse, SurveyRound
from engine.runtime.models import Event
from tests.conftest import sign_in, user_named

START = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)
GOOD = {"wellbeing": "4", "caseload": "mostly", "supervision_quality": "4", "supervision_regular": "yes",
        "learning_offered": "yes", "what_would_help": "Protected time for direct work"}
STRETCHED = dict(GOOD, wellbeing="2", caseload="no", supervision_regular="sometimes", what_would_help="")


def practitioners(session, team_name=None, count=None):
    query = select(User).join(UserRole).where(UserRole.role == "practitioner", User.active.is_(True))
    if team_name:
        query = query.join(Team, Team.id == User.team_id).where(Team.name.like(f"{team_name}%"))
    return list(session.scalars(query.order_by(User.id)))[:count]


def test_the_timer_opens_one_round_a_period_invites_everyone_and_reminds_halfway(database_url):
    clock.set(START)
    factory = make_session_factory(database_url)
    assert staff_survey.run_scheduled(factory)["opened"] == 1
    assert staff_survey.run_scheduled(factory) is None  # a second scheduler run opens nothing
    with factory() as session:
        survey = session.scalar(select(SurveyRound))
        invited = staff_survey.invited_people(session)
        assert survey.period_start.isoformat() == "2027-01-01" and survey.invited == len(invited) > 100
        invitations = session.scalar(select(func.count()).select_from(Notification)
                                     .where(Notification.kind == "survey_invitation"))
        assert invitations == len(invited)
        first = practitioners(session)[0]
        staff_survey.answer(session, survey, first, dict(GOOD))
        session.commit()
    clock.set(START + timedelta(days=8))
    assert staff_survey.run_scheduled(factory) == {"reminded": len(invited) - 1}
    with factory() as session:
        reminded = set(session.scalars(select(Notification.recipient_id).where(Notification.kind == "survey_reminder")))
        assert first.id not in reminded and len(reminded) == len(invited) - 1
    clock.set(START + timedelta(days=95))  # the next quarter
    assert staff_survey.run_scheduled(factory)["opened"] == 1


def test_answers_count_once_and_nothing_joins_a_response_to_a_person(session):
    clock.set(START)
    survey = staff_survey.open_round(session, user_named(session, "psw"))
    person = practitioners(session)[0]
    staff_survey.answer(session, survey, person, dict(GOOD))
    session.commit()
    with pytest.raises(staff_survey.SurveyError, match="already answered"):
        staff_survey.answer(session, survey, person, dict(STRETCHED))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    assert session.get(SurveyParticipation, (survey.id, person.id)) is not None

    responses = inspect(SurveyResponse).local_table
    assert not [fk for fk in responses.foreign_keys if fk.column.table.name == "users"]
    assert not [c for c in responses.columns if isinstance(c.type, DateTime)]
    assert {c.name for c in inspect(SurveyParticipation).local_table.columns} == {"round_id", "user_id"}
    answered = session.scalar(select(Event).where(Event.kind == "staff_survey.answered"))
    assert answered.actor_id == person.id and "Protected" not in answered.payload and "wellbeing" not in answered.payload
    response = session.scalar(select(SurveyResponse))
    assert response.id not in answered.payload and len(response.id) == 32


def test_results_are_withheld_for_groups_under_five(session):
    clock.set(START)
    survey = staff_survey.open_round(session, user_named(session, "psw"))
    people = practitioners(session)
    for person in people[:4]:
        staff_survey.answer(session, survey, person, dict(GOOD))
    session.commit()
    four = staff_survey.results(session, survey)
    assert four["overall"]["withheld"] and four["free_text"] == []
    staff_survey.answer(session, survey, people[4], dict(STRETCHED))
    session.commit()
    five = staff_survey.results(session, survey)
    assert not five["overall"]["withheld"] and five["overall"]["responses"] == 5
    caseload = next(q for q in five["overall"]["questions"] if q["question"] == "Is your caseload manageable?")
    assert caseload["answers"] == [("Yes", 0, 0), ("Mostly", 4, 80), ("No", 1, 20)]
    assert five["free_text"] == ["Protected time for direct work"] * 4
    assert all(group["withheld"] for group in five["by_service"] if group.get("responses", 0) < 5)
    pressure = staff_survey.staffing_pressure(session)[0]
    assert (pressure["wellbeing_average"], pressure["caseload_unmanageable"], pressure["supervision_irregular"]) == (3.6, 20, 20)


def test_the_psw_opens_a_round_staff_answer_and_leaders_read_results_over_http(app):
    clock.set(START)
    psw = app.test_client()
    sign_in(psw, "psw")
    assert psw.get("/surveys").status_code == 200
    opened = psw.post("/surveys/open", follow_redirects=True).get_data(as_text=True)
    assert "people have been invited" in opened
    assert "already been opened" in psw.post("/surveys/open", follow_redirects=True).get_data(as_text=True)
    from webapp.extensions import db
    with app.app_context():
        usernames = [u.username for u in practitioners(db.session)[:5]]
        round_id = db.session.scalar(select(SurveyRound.id))
    form = {"wellbeing": "3", "caseload": "no", "supervision_quality": "2", "supervision_regular": "no",
            "learning_offered": "partly", "what_would_help": "Fewer cases"}
    for username in usernames:
        worker = app.test_client()
        sign_in(worker, username)
        assert "Your answers are anonymous" in worker.get("/survey").get_data(as_text=True)
        refused = worker.post("/survey", data={"wellbeing": "3"})
        assert refused.status_code == 400 and "Is your caseload manageable?" in refused.get_data(as_text=True)
        assert worker.post("/survey", data=form).status_code == 302
        assert "You have answered this round" in worker.get("/survey").get_data(as_text=True)
    assert worker.get("/surveys").status_code == 403
    lead = app.test_client()
    sign_in(lead, "qa.lead")
    page = lead.get(f"/surveys/{round_id}").get_data(as_text=True)
    assert "No: 5 (100%)" in page and "Fewer cases" in page
    trend = lead.get("/surveys").get_data(as_text=True)
    assert "2.0" not in trend and "3.0" in trend and "100%" in trend
