"""A model that fails shows as an error, keeps what people gave it, and can be retried.

The small "scoring" model (tests/scoring_model.py) turns a score someone types into a band with a
script task, then a gateway routes on the band. A score that is not a number makes
the script raise: the instance must be saved in status 'error' (the answers kept,
the failed task in ERROR, an 'instance.failed' event), and the QA lead corrects the
data and retries it to the end. A service operation that breaks behaves the same;
a domain refusal (a WorkflowError) still rolls everything back.
"""
import json

import pytest
from sqlalchemy import func, select

from engine.runtime.administration import AdministrationError, failed_steps, retry
from engine.runtime.errors import InvalidFormData, TaskNotOpen
from engine.runtime.events import verify_chain
from engine.runtime.instances import complete_task, workflow_of
from engine.runtime.models import Event, HumanTask, ProcessInstance
from tests.conftest import user_named
from tests.scoring_model import SERVICE_BEHAVIOUR, fail_scoring, service_works, start_scoring  # noqa: F401

pytestmark = pytest.mark.usefixtures("service_works")  # imported above so pytest finds it here


def kinds(session, instance_id: int) -> list[str]:
    return list(session.scalars(select(Event.kind).where(Event.instance_id == instance_id).order_by(Event.seq)))


def test_a_failing_script_saves_the_instance_in_error_with_the_answers_kept(session):
    instance = fail_scoring(session)
    session.expire_all()
    row = session.get(ProcessInstance, instance.id)
    assert row.status == "error"
    assert "'Work out the band' (compute_band) failed" in row.last_error and "ValueError" in row.last_error
    entered = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert entered.state == "completed" and entered.completed_by_id == user_named(session, "qa.lead").id
    [failed] = failed_steps(session, row)
    assert failed["bpmn_id"] == "compute_band" and failed["data"]["score"] == "seven"
    assert failed["data"]["recorded"] == {"recorded": "seven"}  # the step before the failure kept its result
    # The step before the failure kept its event; the failure is recorded after the answers.
    assert kinds(session, instance.id)[-3:] == ["score.recorded", "task.completed", "instance.failed"]
    payload = json.loads(session.scalar(select(Event.payload).where(Event.instance_id == instance.id,
                                                                    Event.kind == "instance.failed")))
    assert payload["failed_steps"] == ["compute_band"] and "invalid literal" in payload["error"]
    assert verify_chain(session).ok


def test_no_task_of_a_failed_instance_can_be_worked_on(session):
    instance = fail_scoring(session)
    instance_two, task_two = start_scoring(session, "SCORE-2")
    # A second instance's task is fine; a task of the failed one is refused with a clear message.
    with pytest.raises(TaskNotOpen, match="stopped by an error"):
        from engine.runtime.instances import lock_task
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
        task.state = "ready"  # as if a parallel branch were still open
        session.flush()
        lock_task(session, task.id)
    session.rollback()
    assert session.get(ProcessInstance, instance_two.id).status == "running"


def test_retry_after_correcting_the_data_runs_to_completion(session):
    instance = fail_scoring(session)
    qa_lead = user_named(session, "qa.lead")
    assert retry(session, instance.id, qa_lead, "Score was typed in words; corrected to 7", {"score": "7"}) is None
    session.commit()
    session.expire_all()
    row = session.get(ProcessInstance, instance.id)
    assert (row.status, row.last_error) == ("running", None)
    review = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready"))
    assert review.spec_name == "review_high"
    assert workflow_of(session, row).get_next_task(spec_name="review_high").data["band"] == "high"
    complete_task(session, review.id, qa_lead, {"score": "7"})
    session.commit()
    assert session.get(ProcessInstance, instance.id).status == "completed"
    retried = json.loads(session.scalar(select(Event.payload).where(Event.instance_id == instance.id,
                                                                    Event.kind == "instance.retried")))
    assert retried == {"reason": "Score was typed in words; corrected to 7",
                       "before": {"status": "error", "error": retried["before"]["error"],
                                  "data": {"compute_band": {"score": "seven"}}},
                       "after": {"data": {"score": "7"}}}
    assert "ValueError" in retried["before"]["error"]
    assert verify_chain(session).ok


def test_a_retry_that_fails_again_stays_in_error_with_the_new_message(session):
    instance = fail_scoring(session)
    assert "ValueError" in retry(session, instance.id, user_named(session, "qa.lead"), "Try a fraction", {"score": "7.5"})
    session.commit()
    session.expire_all()
    row = session.get(ProcessInstance, instance.id)
    assert row.status == "error" and "7.5" in row.last_error
    assert kinds(session, instance.id)[-2:] == ["instance.retried", "instance.failed"]


def test_retry_refuses_bad_corrections_and_other_people_and_changes_nothing(session):
    instance = fail_scoring(session)
    revision = session.get(ProcessInstance, instance.id).revision
    qa_lead = user_named(session, "qa.lead")
    with pytest.raises(AdministrationError, match="belong to the engine"):
        retry(session, instance.id, qa_lead, "Fix", {"len": 3})
    with pytest.raises(AdministrationError, match="reason"):
        retry(session, instance.id, qa_lead, "  ", {"score": "7"})
    with pytest.raises(AdministrationError, match="JSON object"):
        retry(session, instance.id, qa_lead, "Fix", ["score", "7"])
    from engine.runtime.errors import NotAllowed
    with pytest.raises(NotAllowed):
        retry(session, instance.id, user_named(session, "qa.officer1"), "Fix", {"score": "7"})
    session.rollback()
    row = session.get(ProcessInstance, instance.id)
    assert (row.status, row.revision) == ("error", revision)


def test_a_broken_service_operation_is_an_error_and_a_domain_refusal_rolls_back(session):
    instance, task = start_scoring(session)
    qa_lead = user_named(session, "qa.lead")
    SERVICE_BEHAVIOUR["mode"] = "refuse"
    with pytest.raises(InvalidFormData):
        complete_task(session, task.id, qa_lead, {"score": "7"})
    session.rollback()
    assert session.get(HumanTask, task.id).state == "ready"
    assert session.get(ProcessInstance, instance.id).status == "running"

    SERVICE_BEHAVIOUR["mode"] = "break"
    complete_task(session, task.id, qa_lead, {"score": "7"})
    session.commit()
    row = session.get(ProcessInstance, instance.id)
    assert row.status == "error" and "'Record the score' (record) failed: KeyError" in row.last_error

    SERVICE_BEHAVIOUR["mode"] = "ok"
    assert retry(session, instance.id, qa_lead, "The scores table is back", {}) is None
    session.commit()
    assert session.scalar(select(func.count(HumanTask.id)).where(
        HumanTask.instance_id == instance.id, HumanTask.spec_name == "review_high", HumanTask.state == "ready")) == 1
