"""One audit as people read it: the case's profile, what the auditor found per question with its
evidence, the evidence the worker and the practitioners added to the audit gave, the impact for
the child, grades before and after moderation, feedback, reflections, escalations, actions and
the dated history of who did what.

The web page and the API both render this record; reading it is itself recorded
in the audit trail, because audits hold special category data about children.
"""
import json

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.qa.case_profile import profile_items
from engine.qa.contributions import contributions_of, participants_of
from engine.qa.feedback_requests import requests_for_audit
from engine.qa.findings import findings_by_area, impact_label
from engine.qa.grading_scale import scale_for_audit
from engine.qa.models import (AREAS, AUDIT_STATUSES, COHORTS, AreaGrade, Audit, AuditAction,
                              Escalation, Feedback, Reflection, Service, Team)
from engine.runtime import events
from engine.runtime.models import Event, HumanTask

HISTORY_HIDDEN_KINDS = ("audit.viewed", "task.viewed", "task.draft_saved")


def read_audit(session: Session, audit: Audit, reader: User) -> dict:
    """The full record of `audit`, with the read written to the audit trail."""
    events.record(session, "audit.viewed", actor_id=reader.id, instance_id=audit.instance_id,
                  subject=("audit", audit.id), payload={"audit": audit.reference})
    return audit_record(session, audit)


def audit_record(session: Session, audit: Audit) -> dict:
    names = _names(session, audit)
    scale = scale_for_audit(session, audit)
    grades = session.scalars(select(AreaGrade).where(AreaGrade.audit_id == audit.id)).all()
    by_area = {area: {"area": area, "label": label, "auditor_grade": None, "auditor_rationale": None,
                      "moderated_grade": None} for area, label in AREAS.items()}
    for row in grades:
        if row.stage == "auditor":
            by_area[row.area]["auditor_grade"] = row.grade
            by_area[row.area]["auditor_rationale"] = row.rationale
        else:
            by_area[row.area]["moderated_grade"] = row.grade
    today = clock.today()
    return {
        "id": audit.id, "reference": audit.reference, "audit_type": audit.audit_type,
        "case_reference": audit.case.reference, "cohort": audit.cohort, "cohort_label": COHORTS.get(audit.cohort, audit.cohort),
        "profile": profile_items(audit.case),
        "judgement_area": scale.judgement_areas.get(audit.judgement_area, "Not recorded"),
        "grading_scale": scale.name, "grade_labels": scale.labels,
        "team": session.get(Team, audit.team_id).name, "service": session.get(Service, audit.service_id).name,
        "status": audit.status, "status_label": AUDIT_STATUSES.get(audit.status, audit.status),
        "instance_id": audit.instance_id,
        "people": {role: {"id": getattr(audit, f"{role}_id"), "name": names.get(getattr(audit, f"{role}_id"))}
                   for role in ("auditor", "moderator", "worker", "team_manager", "head_of_service")},
        "dates": {"allocated": audit.allocated_at, "due": audit.due_on, "moderation_due": audit.moderation_due_on,
                  "started": audit.started_at, "graded": audit.graded_at, "moderated": audit.moderated_at,
                  "closed": audit.closed_at},
        "overdue": audit.graded_at is None and audit.due_on < today,
        "overall_grade": audit.overall_grade, "overall_grade_label": scale.labels.get(audit.overall_grade),
        "overall_rationale": audit.overall_rationale, "strengths": audit.strengths,
        "areas_for_development": audit.areas_for_development,
        "safeguarding_concern": audit.safeguarding_concern, "safeguarding_details": audit.safeguarding_details,
        "moderation_outcome": audit.moderation_outcome, "moderated_grade": audit.moderated_grade,
        "moderated_grade_label": scale.labels.get(audit.moderated_grade), "moderation_rationale": audit.moderation_rationale,
        "discussion": {"date": audit.discussion_date, "summary": audit.discussion_summary,
                       "learning": audit.discussion_learning} if audit.discussion_date else None,
        "area_grades": list(by_area.values()),
        "findings": [{**area, **{key: by_area.get(area["area"], {}).get(key)
                                 for key in ("auditor_grade", "auditor_rationale", "moderated_grade")}}
                     for area in findings_by_area(session, audit)],
        "participants": participants_of(session, audit),
        "contributions": contributions_of(session, audit),
        "impact": {"value": audit.impact, "label": impact_label(audit.impact), "reason": audit.impact_reason}
        if audit.impact else None,
        "feedback": [{"source": f.source, "status": f.status, "method": f.method, "date": f.feedback_date,
                      "rating": f.rating, "summary": f.summary}
                     for f in session.scalars(select(Feedback).where(Feedback.audit_id == audit.id).order_by(Feedback.id))],
        "feedback_requests": requests_for_audit(session, audit.id),
        "reflection": _reflection(session.get(Reflection, audit.id)),
        "escalations": [{"reason": e.reason, "head_of_service": names.get(e.head_of_service_id) or _name(session, e.head_of_service_id),
                         "notified_at": e.notified_at, "due_on": e.due_on, "acknowledged_at": e.acknowledged_at,
                         "immediate_actions": e.immediate_actions}
                        for e in session.scalars(select(Escalation).where(Escalation.audit_id == audit.id).order_by(Escalation.id))],
        "actions": [action_row(session, a, today) for a in session.scalars(
            select(AuditAction).where(AuditAction.audit_id == audit.id).order_by(AuditAction.id))],
        "closure": {"outcome": audit.closure_outcome, "notes": audit.closure_notes} if audit.closed_at else None,
        "open_tasks": [{"id": t.id, "title": t.title, "assignee": _name(session, t.assignee_id) if t.assignee_id else None,
                        "role": t.role, "due_on": t.due_on}
                       for t in session.scalars(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                                         HumanTask.state == "ready").order_by(HumanTask.id))],
        "history": history(session, audit),
    }


def action_row(session: Session, action: AuditAction, today) -> dict:
    overdue = action.status in ("not_started", "in_progress") and (action.revised_due_on or action.due_on) < today
    return {"id": action.id, "ref": action.ref, "action": action.description, "area": action.area,
            "area_label": AREAS.get(action.area, "Overall practice"), "owner": _name(session, action.owner_id),
            "owner_role": action.owner_role, "due_on": action.due_on, "priority": action.priority,
            "status": "overdue" if overdue else action.status, "completed_on": action.completed_on,
            "evidence": action.evidence, "reviewed_in_supervision_on": action.reviewed_in_supervision_on,
            "supervision_outcome": action.supervision_outcome, "revised_due_on": action.revised_due_on,
            "verified_by": _name(session, action.verified_by_id) if action.verified_by_id else None,
            "verified_at": action.verified_at, "not_completed_reason": action.not_completed_reason}


def history(session: Session, audit: Audit) -> list[dict]:
    """Every event about this audit or its process, oldest first (reads are left to the trail export)."""
    rows = session.scalars(select(Event).where(
        or_(Event.instance_id == audit.instance_id,
            (Event.subject_type == "audit") & (Event.subject_id == str(audit.id))),
        Event.kind.not_in(HISTORY_HIDDEN_KINDS)).order_by(Event.seq)).all()
    actor_names = {u.id: u.display_name for u in session.scalars(
        select(User).where(User.id.in_({r.actor_id for r in rows if r.actor_id})))}
    return [{"seq": r.seq, "at": r.occurred_at, "kind": r.kind, "actor": actor_names.get(r.actor_id, "System"),
             "payload": json.loads(r.payload)} for r in rows]


def _reflection(row: Reflection | None) -> dict | None:
    if row is None:
        return None
    return {"went_well": row.went_well, "do_differently": row.do_differently, "learning_needs": row.learning_needs,
            "agrees_with_grade": row.agrees_with_grade, "disagreement_reason": row.disagreement_reason,
            "barriers": row.barriers, "submitted_at": row.submitted_at}


def _names(session: Session, audit: Audit) -> dict[int, str]:
    ids = {audit.auditor_id, audit.moderator_id, audit.worker_id, audit.team_manager_id, audit.head_of_service_id}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids)))}


def _name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else None
