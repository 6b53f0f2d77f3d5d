"""Feedback asked of the people at a practice observation: the head of service sends a link from
their observation, the parent answers it on the public page, and the answer shows on the
observation for the observer and the QA lead and is counted in the practice week's summary.
A used or withdrawn link is refused, someone else's observation is forbidden, a reader who
cannot open every observation gets the small-number rule, and retention blanks the words."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import clock
from engine.notification_models import OutboxEmail
from engine.qa import observation_feedback
from engine.qa.demo_activities import run_practice_week_history
from engine.qa.feedback_request_models import FeedbackRequest, FeedbackResponse
from engine.qa.feedback_requests import submit_response
from engine.qa.retention import ANONYMISED, apply_retention
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.starting import child_instance_ids
from tests.conftest import user_named
from tests.test_web_lifecycle import Browsers, read

PARENT_FORM = {"consent": "yes", "respect": "yes", "understood_why": "sometimes", "timely": "yes",
               "kept_informed": "no", "improved_for_child": "not_sure", "rating": "4",
               "comments": "The visit was calm and she listened to <i>us</i>."}
PARENT_ANSWERS = {key: value for key, value in PARENT_FORM.items() if key != "consent"} | {"consent": True}


def _week(session) -> dict:
    """A practice week whose observations are done, and hos.cincp's observation with its task."""
    week_id = run_practice_week_history(session)
    session.commit()
    observer = user_named(session, "hos.cincp")
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id.in_(child_instance_ids(session, week_id)),
                                                  HumanTask.completed_by_id == observer.id))
    return {"week": week_id, "observation": task.instance_id, "task": task.id}


@pytest.fixture
def week(app):
    from webapp.extensions import db
    with app.app_context():
        return _week(db.session)


def _letter_code(page: str) -> str:
    return re.search(r'app-letter__code">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")


def test_the_observer_sends_a_letter_the_parent_answers_and_the_answer_is_seen_and_counted(app, session, week):
    browsers = Browsers(app)
    observer = browsers["hos.cincp"]
    task_page = observer.get(f"/tasks/{week['task']}").get_data(as_text=True)
    assert "Feedback from the people at the observation" in task_page
    send = f"/observations/{week['observation']}/feedback-requests/new"
    assert send in task_page
    form = observer.get(send).get_data(as_text=True)
    assert "Observation of practice PW-" in form and "added to this observation" in form
    refused = observer.post(send, data={"channel": "letter"})
    assert refused.status_code == 400 and "Select who the feedback is from" in refused.get_data(as_text=True)
    letter = observer.post(send, data={"audience": "parent_carer", "channel": "letter"}).get_data(as_text=True)
    assert "Print this letter now" in letter and "withdraw this request on the observation" in letter
    code = _letter_code(letter)

    family = app.test_client()
    public = family.get(f"/feedback/{code}").get_data(as_text=True)
    assert "Were you treated with respect?" in public
    assert "PW-" not in public and "hos.cincp" not in public  # nothing about the observation on a public page
    assert family.post(f"/feedback/{code}", data=PARENT_FORM).status_code == 302
    used = family.get(f"/feedback/{code}")
    assert used.status_code == 410 and "already been used" in used.get_data(as_text=True)
    assert "listened" not in used.get_data(as_text=True)

    task_page = observer.get(f"/tasks/{week['task']}").get_data(as_text=True)
    assert "Parent or carer, answered on" in task_page and "Sometimes" in task_page and "Not sure" in task_page
    assert "The visit was calm and she listened to &lt;i&gt;us&lt;/i&gt;." in task_page
    lead = browsers["qa.lead"]
    instance_page = lead.get(f"/instances/{week['observation']}").get_data(as_text=True)
    assert 'id="observation-feedback"' in instance_page and "she listened to" in instance_page
    assert "Answered" in instance_page

    summary = lead.get(f"/instances/{week['week']}").get_data(as_text=True)
    assert "Feedback on the observations" in summary
    assert "1 of 1 feedback requests sent from this week's observations have been answered." in summary
    assert "Were you treated with respect?" in summary and "Yes: 1" in summary and "4 – good: 1" in summary
    assert "she listened to" in summary  # the QA lead may open every observation
    review = read(session, lambda s: s.scalar(select(HumanTask.id).where(HumanTask.instance_id == week["week"],
                                                                         HumanTask.spec_name == "review")))
    review_page = lead.get(f"/tasks/{review}").get_data(as_text=True)
    assert "Feedback on the observations" in review_page and "Not sure: 1" in review_page
    kinds = read(session, lambda s: s.scalars(select(Event.kind).where(
        Event.instance_id == week["observation"], Event.kind.like("feedback_%"))).all())
    assert kinds == ["feedback_request.created", "feedback_response.received"]
    subject = read(session, lambda s: s.scalar(select(Event.subject_type).where(
        Event.kind == "feedback_request.created")))
    assert subject == "process_instance"


def test_an_emailed_link_withdrawn_by_the_observer_stops_working(app, session, week):
    observer = Browsers(app)["hos.cincp"]
    send = f"/observations/{week['observation']}/feedback-requests/new"
    bad = observer.post(send, data={"audience": "professional", "channel": "email", "email": "not an address"})
    assert bad.status_code == 400 and "Enter an email address in the correct format" in bad.get_data(as_text=True)
    sent = observer.post(send, data={"audience": "professional", "channel": "email", "email": "gp@example.org"})
    assert sent.status_code == 302 and sent.location.endswith(f"/tasks/{week['task']}")
    email = read(session, lambda s: s.scalar(select(OutboxEmail).where(OutboxEmail.recipient_address == "gp@example.org")))
    code = re.search(r"/feedback/([A-Z2-7]{26})", email.text_body).group(1)
    assert "PW-" not in email.text_body
    request_id = read(session, lambda s: s.scalar(select(FeedbackRequest.id).where(
        FeedbackRequest.instance_id == week["observation"])))
    assert read(session, lambda s: s.get(FeedbackRequest, request_id).subject_kind) == "observation"

    withdraw = f"/observations/{week['observation']}/feedback-requests/{request_id}/withdraw"
    assert Browsers(app)["hos.disabled"].post(withdraw).status_code == 403  # another head of service
    assert observer.post(withdraw).status_code == 302
    assert "Withdrawn" in observer.get(f"/tasks/{week['task']}").get_data(as_text=True)
    closed = app.test_client().get(f"/feedback/{code}")
    assert closed.status_code == 410 and "no longer in use" in closed.get_data(as_text=True)
    assert read(session, lambda s: s.scalar(select(Event.kind).where(Event.kind == "feedback_request.withdrawn",
                                                                      Event.instance_id == week["observation"])))


def test_someone_elses_observation_is_forbidden_and_an_audit_route_does_not_open_it(app, week):
    browsers = Browsers(app)
    send = f"/observations/{week['observation']}/feedback-requests/new"
    for outsider in ("hos.disabled", "tm.mash1", "sw.safeguarding1.1"):
        assert browsers[outsider].get(send).status_code == 403
        assert browsers[outsider].post(send, data={"audience": "parent_carer", "channel": "letter"}).status_code == 403
        assert "Feedback from the people at the observation" not in browsers[outsider].get(
            f"/tasks/{week['task']}").get_data(as_text=True)
    assert browsers["qa.lead"].get(send).status_code == 200
    assert browsers["qa.lead"].get(f"/observations/{week['week']}/feedback-requests/new").status_code == 404


def test_a_reader_who_cannot_open_every_observation_gets_no_words_and_no_small_groups(session):
    ids = _week(session)
    observation = session.get(ProcessInstance, ids["observation"])
    observer, lead = user_named(session, "hos.cincp"), user_named(session, "qa.lead")
    for _ in range(2):
        issued = observation_feedback.create_request(session, observation, observer, "parent_carer", "letter")
        submit_response(session, issued.code, dict(PARENT_ANSWERS))
    session.commit()
    week = session.get(ProcessInstance, ids["week"])
    full = observation_feedback.week_summary(session, week, lead)
    assert full["opens_all"] and full["withheld"] == 0 and full["answered"] == 2
    assert {"audience": "Parent or carer", "question": "Were you treated with respect?",
            "answers": [("Yes", 2)]} in full["questions"]
    assert full["words"][0]["words"] == [PARENT_ANSWERS["comments"]] * 2
    partial = observation_feedback.week_summary(session, week, observer)  # sees only their own observation
    assert not partial["opens_all"] and partial["answered"] == 2 and partial["questions"] == []
    assert partial["withheld"] == len(full["questions"]) and partial["words"] == []
    with pytest.raises(PermissionError):
        observation_feedback.create_request(session, observation, user_named(session, "hos.disabled"),
                                            "parent_carer", "letter")


def test_retention_blanks_what_people_wrote_about_an_observation_and_keeps_their_choices(session):
    ids = _week(session)
    observation = session.get(ProcessInstance, ids["observation"])
    issued = observation_feedback.create_request(session, observation, user_named(session, "hos.cincp"),
                                                 "parent_carer", "letter")
    submit_response(session, issued.code, dict(PARENT_ANSWERS))
    session.commit()
    clock.advance(timedelta(days=6 * 365 + 130))
    apply_retention(session)
    session.commit()
    answers = session.scalar(select(FeedbackResponse.answers).where(FeedbackResponse.request_id == issued.request.id))
    assert answers["comments"] == ANONYMISED and answers["respect"] == "yes" and answers["rating"] == "4"
