"""Retention: what is past its period is anonymised or removed, a legal hold stops it,
events are never touched (the chain still verifies), and every step is recorded."""
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from engine.clock import clock
from engine.qa import reports, retention
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.demo_history import ActionPlan, AuditPlan, write_history
from engine.qa.models import AreaGrade, Audit, AuditAction, Case, Feedback, Reflection, Team
from engine.qa.retention_models import RetainedRecord, TrailExport
from engine.runtime.events import verify_chain
from engine.runtime.models import Event, HumanTask, ProcessInstance, ProcessVersion, TaskDraft
from engine.runtime.persistence import load_workflow
from engine.runtime.registry import built_model_for
from engine.scheduler import scheduled_jobs
from tests.conftest import sign_in, user_named

NOW = datetime(2032, 6, 1, 9, tzinfo=timezone.utc)
OLD = AuditPlan("MASH 1", date(2025, 4, 2), "requires_improvement", moderated_grade="good",
                actions=[ActionPlan("planning", 20, 10)], closed=True)        # closed in 2025: past 6 years by 2032
RECENT = AuditPlan("MASH 1", date(2027, 4, 2), "good", moderated_grade="good", closed=True)


@pytest.fixture
def history(session):
    ids = write_history(session, [OLD, RECENT])
    session.commit()
    session.close()
    clock.set(NOW)
    return ids


def events_of(session, kind):
    return [json.loads(e.payload) for e in session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq))]


def test_a_closed_audit_past_its_period_is_anonymised_and_the_rest_kept(session, history):
    old_id, recent_id = history
    grades_before = reports.build_report(session, reports.year_period(2025))["grades"]["overall"]
    events_before = session.scalar(select(func.count()).select_from(Event))

    counts = retention.apply_retention(session)
    session.commit()
    assert counts == {"audits_anonymised": 1, "activities_anonymised": 0, "drafts_deleted": 0, "export_files_deleted": 0}

    old = session.get(Audit, old_id)
    assert old.overall_rationale == old.moderation_rationale == old.strengths == retention.ANONYMISED
    assert (old.overall_grade, old.moderated_grade, old.closed_at is not None) == ("requires_improvement", "good", True)
    assert {g.rationale for g in session.scalars(select(AreaGrade).where(AreaGrade.audit_id == old_id))} <= {
        retention.ANONYMISED, ""}
    assert {f.summary for f in session.scalars(select(Feedback).where(Feedback.audit_id == old_id))} == {retention.ANONYMISED}
    assert session.get(Reflection, old_id).went_well == retention.ANONYMISED
    action = session.scalar(select(AuditAction).where(AuditAction.audit_id == old_id))
    assert (action.description, action.evidence, action.status) == (retention.ANONYMISED, retention.ANONYMISED, "completed")
    assert session.get(Audit, recent_id).overall_rationale == "Generated history: rationale recorded."

    # The statistics are unchanged, the events are all still there and the chain verifies.
    assert reports.build_report(session, reports.year_period(2025))["grades"]["overall"] == grades_before
    assert verify_chain(session).ok
    assert session.scalar(select(func.count()).select_from(Event)) == events_before + 2
    assert events_of(session, "audit.anonymised") == [{"audit": old.reference, "keep_days": 6 * 365}]
    assert events_of(session, "retention.applied")[0]["audits"] == [old.reference]

    assert retention.apply_retention(session) == {"audits_anonymised": 0, "activities_anonymised": 0, "drafts_deleted": 0, "export_files_deleted": 0}


def test_a_legal_hold_stops_retention_until_released(session, history):
    old_id, _ = history
    lead = user_named(session, "qa.lead")
    case = session.get(Case, session.get(Audit, old_id).case_id)
    hold = retention.place_hold(session, lead, case.reference.lower(), "Complaint under investigation")
    session.commit()
    assert retention.apply_retention(session)["audits_anonymised"] == 0
    assert session.get(Audit, old_id).overall_rationale != retention.ANONYMISED

    with pytest.raises(retention.RetentionError, match="already under a legal hold"):
        retention.place_hold(session, lead, case.reference, "Again")
    with pytest.raises(retention.RetentionError, match="Say why the hold can end"):
        retention.release_hold(session, lead, hold.id, " ")
    retention.release_hold(session, lead, hold.id, "Complaint closed")
    session.commit()
    assert retention.apply_retention(session)["audits_anonymised"] == 1
    placed, released = events_of(session, "legal_hold.placed"), events_of(session, "legal_hold.released")
    assert placed == [{"case": case.reference, "hold_id": hold.id}] and released == placed
    assert "Complaint" not in json.dumps(placed + released)  # the reason stays in the hold, not the trail


def test_periods_are_set_by_the_qa_lead_within_limits_and_recorded(session, history):
    lead, director = user_named(session, "qa.lead"), user_named(session, "director")
    with pytest.raises(retention.RetentionError, match="at least 365 days"):
        retention.set_rule(session, lead, "audit", 30)
    with pytest.raises(retention.RetentionError, match="Only the QA lead"):
        retention.set_rule(session, director, "audit", 4000)
    retention.set_rule(session, lead, "audit", 10 * 365)
    session.commit()
    assert retention.rules(session)["audit"] == 3650
    assert events_of(session, "retention.rule_changed") == [
        {"record_type": "audit", "keep_days_before": 2190, "keep_days_after": 3650}]
    assert retention.apply_retention(session)["audits_anonymised"] == 0  # 2025 is within ten years of 2032


def test_old_drafts_and_export_files_are_deleted(session, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_EXPORT_DIR", str(tmp_path))
    lead = user_named(session, "qa.lead")
    case = session.scalar(select(Case).join(Team).where(Team.name == "Children in Care 1").order_by(Case.id))
    clock.set(NOW - timedelta(days=200))
    audit = allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                      user_named(session, "hos.disabled").id), lead)
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id))
    session.add(TaskDraft(human_task_id=task.id, user_id=task.assignee_id, data={"note": "unsent"}, saved_at=clock.now()))
    (tmp_path / "audit-trail-export-1.zip").write_bytes(b"zip")
    session.add(TrailExport(requested_by_id=lead.id, requested_at=clock.now(), filters={}, status="done",
                            file_name="audit-trail-export-1.zip", finished_at=clock.now()))
    session.commit()
    clock.set(NOW)
    assert retention.apply_retention(session) == {"audits_anonymised": 0, "activities_anonymised": 0, "drafts_deleted": 1, "export_files_deleted": 1}
    session.commit()
    assert not (tmp_path / "audit-trail-export-1.zip").exists()
    assert session.scalar(select(TrailExport)).removed_at is not None


def test_the_finished_workflow_keeps_its_shape_but_not_its_words(session):
    lead = user_named(session, "qa.lead")
    case = session.scalar(select(Case).join(Team).where(Team.name == "Children in Care 1").order_by(Case.id))
    clock.set(NOW - timedelta(days=7 * 365))
    audit = allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                      user_named(session, "hos.disabled").id), lead)
    audit.status, audit.closed_at = "closed", clock.now()  # as if closed that day
    session.commit()
    instance = session.get(ProcessInstance, audit.instance_id)
    assert case.reference in instance.serialized
    clock.set(NOW)
    retention.apply_retention(session)
    session.commit()
    assert case.reference not in instance.serialized and retention.ANONYMISED in instance.serialized
    model = built_model_for(session.get(ProcessVersion, instance.process_version_id))
    workflow = load_workflow(instance.serialized, model)  # still loads: the shape is kept
    assert workflow.get_tasks()
    assert session.scalar(select(RetainedRecord.record_id)) == audit.id


def test_the_scheduler_runs_retention():
    assert "apply_retention" in {job.name for job in scheduled_jobs()}


def test_the_retention_page_for_the_qa_lead_and_the_director(app, history):
    lead = app.test_client()
    sign_in(lead, "qa.lead")
    page = lead.get("/retention")
    assert page.status_code == 200 and "Closed audits: days kept after closing" in page.text
    assert "Finished activities other than case file audits: days kept after their end" in page.text
    refused = lead.post("/retention/rules", data={"audit": "10", "activity": "2190", "task_draft": "90", "trail_export": "x"})
    assert refused.status_code == 422
    assert "Closed audits must be kept at least 365 days." in refused.text and "Enter a whole number of days" in refused.text
    assert lead.post("/retention/rules", data={"audit": "2500", "activity": "2190", "task_draft": "90",
                                               "trail_export": "30"}).status_code == 302
    assert 'value="2500"' in lead.get("/retention").text
    missing = lead.post("/retention/holds", data={"case_reference": "CS000000", "reason": "Inquiry"})
    assert missing.status_code == 422 and "There is no case with the reference &#39;CS000000&#39;." in missing.text
    from webapp.extensions import db
    with app.app_context():
        reference = db.session.scalar(select(Case.reference).join(Team).where(Team.name == "Leaving Care 1")
                                      .order_by(Case.id))
    assert lead.post("/retention/holds", data={"case_reference": reference, "reason": "Inquiry"}).status_code == 302
    assert f"Legal hold placed on case {reference}." in lead.get("/retention").text
    applied = lead.post("/retention/apply", follow_redirects=True)
    assert "Retention applied: 1 audits and 0 activities anonymised" in applied.text

    director = app.test_client()
    sign_in(director, "director")
    page = director.get("/retention")
    assert page.status_code == 200 and "Save retention periods" not in page.text and reference in page.text
    assert director.post("/retention/apply").status_code == 403


def test_submitted_answers_are_blanked_while_the_chain_keeps_their_digest(session):
    from engine.accounts import User
    from engine.runtime.instances import complete_task
    from engine.runtime.models import TaskSubmission
    from engine.runtime.submissions import answers_digest, verify_submissions
    from tests import answers
    lead = user_named(session, "qa.lead")
    case = session.scalar(select(Case).join(Team).where(Team.name == "Children in Care 2").order_by(Case.id))
    clock.set(NOW - timedelta(days=7 * 365))
    case.opened_on = clock.today() - timedelta(days=60)  # the meeting date is refused before the case opened
    audit = allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                      user_named(session, "hos.disabled").id), lead)
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id))
    complete_task(session, task.id, session.get(User, audit.auditor_id), answers.PREPARE)
    audit.status, audit.closed_at = "closed", clock.now()
    session.commit()
    completed = events_of(session, "task.completed")[-1]
    assert "answers" not in completed  # the event names the submission and proves it; it holds no text
    submission = session.get(TaskSubmission, completed["submission_id"])
    assert submission.answers == answers.PREPARE and completed["answers_sha256"] == answers_digest(answers.PREPARE)
    assert verify_submissions(session).mismatched == []

    session.execute(TaskSubmission.__table__.update().where(TaskSubmission.id == submission.id)
                    .values(answers={**answers.PREPARE, "preparation_notes": "changed behind the app's back"}))
    session.commit()
    assert verify_submissions(session).mismatched == [submission.id]
    session.execute(TaskSubmission.__table__.update().where(TaskSubmission.id == submission.id)
                    .values(answers=answers.PREPARE))
    session.commit()

    clock.set(NOW)
    retention.apply_retention(session)
    session.commit()
    session.refresh(submission)
    assert submission.answers == {} and submission.anonymised_at is not None
    report = verify_submissions(session)
    assert report.mismatched == [] and report.anonymised == 1
    assert verify_chain(session).ok


def test_the_practitioners_evidence_and_why_they_were_added_are_blanked_with_the_audit(session):
    """The evidence tasks run in their own linked instances: their task data, the answers
    submitted, the evidence rows and the reasons for adding someone go with the audit's."""
    from engine.accounts import User
    from engine.qa.contribution_models import AuditParticipant
    from engine.qa.contributions import add_participant
    from engine.qa.finding_models import AuditEvidence
    from engine.runtime.instances import complete_task
    from engine.runtime.models import TaskSubmission
    from tests import answers
    lead = user_named(session, "qa.lead")
    case = session.scalar(select(Case).join(Team).where(Team.name == "Children in Care 1").order_by(Case.id))
    clock.set(NOW - timedelta(days=7 * 365))
    audit = allocate_audit(session, AllocationRequest(case.reference, user_named(session, "tm.mash1").id,
                                                      user_named(session, "hos.disabled").id), lead)
    add_participant(session, audit, lead, user_named(session, "iro1").id, "reviewing_officer",
                    "Chairs the reviews of this child")
    session.commit()
    prepare = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id))
    complete_task(session, prepare.id, session.get(User, audit.auditor_id), answers.PREPARE)
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.spec_name == "add_contribution",
                                                  HumanTask.assignee_id == audit.worker_id))
    complete_task(session, task.id, session.get(User, audit.worker_id),
                  {"planning": {"comment": "Plan changed after the child asked to stay at school."},
                   "difference_for_child": "She feels listened to."})
    audit.status, audit.closed_at = "closed", clock.now()
    session.commit()
    evidence_instance = session.get(ProcessInstance, task.instance_id)
    assert "She feels listened to." in evidence_instance.serialized

    clock.set(NOW)
    retention.apply_retention(session)
    session.commit()
    assert "She feels listened to." not in evidence_instance.serialized
    assert session.scalar(select(TaskSubmission.answers).where(TaskSubmission.human_task_id == task.id)) == {}
    assert set(session.scalars(select(AuditEvidence.comment))) == {retention.ANONYMISED}
    assert session.scalar(select(AuditParticipant.added_reason)) == retention.ANONYMISED
