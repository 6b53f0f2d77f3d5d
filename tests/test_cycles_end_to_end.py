"""A whole six-weekly cycle on the injected clock, from the register import to the next cycle.

The QA lead imports the register and runs the cycle through the pages (start, swap an
auditor, remove a case, confirm). One audit is then done on time; the rest are left,
so the model's timers remind their auditors and, once overdue, tell the worker's team
manager. The cycle closes the day after its moderation is due and the next one starts
by itself on its start date, its review waiting in the QA lead's notifications. Dates,
worked out by hand (25 and 28 December and 1 January are bank holidays):

  confirmed, audits allocated        Monday 7 December 2026
  reminder (3 working days before)   Wednesday 23 December, 08:00
  audit due                          Wednesday 30 December
  overdue, team manager told         Thursday 31 December, 08:00
  moderation due                     Thursday 14 January 2027
  cycle closes                       Friday 15 January, 08:00
  next cycle starts (six weeks on)   Monday 18 January, 08:00
"""
import csv
import io
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.notification_models import Notification
from engine.qa.cycle_models import AuditCycle, CycleAllocation
from engine.qa.models import Audit, GRADES
from engine.runtime.events import verify_chain
from engine.runtime.instances import complete_task
from engine.runtime.models import HumanTask
from engine.runtime.timers import fire_due_timers
from tests import answers
from tests.test_cycles_web import another_auditor, signed_in
from tests.test_web_lifecycle import read

CONFIRMED = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
REMINDER = datetime(2026, 12, 23, 8, 0, tzinfo=timezone.utc)
OVERDUE = datetime(2026, 12, 31, 8, 0, tzinfo=timezone.utc)
CLOSES = datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)
NEXT_STARTS = datetime(2027, 1, 18, 8, 0, tzinfo=timezone.utc)
A_MOMENT = timedelta(seconds=1)
REGISTER = ("case_reference,cohort,team,worker,opened_on\n"
            "E2E0001,Care leaver,Leaving Care 1,sw.leavingcare1.1,2026-09-01\n"
            "E2E0002,Care leaver,Leaving Care 1,sw.leavingcare1.2,2026-09-02\n")


def test_a_six_week_cycle_from_register_to_the_next_cycle(app, session, database_url):
    clock.set(CONFIRMED)
    qa = signed_in(app, "qa.lead")
    imported = qa.post("/register", data={"register": (io.BytesIO(REGISTER.encode()), "register.csv")},
                       content_type="multipart/form-data")
    assert "Register imported" in qa.get(imported.location).text

    cycle_id = int(qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "1",
                                                  "cadence_weeks": "6"}).location.split("/")[2])
    swapped, removed = read(session, lambda s: [(a.id, a.auditor_id) for a in s.scalars(
        select(CycleAllocation).where(CycleAllocation.cycle_id == cycle_id).order_by(CycleAllocation.id).limit(2))])
    other_auditor = read(session, lambda s: another_auditor(s, swapped[0])[0])
    moderator = read(session, lambda s: s.get(CycleAllocation, swapped[0]).moderator_id)
    assert qa.post(f"/cycles/{cycle_id}/allocations/{swapped[0]}", data={
        "action": "change", "auditor_id": str(other_auditor), "moderator_id": str(moderator)}).status_code == 302
    assert qa.post(f"/cycles/{cycle_id}/allocations/{removed[0]}",
                   data={"action": "remove", "reason": "Transferring to another authority"}).status_code == 302
    assert qa.post(f"/cycles/{cycle_id}/confirm").status_code == 302

    audits = read(session, lambda s: [(a.id, a.auditor_id, a.team_manager_id, a.instance_id, a.due_on, a.case.reference)
                                      for a in s.scalars(select(Audit).where(Audit.cycle_id == cycle_id).order_by(Audit.id))])
    assert len(audits) == 17 and {due for *_, due, _ in audits} == {date(2026, 12, 30)}
    told = read(session, lambda s: {(n.recipient_id, n.link) for n in s.scalars(
        select(Notification).where(Notification.kind == "new_task"))})
    first_tasks = read(session, lambda s: {(t.assignee_id, f"/tasks/{t.id}") for t in s.scalars(
        select(HumanTask).where(HumanTask.spec_name == "prepare_audit", HumanTask.state == "ready"))})
    assert first_tasks <= told and len(first_tasks) == 17
    drawn = read(session, lambda s: {n.recipient_id: n.text for n in s.scalars(
        select(Notification).where(Notification.kind == "cases_drawn"))})
    managers = {manager for _, _, manager, *_ in audits}
    assert set(drawn) == managers  # each team manager once, for their team's cases only
    for _, _, manager, _, _, case_reference in audits:
        assert f"case {case_reference}: audit" in drawn[manager]

    on_time, late = audits[0], audits[1]
    assert on_time[1] == other_auditor
    finish_on_time(session, on_time[0])

    fire(session, database_url, REMINDER + A_MOMENT)
    assert about(session, late, "reminder") == [late[1]] and about(session, on_time, "reminder") == []
    fire(session, database_url, OVERDUE + A_MOMENT)
    assert about(session, late, "overdue") == [late[1]] and about(session, late, "escalation") == [late[2]]
    assert about(session, on_time, "overdue") == about(session, on_time, "escalation") == []

    qa = signed_in(app, "qa.lead")  # weeks later: the earlier session has expired
    tracker = qa.get(f"/cycles/{cycle_id}/tracker").text
    assert tracker.count("Audit overdue") == 16
    rows = {row["Case reference"]: row for row in csv.DictReader(io.StringIO(
        qa.get(f"/cycles/{cycle_id}/tracker.csv").data.decode("utf-8-sig")))}
    assert len(rows) == 17
    done, waiting = rows[on_time[5]], rows[late[5]]
    assert (done["Status"], done["Auditor's grade"], done["Moderated grade"]) == ("Closed", GRADES["good"], GRADES["good"])
    assert done["Audit completed"] == done["Moderated"] == "2026-12-07" and done["Audit due"] == "2026-12-30"
    assert (waiting["Status"], waiting["Audit completed"], waiting["Moderated"]) == ("Allocated", "", "")

    fire(session, database_url, CLOSES - A_MOMENT)
    assert read(session, lambda s: s.get(AuditCycle, cycle_id).status) == "audits_started"
    fire(session, database_url, CLOSES + A_MOMENT)
    assert read(session, lambda s: s.get(AuditCycle, cycle_id).status) == "closed"
    following = read(session, lambda s: s.scalar(select(AuditCycle.id).where(AuditCycle.number == 2)))
    assert read(session, lambda s: (s.get(AuditCycle, following).status, s.get(AuditCycle, following).starts_on)) == \
        ("scheduled", NEXT_STARTS.date())

    fire(session, database_url, NEXT_STARTS + A_MOMENT)
    assert read(session, lambda s: s.get(AuditCycle, following).status) == "in_review"
    qa_lead = read(session, lambda s: s.scalar(select(User.id).where(User.username == "qa.lead")))
    review = read(session, lambda s: s.scalar(select(HumanTask.id).where(
        HumanTask.spec_name == "review_allocations", HumanTask.state == "ready")))
    assert (qa_lead, f"/tasks/{review}") in read(session, lambda s: {(n.recipient_id, n.link) for n in s.scalars(
        select(Notification).where(Notification.kind == "new_task"))})
    assert read(session, lambda s: verify_chain(s).ok)


def finish_on_time(session, audit_id: int) -> None:
    """The auditor, the worker, the moderator and the QA lead each do their part the same day."""
    audit = session.get(Audit, audit_id)
    people = {"auditor": audit.auditor_id, "worker": audit.worker_id, "moderator": audit.moderator_id,
              "qa_lead": session.scalar(select(User.id).where(User.username == "qa.lead"))}
    for spec_name, person, data in (
            ("prepare_audit", "auditor", answers.PREPARE), ("complete_audit_tool", "auditor", answers.audit_tool()),
            ("record_feedback", "auditor", answers.FEEDBACK), ("grade_audit", "auditor", answers.grading("good", actions=0)),
            ("add_reflections", "worker", answers.REFLECTION), ("moderate_audit", "moderator", answers.MODERATION_AGREED),
            ("confirm_closure", "qa_lead", answers.CLOSURE)):
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                      HumanTask.spec_name == spec_name, HumanTask.state == "ready"))
        assert task is not None, f"{spec_name} is not open"
        complete_task(session, task.id, session.get(User, people[person]), data)
        session.commit()
    assert session.get(Audit, audit_id).status == "closed"
    session.rollback()


def fire(session, database_url, moment: datetime) -> None:
    """Move the clock and run the scheduler's timer job in its own sessions."""
    session.rollback()
    clock.set(moment)
    factory = make_session_factory(database_url)
    fire_due_timers(factory)
    factory.kw["bind"].dispose()


def about(session, audit: tuple, kind: str) -> list[int]:
    """Who was sent a notification of `kind` about this audit (its subject names the case)."""
    return read(session, lambda s: [n.recipient_id for n in s.scalars(select(Notification).where(
        Notification.kind == kind, Notification.subject.contains(f"case {audit[5]},")).order_by(Notification.id))])
