"""Feedback asked of the people who were at a practice observation (QA framework section 5).

The head of service who observed a home visit or a meeting sends the family member, young
person or professional who was there the same single-use link an auditor sends from an audit
(engine/qa/feedback_requests.py: same audiences and forms, 128-bit codes kept hashed, expiry,
withdrawal, the public page with no case details). The request is keyed to the observation's
process instance. The observer, the QA lead and anyone who may open the observation's instance
page may send, withdraw and read; the practice week shows the counts and what people said,
holding back the answers of fewer than five people from a reader who cannot open every
observation.
"""
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.qa.compliance import SMALL_NUMBER
from engine.qa.feedback_request_models import FeedbackRequest
from engine.qa.feedback_requests import (FeedbackRequestError, IssuedRequest, issue_link, request_rows,
                                         summarise_responses, withdraw_link)
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.monitoring import can_view_instance
from engine.runtime.starting import child_instance_ids

OBSERVATION_PROCESS = "practice_observation"
WEEK_PROCESS = "practice_week"
OBSERVE_STEP = "observe"
LEAD_ROLE = "qa_lead"


def observer_of(session: Session, observation: ProcessInstance, user: User) -> bool:
    """Whether `user` holds or held the observation's task (the head of service it was given to)."""
    return session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == observation.id, HumanTask.spec_name == OBSERVE_STEP,
        or_(HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id))) is not None


def may_use_feedback(session: Session, user: User, observation: ProcessInstance) -> bool:
    """The observer, the QA lead and people who may open the observation send, withdraw and read its feedback."""
    return (observation.process_key == OBSERVATION_PROCESS
            and (user.has_role(LEAD_ROLE) or observer_of(session, observation, user)
                 or can_view_instance(session, user, observation.id)))


def observation_task_id(session: Session, observation: ProcessInstance) -> int | None:
    """The observation's own task, whose page the observer returns to."""
    return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == observation.id,
                                                     HumanTask.spec_name == OBSERVE_STEP).order_by(HumanTask.id))


def create_request(session: Session, observation: ProcessInstance, user: User, audience: str, channel: str,
                   email: str | None = None) -> IssuedRequest:
    """Make a single-use link for someone who was at the observation; by email it is queued at once."""
    if not may_use_feedback(session, user, observation):
        raise PermissionError("Only the observer, the QA lead or people who may see this observation can ask for feedback on it.")
    if observation.status == "terminated":
        raise FeedbackRequestError("audience", "This observation was stopped: feedback can no longer be attached to it.")
    return issue_link(session, user, audience, channel, email, subject_kind="observation", audit_id=None,
                      instance_id=observation.id)


def withdraw(session: Session, observation: ProcessInstance, request_id: int, user: User) -> FeedbackRequest:
    """Stop one of the observation's links working."""
    request = session.get(FeedbackRequest, request_id)
    if request is None or request.subject_kind != "observation" or request.instance_id != observation.id:
        raise LookupError("No such feedback request on this observation.")
    if not may_use_feedback(session, user, observation):
        raise PermissionError("Only the observer, the QA lead or people who may see this observation can withdraw its feedback requests.")
    return withdraw_link(session, request, user)


def requests_for_observation(session: Session, observation_id: int) -> list[dict]:
    """Every request sent from the observation, with its state and answers, for its pages."""
    return request_rows(session, _of_observations([observation_id]))


def week_summary(session: Session, week: ProcessInstance, reader: User) -> dict:
    """The feedback from every observation of a practice week: requests sent and answered by
    audience, how each question was answered, and what people wrote. A reader who may not open
    every observation sees no words, and no question answered by fewer than five people
    (`withheld` counts the questions held back)."""
    observations = child_instance_ids(session, week.id)
    opens_all = all(may_use_feedback(session, reader, session.get(ProcessInstance, observation_id))
                    for observation_id in observations)
    summary = summarise_responses(session, _of_observations(observations), with_words=opens_all)
    shown = [question for question in summary["questions"]
             if opens_all or sum(count for _, count in question["answers"]) >= SMALL_NUMBER]
    return summary | {"questions": shown, "withheld": len(summary["questions"]) - len(shown), "opens_all": opens_all}


def _of_observations(observation_ids: list[int]):
    return (FeedbackRequest.subject_kind == "observation") & FeedbackRequest.instance_id.in_(observation_ids)


def feedback_on_page(session: Session, instance: ProcessInstance, reader: User) -> dict | None:
    """What an observation's or a practice week's task and instance pages show of the feedback
    links: an observation's requests and answers (to those who may use them), or the week's summary."""
    if instance.process_key == OBSERVATION_PROCESS and may_use_feedback(session, reader, instance):
        return {"kind": "observation", "instance_id": instance.id, "open": instance.status != "terminated",
                "requests": requests_for_observation(session, instance.id)}
    if instance.process_key == WEEK_PROCESS:
        return {"kind": "week", "summary": week_summary(session, instance, reader)}
    return None
