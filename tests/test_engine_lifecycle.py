"""The case file audit run through the engine API, as the scheduler or CLI would."""
import pytest
from sqlalchemy import select

from engine.qa.allocation import AllocationError, AllocationRequest, allocate_audit
from engine.qa.models import AreaGrade, Audit, AuditAction, Case, Escalation, Feedback, Reflection, Team
from engine.runtime.errors import InvalidFormData, NotAllowed, TaskNotOpen
from engine.runtime.events import verify_chain
from engine.runtime.instances import complete_task
from engine.runtime.models import HumanTask, ProcessInstance
from tests import answers
from tests.conftest import user_named


def _case_outside(session, team_manager, cohort: str | None = None):
    """A case in another team than the auditor's own (of `cohort`, if given)."""
    query = select(Case).join(Team).where(Team.manager_id != team_manager.id)
    return session.scalar((query.where(Case.cohort == cohort) if cohort else query).order_by(Case.id))


def _allocate(session, auditor="tm.mash1", moderator="hos.cincp", cohort: str | None = None):
    qa_lead = user_named(session, "qa.lead")
    auditor_user, moderator_user = user_named(session, auditor), user_named(session, moderator)
    case = _case_outside(session, auditor_user, cohort)
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor_user.id, moderator_user.id), qa_lead)
    session.commit()
    return audit


def _open_task(session, audit, spec_name):
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                  HumanTask.spec_name == spec_name, HumanTask.state == "ready"))


def _do(session, audit, spec_name, user_id, data):
    from engine.accounts import User
    task = _open_task(session, audit, spec_name)
    assert task is not None, f"{spec_name} is not open"
    complete_task(session, task.id, session.get(User, user_id), data)
    session.commit()
    return task


def test_good_audit_runs_from_allocation_to_closure(session):
    audit = _allocate(session)
    first = _open_task(session, audit, "prepare_audit")
    assert first.assignee_id == audit.auditor_id and first.due_on == audit.due_on
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    _do(session, audit, "complete_audit_tool", audit.auditor_id, answers.audit_tool())
    _do(session, audit, "record_feedback", audit.auditor_id, answers.FEEDBACK)
    _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("good", actions=2))
    assert _open_task(session, audit, "acknowledge_escalation") is None
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    _do(session, audit, "moderate_audit", audit.moderator_id, answers.MODERATION_AGREED)
    reviews = session.scalars(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                      HumanTask.spec_name == "review_action")).all()
    assert len(reviews) == 2 and {r.assignee_id for r in reviews} == {audit.team_manager_id}
    for review in reviews:
        from engine.accounts import User
        complete_task(session, review.id, session.get(User, audit.team_manager_id), answers.action_review())
        session.commit()
    qa_lead = user_named(session, "qa.lead")
    closure = _open_task(session, audit, "confirm_closure")
    assert closure.assignee_id is None and closure.role == "qa_lead"
    _do(session, audit, "confirm_closure", qa_lead.id, answers.CLOSURE)

    session.refresh(audit)
    assert audit.status == "closed" and audit.overall_grade == "good" and audit.moderated_grade == "good"
    assert audit.moderation_outcome == "agreed"
    grades = session.scalars(select(AreaGrade).where(AreaGrade.audit_id == audit.id)).all()
    assert len(grades) == 12 and {g.grade for g in grades} == {"good"}
    actions = session.scalars(select(AuditAction).where(AuditAction.audit_id == audit.id)).all()
    assert [a.status for a in actions] == ["completed", "completed"]
    assert all(a.verified_by_id == qa_lead.id for a in actions)
    assert session.get(Reflection, audit.id).agrees_with_grade is True
    assert {f.source: f.status for f in session.scalars(select(Feedback).where(Feedback.audit_id == audit.id))} == \
        {"child": "obtained", "family": "obtained", "professionals": "declined"}
    assert session.get(ProcessInstance, audit.instance_id).status == "completed"
    assert verify_chain(session).ok


def test_inadequate_grade_escalates_to_head_of_service_at_once(session):
    audit = _allocate(session)
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool("inadequate")),
                       ("record_feedback", answers.FEEDBACK)):
        _do(session, audit, spec, audit.auditor_id, data)
    _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("inadequate", actions=1))
    escalation_task = _open_task(session, audit, "acknowledge_escalation")
    assert escalation_task.assignee_id == audit.head_of_service_id
    assert _open_task(session, audit, "add_reflections") is not None  # in parallel
    _do(session, audit, "acknowledge_escalation", audit.head_of_service_id, answers.ACKNOWLEDGEMENT)
    escalation = session.scalar(select(Escalation).where(Escalation.audit_id == audit.id))
    assert escalation.reason == "inadequate" and escalation.acknowledged_at is not None
    assert _open_task(session, audit, "moderate_audit") is None  # waits for the reflections


def test_guards_change_nothing(session):
    audit = _allocate(session)
    task = _open_task(session, audit, "prepare_audit")
    revision = session.get(ProcessInstance, audit.instance_id).revision
    with pytest.raises(NotAllowed):
        complete_task(session, task.id, session.get(type(user_named(session, "qa.lead")), audit.worker_id), answers.PREPARE)
    session.rollback()
    with pytest.raises(InvalidFormData) as invalid:
        complete_task(session, task.id, user_named(session, "tm.mash1"), {"file_read": False})
    session.rollback()
    assert set(invalid.value.errors) == {"file_read", "meeting_date"}
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    with pytest.raises(TaskNotOpen, match="already completed by"):
        complete_task(session, task.id, user_named(session, "tm.mash1"), answers.PREPARE)
    session.rollback()
    assert session.get(ProcessInstance, audit.instance_id).revision == revision + 1


def test_separation_of_duties_and_unknown_case(session):
    qa_lead = user_named(session, "qa.lead")
    case = session.scalar(select(Case).order_by(Case.id))
    hos = user_named(session, "hos.cincp")
    with pytest.raises(AllocationError, match="own allocated worker"):
        allocate_audit(session, AllocationRequest(case.reference, case.worker_id, hos.id), qa_lead)
    session.rollback()
    with pytest.raises(AllocationError, match="cannot be the auditor"):
        allocate_audit(session, AllocationRequest(case.reference, hos.id, hos.id), qa_lead)
    session.rollback()
    with pytest.raises(AllocationError, match="no open case"):
        allocate_audit(session, AllocationRequest("CS000000", hos.id, qa_lead.id), qa_lead)
    session.rollback()
    assert session.scalar(select(Audit)) is None


def test_closure_cannot_claim_all_completed_while_the_tracker_shows_otherwise(session):
    from engine.accounts import User
    audit = _allocate(session)
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool("requires_improvement")),
                       ("record_feedback", answers.FEEDBACK)):
        _do(session, audit, spec, audit.auditor_id, data)
    with pytest.raises(InvalidFormData) as no_actions:
        complete_task(session, _open_task(session, audit, "grade_audit").id, session.get(User, audit.auditor_id),
                      answers.grading("requires_improvement", actions=0))
    session.rollback()
    assert "actions" in no_actions.value.errors
    _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("requires_improvement", actions=1))
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    _do(session, audit, "moderate_audit", audit.moderator_id, answers.MODERATION_AGREED)
    _do(session, audit, "review_action", audit.team_manager_id, answers.action_review("in_progress"))
    qa_lead = user_named(session, "qa.lead")
    closure = _open_task(session, audit, "confirm_closure")
    with pytest.raises(InvalidFormData) as refused:
        complete_task(session, closure.id, qa_lead, answers.CLOSURE)
    session.rollback()
    assert "A1 not completed" in refused.value.errors["closure_outcome"]
    assert session.get(Audit, audit.id).status == "awaiting_closure"
    _do(session, audit, "confirm_closure", qa_lead.id,
        {"closure_outcome": "closed_with_outstanding", "outstanding_reason": "Worker on long-term leave; reallocated."})
    action = session.scalar(select(AuditAction).where(AuditAction.audit_id == audit.id))
    # the reason given for this action in supervision stands; the closing reason fills only gaps
    assert action.not_completed_reason.startswith("Waiting for the school's records") and action.verified_by_id is None
    assert session.get(Audit, audit.id).status == "closed"


def test_the_moderation_cannot_be_reassigned_or_claimed_by_the_auditor(session):
    """Separation of duties the model declares per lane (process.json `must_not_be`)
    holds for administrative reassignment too, not only at allocation."""
    from engine.runtime.administration import AdministrationError, reassign_task
    qa_lead = user_named(session, "qa.lead")
    audit = _allocate(session, auditor="qa.lead", moderator="psw")  # the QA lead may audit
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool()),
                       ("record_feedback", answers.FEEDBACK), ("grade_audit", answers.grading("good", actions=1))):
        _do(session, audit, spec, audit.auditor_id, data)
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    moderation = _open_task(session, audit, "moderate_audit")
    with pytest.raises(AdministrationError, match="they are its auditor"):
        reassign_task(session, moderation.id, qa_lead, qa_lead.id, "Moderator on leave")
    session.rollback()
    assert session.get(HumanTask, moderation.id).assignee_id == audit.moderator_id


def test_a_review_in_supervision_dated_in_the_future_changes_nothing(session):
    from datetime import timedelta
    from engine.clock import clock
    audit = _allocate(session)
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool("requires_improvement")),
                       ("record_feedback", answers.FEEDBACK),
                       ("grade_audit", answers.grading("requires_improvement", actions=1))):
        _do(session, audit, spec, audit.auditor_id, data)
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    _do(session, audit, "moderate_audit", audit.moderator_id, answers.MODERATION_AGREED)
    review = answers.action_review("completed")
    review["action_review"]["supervision_date"] = (clock.today() + timedelta(days=3)).isoformat()
    with pytest.raises(InvalidFormData) as refused:
        _do(session, audit, "review_action", audit.team_manager_id, review)
    session.rollback()
    assert refused.value.errors == {"action_review.supervision_date": "The date of supervision cannot be in the future"}
    action = session.scalar(select(AuditAction).where(AuditAction.audit_id == audit.id))
    assert action.status == "not_started" and action.reviewed_in_supervision_on is None
    assert _open_task(session, audit, "review_action") is not None


def test_feedback_dated_in_the_future_is_refused_against_its_date(session):
    from datetime import timedelta
    from engine.clock import clock
    audit = _allocate(session)
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    _do(session, audit, "complete_audit_tool", audit.auditor_id, answers.audit_tool())
    feedback = {**answers.FEEDBACK, "family": {**answers.FEEDBACK["family"],
                                               "feedback_date": (clock.today() + timedelta(days=1)).isoformat()}}
    with pytest.raises(InvalidFormData) as refused:
        _do(session, audit, "record_feedback", audit.auditor_id, feedback)
    session.rollback()
    assert refused.value.errors == {"family.feedback_date": "The date of feedback cannot be in the future"}
    assert _open_task(session, audit, "record_feedback") is not None and _open_task(session, audit, "grade_audit") is None
    _do(session, audit, "record_feedback", audit.auditor_id, answers.FEEDBACK)
    assert _open_task(session, audit, "grade_audit") is not None
