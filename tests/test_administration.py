"""Every administrative operation over HTTP, with the audit-trail entry it must leave.

Each operation needs a reason and is the QA lead's alone; each writes one event with
the reason and the state before and after. A refusal changes nothing. Suspended
instances' timers do not fire until they are resumed.
"""
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from engine.clock import clock
from engine.database import make_session_factory
from engine.runtime.administration import resume, suspend
from engine.runtime.instances import start_instance
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.registry import publish
from engine.runtime.timers import fire_due_timers
from engine.runtime.models import TaskSubmission
from engine.runtime.submissions import answers_digest
from tests import answers
from tests.conftest import sign_in, user_named
from tests.scoring_model import fail_scoring
from tests.test_monitoring import allocate
from tests.test_timers import FILES as TIMER_FILES
from tests.test_web_lifecycle import posted, read


def an_audit(session) -> dict:
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id, HumanTask.state == "ready"))
    known = {"instance": audit.instance_id, "task": task.id, "auditor": audit.auditor_id, "due_on": task.due_on}
    session.close()
    return known


def events_of(session, kind: str, instance_id: int) -> list[dict]:
    return read(session, lambda s: [json.loads(payload) for payload in s.scalars(
        select(Event.payload).where(Event.kind == kind, Event.instance_id == instance_id).order_by(Event.seq))])


def qa_lead(app):
    client = app.test_client()
    sign_in(client, "qa.lead")
    return client


def status_of(session, instance_id: int) -> str:
    return read(session, lambda s: s.get(ProcessInstance, instance_id).status)


def task_row(session, task_id: int) -> dict:
    return read(session, lambda s: {key: getattr(s.get(HumanTask, task_id), key)
                                    for key in ("state", "assignee_id", "due_on", "completed_by_id")})


def test_suspend_and_resume_need_a_reason_and_are_recorded_before_and_after(app, session):
    known = an_audit(session)
    qa = qa_lead(app)
    assert "Suspend this process" in qa.get(f"/instances/{known['instance']}/suspend").text
    refused = qa.post(f"/instances/{known['instance']}/suspend", data={"reason": " "})
    assert refused.status_code == 422 and "Enter the reason" in refused.text
    assert status_of(session, known["instance"]) == "running" and events_of(session, "instance.suspended", known["instance"]) == []

    done = qa.post(f"/instances/{known['instance']}/suspend", data={"reason": "Case transferred to another council"})
    assert done.status_code == 302 and done.location.endswith(f"/instances/{known['instance']}")
    assert status_of(session, known["instance"]) == "suspended"
    assert events_of(session, "instance.suspended", known["instance"]) == [{
        "reason": "Case transferred to another council",
        "before": {"status": "running", "error": None}, "after": {"status": "suspended", "error": None}}]

    auditor = app.test_client()
    sign_in(auditor, "tm.mash1")
    blocked = auditor.post(f"/tasks/{known['task']}", data=posted("prepare_audit-schema.json", answers.PREPARE))
    assert blocked.status_code == 409 and "suspended by the QA lead" in blocked.text
    again = qa.post(f"/instances/{known['instance']}/suspend", data={"reason": "Twice"})
    assert again.status_code == 422 and "Only a running process can be suspended" in again.text

    assert qa.post(f"/instances/{known['instance']}/resume", data={"reason": "Transfer cancelled"}).status_code == 302
    assert status_of(session, known["instance"]) == "running"
    [resumed] = events_of(session, "instance.resumed", known["instance"])
    assert resumed["before"]["status"] == "suspended" and resumed["after"]["status"] == "running"
    ok = auditor.post(f"/tasks/{known['task']}", data=posted("prepare_audit-schema.json", answers.PREPARE))
    assert ok.status_code == 302


def test_a_suspended_instance_keeps_its_timer_until_resumed(session, database_url):
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    publish(session, TIMER_FILES)
    instance = start_instance(session, "reminder", {}, actor_id=None)
    session.commit()
    lead = user_named(session, "qa.lead")
    suspend(session, instance.id, lead, "Waiting for the family to return from abroad")
    session.commit()
    factory = make_session_factory(database_url)
    clock.advance(timedelta(days=3))
    assert fire_due_timers(factory) == 0  # due, but suspended: nothing fires
    session.expire_all()
    assert session.scalar(select(func.count(HumanTask.id)).where(HumanTask.instance_id == instance.id)) == 0
    resume(session, instance.id, lead, "The family is back")
    session.commit()
    assert fire_due_timers(factory) == 1  # the timer that came due meanwhile fires now
    session.expire_all()
    assert session.scalar(select(HumanTask.spec_name).where(HumanTask.instance_id == instance.id)) == "follow_up"


def test_terminate_cancels_the_open_tasks(app, session):
    known = an_audit(session)
    qa = qa_lead(app)
    assert qa.post(f"/instances/{known['instance']}/terminate", data={"reason": "Allocated in error"}).status_code == 302
    instance = read(session, lambda s: s.get(ProcessInstance, known["instance"]))
    assert (instance.status, instance.next_timer_at) == ("terminated", None) and instance.ended_at is not None
    assert task_row(session, known["task"])["state"] == "cancelled"
    [terminated] = events_of(session, "instance.terminated", known["instance"])
    assert terminated["reason"] == "Allocated in error"
    assert terminated["before"] == {"status": "running", "error": None, "open_tasks": ["prepare_audit"]}
    assert terminated["after"]["status"] == "terminated"
    page = qa.get(f"/instances/{known['instance']}").text
    assert "Terminated" in page and "No task is open." in page
    assert qa.post(f"/instances/{known['instance']}/terminate", data={"reason": "Again"}).status_code == 422


def test_retry_over_http_after_correcting_the_data(app, session):
    instance_id = fail_scoring(session).id
    session.close()
    qa = qa_lead(app)
    page = qa.get(f"/instances/{instance_id}")
    assert "This process stopped with an error" in page.text and "compute_band" in page.text
    form = qa.get(f"/instances/{instance_id}/retry").text
    assert "Failed step: Work out the band" in form and "&#34;score&#34;: &#34;seven&#34;" in form
    bad = qa.post(f"/instances/{instance_id}/retry", data={"reason": "Fix the score", "corrections": "{score: 7"})
    assert bad.status_code == 422 and "Corrections must be JSON" in bad.text
    assert status_of(session, instance_id) == "error"
    done = qa.post(f"/instances/{instance_id}/retry", data={"reason": "Score typed in words", "corrections": '{"score": "7"}'})
    assert done.status_code == 302
    assert status_of(session, instance_id) == "running"
    [retried] = events_of(session, "instance.retried", instance_id)
    assert retried["reason"] == "Score typed in words" and retried["after"] == {"data": {"score": "7"}}
    assert retried["before"]["data"] == {"compute_band": {"score": "seven"}}
    assert read(session, lambda s: s.scalar(select(HumanTask.spec_name).where(
        HumanTask.instance_id == instance_id, HumanTask.state == "ready"))) == "review_high"


def test_reassign_a_task_to_someone_with_its_role(app, session):
    known = an_audit(session)
    qa = qa_lead(app)
    url = f"/instances/{known['instance']}/tasks/{known['task']}/reassign"
    other_id, other_name, worker_id = read(session, lambda s: (
        user_named(s, "tm.safeguarding1").id, user_named(s, "tm.safeguarding1").display_name,
        user_named(s, "sw.mash1.1").id))
    form = qa.get(url).text
    assert f'value="{other_id}"' in form and f'value="{worker_id}"' not in form
    refused = qa.post(url, data={"assignee_id": worker_id, "reason": "Cover"})
    assert refused.status_code == 422 and "does not hold the role this task needs" in refused.text
    assert qa.post(url, data={"assignee_id": other_id, "reason": ""}).status_code == 422
    assert task_row(session, known["task"])["assignee_id"] == known["auditor"]

    assert qa.post(url, data={"assignee_id": other_id, "reason": "Auditor on long-term leave"}).status_code == 302
    assert task_row(session, known["task"])["assignee_id"] == other_id
    [reassigned] = events_of(session, "task.reassigned", known["instance"])
    assert reassigned == {"reason": "Auditor on long-term leave", "task": "prepare_audit",
                          "before": {"assignee_id": known["auditor"]}, "after": {"assignee_id": other_id}}
    new_holder = app.test_client()
    sign_in(new_holder, "tm.safeguarding1")
    assert f'href="/tasks/{known["task"]}"' in new_holder.get("/inbox").text
    assert other_name in qa.get(f"/instances/{known['instance']}").text


def test_change_a_due_date(app, session):
    known = an_audit(session)
    qa = qa_lead(app)
    url = f"/instances/{known['instance']}/tasks/{known['task']}/due-date"
    past = clock.today() - timedelta(days=1)
    refused = qa.post(url, data={"due_on-day": past.day, "due_on-month": past.month, "due_on-year": past.year,
                                 "reason": "Extension"})
    assert refused.status_code == 422 and "cannot be in the past" in refused.text
    nonsense = qa.post(url, data={"due_on-day": "31", "due_on-month": "2", "due_on-year": "2027", "reason": "x"})
    assert nonsense.status_code == 422 and "must be a real date" in nonsense.text
    later = known["due_on"] + timedelta(days=14)
    done = qa.post(url, data={"due_on-day": later.day, "due_on-month": later.month, "due_on-year": later.year,
                              "reason": "Worker off sick for two weeks"})
    assert done.status_code == 302
    assert task_row(session, known["task"])["due_on"] == later
    [changed] = events_of(session, "task.due_date_changed", known["instance"])
    assert changed["before"] == {"due_on": known["due_on"].isoformat()} and changed["after"] == {"due_on": later.isoformat()}
    assert changed["reason"] == "Worker off sick for two weeks"


def test_complete_a_task_on_someones_behalf(app, session):
    known = an_audit(session)
    qa = qa_lead(app)
    url = f"/instances/{known['instance']}/tasks/{known['task']}/complete"
    form = qa.get(url).text
    assert 'name="meeting_date-day"' in form and 'name="reason"' in form
    invalid = qa.post(url, data={"action": "complete", "reason": "Paper form"})
    assert invalid.status_code == 422 and "There is a problem" in invalid.text
    no_reason = qa.post(url, data=posted("prepare_audit-schema.json", answers.PREPARE))
    assert no_reason.status_code == 422 and "Enter the reason" in no_reason.text
    assert task_row(session, known["task"])["state"] == "ready"

    done = qa.post(url, data={**posted("prepare_audit-schema.json", answers.PREPARE),
                              "reason": "The auditor sent the preparation notes by email"})
    assert done.status_code == 302
    task = task_row(session, known["task"])
    lead_id = read(session, lambda s: user_named(s, "qa.lead").id)
    assert (task["state"], task["completed_by_id"]) == ("completed", lead_id)
    completed = [event for event in events_of(session, "task.completed", known["instance"])]
    assert completed[-1]["on_behalf"] == {
        "reason": "The auditor sent the preparation notes by email",
        "before": {"state": "ready", "assignee_id": known["auditor"]},
        "after": {"state": "completed", "completed_by_id": lead_id}}
    submitted = read(session, lambda s: s.get(TaskSubmission, completed[-1]["submission_id"]).answers)
    assert submitted["meeting_date"] == answers.PREPARE["meeting_date"]
    assert completed[-1]["answers_sha256"] == answers_digest(submitted)
    assert read(session, lambda s: s.scalar(select(HumanTask.spec_name).where(
        HumanTask.instance_id == known["instance"], HumanTask.state == "ready"))) != "prepare_audit"


def test_only_the_qa_lead_may_administer(app, session):
    known = an_audit(session)
    officer = app.test_client()
    sign_in(officer, "qa.officer1")
    for path in (f"/instances/{known['instance']}/suspend", f"/instances/{known['instance']}/retry",
                 f"/instances/{known['instance']}/tasks/{known['task']}/reassign",
                 f"/instances/{known['instance']}/tasks/{known['task']}/complete"):
        assert officer.get(path).status_code == 403, path
        assert officer.post(path, data={"reason": "I should not"}).status_code == 403, path
    assert status_of(session, known["instance"]) == "running"
    page = officer.get(f"/instances/{known['instance']}").text
    assert "Suspend" not in page and "Reassign" not in page
