"""Service operations the case file audit diagram calls to write the audit tables.

Each is named in the BPMN (`spiffworkflow:serviceTaskOperator id="..."`), reads the
answers gathered so far from the task data, writes the domain rows and records what
changed in the audit trail. Return values land in the task data for gateways to read.
"""
from datetime import date

from sqlalchemy import select

from engine.clock import clock
from engine.qa.actions_tracker import graded_on
from engine.qa.case_dates import refuse_dates_outside_the_case
from engine.qa.contributions import action_owner
from engine.qa.findings import has_findings, record_auditor_findings, record_moderator_findings
from engine.qa.grading_scale import scale_for_audit
from engine.notifications import notify
from engine.qa.models import AREAS, AreaGrade, Audit, AuditAction, Escalation, Feedback, Reflection
from engine.qa.working_days import add_working_days
from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.services import ServiceContext, service_operation

FEEDBACK_SOURCES = ("child", "family", "professionals")
ESCALATION_WORKING_DAYS = 1


def _audit(context: ServiceContext, audit_id: int) -> Audit:
    return context.session.get(Audit, audit_id)


def _record(context: ServiceContext, audit: Audit, kind: str, payload: dict) -> None:
    events.record(context.session, kind, actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit", audit.id), payload={"audit": audit.reference, **payload})


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None


@service_operation("start_audit")
def start_audit(context: ServiceContext, data: dict, audit_id: int):
    audit = _audit(context, audit_id)
    refuse_dates_outside_the_case(context, audit, data, "prepare_audit-schema.json")
    audit.status, audit.started_at = "in_progress", clock.now()
    _record(context, audit, "audit.started", {"meeting_date": data.get("meeting_date")})
    return True


@service_operation("record_findings")
def record_findings(context: ServiceContext, data: dict, audit_id: int):
    """Write the audit tool's answers, evidence and impact as soon as it is completed, so
    the grading and moderation pages show them. The dates of the records cited are checked first."""
    audit = _audit(context, audit_id)
    refuse_dates_outside_the_case(context, audit, data, "audit_tool-schema.json")
    answered = record_auditor_findings(context.session, audit, data)
    _record(context, audit, "audit.findings_recorded", {"questions_answered": answered, "impact": audit.impact})
    return answered


@service_operation("check_feedback_dates")
def check_feedback_dates(context: ServiceContext, data: dict, audit_id: int):
    """Feedback was given on a real day: not in the future, not before the case was opened.
    A refusal rolls the feedback form back with the message against the date."""
    refuse_dates_outside_the_case(context, _audit(context, audit_id), data, "feedback-schema.json")
    return True


@service_operation("record_grading")
def record_grading(context: ServiceContext, data: dict, audit_id: int):
    """Write the auditor's answers and evidence, grades, the feedback and the agreed actions;
    return the actions (with their tracker ids and who reviews each) for the per-action
    review in supervision."""
    session, audit = context.session, _audit(context, audit_id)
    if not has_findings(session, audit):   # audits begun on a version without the store_findings step
        record_auditor_findings(session, audit, data)
    for area in AREAS:
        answers = data[area]
        session.add(AreaGrade(audit_id=audit.id, area=area, stage="auditor",
                              grade=answers["grade"], rationale=answers["rationale"]))
    for source in FEEDBACK_SOURCES:
        given = data[source]
        session.add(Feedback(audit_id=audit.id, source=source, status=given["status"],
                             method=given.get("method"), feedback_date=_date(given.get("feedback_date")),
                             rating=given.get("rating"), summary=given.get("summary")))
    audit.overall_grade = data["overall_grade"]
    audit.overall_rationale = data["overall_rationale"]
    audit.strengths = data.get("strengths")
    audit.areas_for_development = data.get("areas_for_development")
    audit.safeguarding_concern = bool(data.get("safeguarding_concern"))
    audit.safeguarding_details = data.get("safeguarding_details")
    audit.graded_at, audit.status = clock.now(), "awaiting_moderation"
    agreed_actions = data.get("actions", [])
    # Every owner first (finding one may read the audit's people), then one INSERT for the lot.
    owners = [action_owner(session, audit, data, agreed["owner"]) for agreed in agreed_actions]
    actions = [AuditAction(audit_id=audit.id, ref=f"A{number}", description=agreed["action"],
                           area=agreed["area"], owner_role=owner_role, owner_id=owner_id,
                           due_on=_date(agreed["due_on"]), priority=agreed["priority"])
               for number, (agreed, (owner_id, owner_role, _)) in enumerate(zip(agreed_actions, owners), start=1)]
    session.add_all(actions)
    session.flush()  # their ids are the tracker's and the reviews'
    recorded = [{"id": action.id, "ref": action.ref, "due_on": agreed["due_on"], "reviewer": reviewer_id,
                 "summary": f"{action.ref} {_shorten(action.description)}"}
                for action, agreed, (_, _, reviewer_id) in zip(actions, agreed_actions, owners)]
    _record(context, audit, "audit.graded", {
        "overall_grade": audit.overall_grade,
        "area_grades": {area: data[area]["grade"] for area in AREAS},
        "safeguarding_concern": audit.safeguarding_concern,
        "feedback": {source: data[source]["status"] for source in FEEDBACK_SOURCES},
        "actions": [a["ref"] for a in recorded]})
    return recorded


@service_operation("record_reflection")
def record_reflection(context: ServiceContext, data: dict, audit_id: int):
    audit = _audit(context, audit_id)
    context.session.add(Reflection(
        audit_id=audit.id, practitioner_id=data["worker"], went_well=data["went_well"],
        do_differently=data["do_differently"], learning_needs=data["learning_needs"],
        agrees_with_grade=data["agrees_with_grade"], disagreement_reason=data.get("disagreement_reason"),
        barriers=data.get("barriers"), submitted_at=clock.now()))
    _record(context, audit, "audit.reflection_added", {"agrees_with_grade": data["agrees_with_grade"]})
    return True


@service_operation("escalate_to_head_of_service")
def escalate_to_head_of_service(context: ServiceContext, data: dict, audit_id: int):
    """Tell the head of service at once; their acknowledgement is due next working day.

    The reasons keep their names ("inadequate") whatever the escalating grade of the audit's
    scale is called: reports and reminders read them."""
    audit = _audit(context, audit_id)
    if "moderation_result" in data:
        reason = "moderated_inadequate"
    elif audit.overall_grade in scale_for_audit(context.session, audit).escalating:
        reason = "inadequate"
    else:
        reason = "safeguarding_concern"
    due_on = add_working_days(clock.today(), ESCALATION_WORKING_DAYS)
    escalation = Escalation(audit_id=audit.id, reason=reason, head_of_service_id=audit.head_of_service_id,
                            notified_at=clock.now(), due_on=due_on)
    context.session.add(escalation)
    context.session.flush()
    _record(context, audit, "audit.escalated", {"reason": reason, "head_of_service_id": audit.head_of_service_id})
    return {"escalation_id": escalation.id, "reason": reason, "due_on": due_on.isoformat()}


@service_operation("record_escalation_acknowledgement")
def record_escalation_acknowledgement(context: ServiceContext, data: dict, audit_id: int):
    audit = _audit(context, audit_id)
    escalation = context.session.get(Escalation, data["escalation"]["escalation_id"])
    escalation.acknowledged_at = clock.now()
    escalation.immediate_actions = data["immediate_actions"]
    escalation.review_date = _date(data.get("review_date"))
    _record(context, audit, "audit.escalation_acknowledged",
            {"reason": escalation.reason, "escalation_id": escalation.id})
    return True


@service_operation("record_moderation")
def record_moderation(context: ServiceContext, data: dict, audit_id: int):
    """Keep the auditor's grades and add the moderator's beside them."""
    session, audit = context.session, _audit(context, audit_id)
    disagreed = data["moderation_outcome"] == "disagreed"
    if disagreed:
        refuse_dates_outside_the_case(context, audit, data, "reflective_discussion-schema.json")
    auditor_grades = {row.area: row.grade for row in session.scalars(
        select(AreaGrade).where(AreaGrade.audit_id == audit.id, AreaGrade.stage == "auditor"))}
    changed = (data.get("moderated_area_grades") or {}) if disagreed else {}
    answers_changed = record_moderator_findings(  # the six areas' questions, and those the case's cohort asked
        session, audit, [*(data.get("answer_changes") or []), *(data.get("cohort_answer_changes") or [])])
    for area in AREAS:
        session.add(AreaGrade(audit_id=audit.id, area=area, stage="moderator",
                              grade=changed.get(area) or auditor_grades[area]))
    before = audit.overall_grade
    audit.moderation_outcome = data["moderation_outcome"]
    audit.moderated_grade = data["moderated_overall_grade"] if disagreed else before
    audit.moderation_rationale = data["moderation_rationale"]
    if disagreed:
        audit.discussion_date = _date(data["discussion_date"])
        audit.discussion_summary = data["discussion_summary"]
        audit.discussion_learning = data["learning_for_audit_practice"]
    audit.moderated_at = clock.now()
    has_actions = bool(data.get("recorded_actions"))
    audit.status = "actions_in_review" if has_actions else "awaiting_closure"
    already_escalated = session.scalar(select(Escalation.id).where(Escalation.audit_id == audit.id).limit(1))
    if disagreed:
        _tell_auditor_of_disagreement(context, audit, before, answers_changed)
    _record(context, audit, "audit.moderated", {
        "outcome": audit.moderation_outcome, "grade_before": before, "grade_after": audit.moderated_grade,
        "area_grades_before": auditor_grades,
        "area_grades_after": {area: changed.get(area) or auditor_grades[area] for area in AREAS},
        "answers_changed": answers_changed})
    return {"moderated_grade": audit.moderated_grade,
            "needs_escalation": audit.moderated_grade in scale_for_audit(session, audit).escalating
            and already_escalated is None}


@service_operation("record_action_review")
def record_action_review(context: ServiceContext, data: dict, audit_id: int):
    """Write one action's supervision outcome into the actions tracker."""
    session, audit = context.session, _audit(context, audit_id)
    review = data["action_review"]
    action = session.get(AuditAction, data["action"]["id"])
    _check_supervision_date(session, action, _date(review["supervision_date"]))
    action.status = review["status"]
    action.reviewed_in_supervision_on = _date(review["supervision_date"])
    action.supervision_outcome = review["outcome"]
    action.evidence = review.get("evidence") or action.evidence
    action.revised_due_on = _date(review.get("revised_due_on"))
    action.not_completed_reason = None if action.status == "completed" else review.get("not_completed_reason")
    action.completed_on = action.reviewed_in_supervision_on if action.status == "completed" else None
    session.flush()
    outstanding = session.scalar(select(AuditAction.id).where(
        AuditAction.audit_id == audit.id, AuditAction.reviewed_in_supervision_on.is_(None)).limit(1))
    if outstanding is None:
        audit.status = "awaiting_closure"
    _record(context, audit, "action.reviewed", {"action": action.ref, "status": action.status,
                                                "supervision_date": review["supervision_date"]})
    return True


@service_operation("close_audit")
def close_audit(context: ServiceContext, data: dict, audit_id: int):
    """The QA lead's confirmation: completed actions verified, the rest explained."""
    session, audit = context.session, _audit(context, audit_id)
    now = clock.now()
    actions = session.scalars(select(AuditAction).where(AuditAction.audit_id == audit.id)).all()
    outstanding = [a.ref for a in actions if a.status not in ("completed", "cancelled")]
    if outstanding and data["closure_outcome"] == "all_completed":
        raise InvalidFormData({"closure_outcome": (
            f"The tracker shows {', '.join(outstanding)} not completed: choose to close with outstanding "
            "actions and say why, or ask the team manager to review them again")})
    for action in actions:
        if action.status in ("completed", "cancelled"):
            action.verified_by_id, action.verified_at = context.actor_id, now
        else:  # each action's own reason stands; the closing reason fills in where none was given
            action.not_completed_reason = action.not_completed_reason or data.get("outstanding_reason")
    audit.closure_outcome = data["closure_outcome"]
    audit.closure_notes = data.get("notes")
    audit.status, audit.closed_at = "closed", now
    _record(context, audit, "audit.closed", {"outcome": audit.closure_outcome,
                                             "outstanding": [a.ref for a in actions if a.ref in outstanding]})
    return True


def _tell_auditor_of_disagreement(context: ServiceContext, audit: Audit, grade_before: str,
                                  answers_changed: list[str]) -> None:
    """The auditor learns at once that the moderator disagreed, with the grades, not the child's details."""
    labels = scale_for_audit(context.session, audit).labels
    changed = f" and changed {len(answers_changed)} answer{'s' if len(answers_changed) != 1 else ''}" \
        if answers_changed else ""
    notify(context.session, audit.auditor_id, "moderation_disagreed",
           f"The moderator disagreed with your grading ({audit.reference})",
           f"The moderator of {audit.reference} moderated your grade {labels.get(grade_before, grade_before)} to "
           f"{labels.get(audit.moderated_grade, audit.moderated_grade)}{changed}. Their rationale and the "
           "reflective discussion are on the audit's page.",
           link=f"/audits/{audit.id}", instance_id=context.instance_id)


def _check_supervision_date(session, action: AuditAction, supervised_on: date) -> None:
    """A review in supervision happened on a real day: not in the future, not before the action was agreed."""
    if supervised_on > clock.today():
        raise InvalidFormData({"action_review.supervision_date": "The date of supervision cannot be in the future"})
    agreed = graded_on(session, action)
    if supervised_on < agreed:
        raise InvalidFormData({"action_review.supervision_date": (
            f"The date of supervision cannot be before the action was agreed ({agreed.strftime('%-d %B %Y')})")})


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
