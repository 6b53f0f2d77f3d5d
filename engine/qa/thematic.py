"""The thematic audit (QA framework section 5): commissioned by the principal social worker
or an assistant director, sampled and allocated by the QA lead, run as ordinary case file
audits, written up by the QA lead and signed off by the commissioner, then published with its
recommendations tracked in the master audit actions tracker (engine/qa/activity_actions.py).

The service operations processes/thematic_audit calls live here, with who may read a
thematic audit and what its report holds (the measures of its audits). The draw is
seeded and recorded like the cycle's, with the same allocation rules, and the QA lead
reviews it (removes or swaps cases, engine/qa/thematic_sample.py) before each kept case's
audit is started by the thematic audit's instance and linked to it
(engine/runtime/starting.py): a case file audit, or a focused audit asking the
commission's own questions (engine/qa/focused_tool.py).
"""
import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.qa import focused_tool, thematic_sample
from engine.qa.access import SEE_EVERY_AUDIT, can_view_audit
from engine.qa.allocation import AllocationError, AllocationRequest, allocate_audit
from engine.qa.activity_actions import ActionSource, track_recommendations
from engine.qa.compliance import Suppression
from engine.qa.grading_scale import current_scale, scales_in_use
from engine.qa.models import COHORTS, Audit, Case, Service
from engine.qa.thematic_models import ThematicAudit
from engine.qa.working_days import add_working_days
from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.models import ProcessInstance
from engine.runtime.services import ServiceContext, service_operation
from engine.runtime.starting import child_instance_ids, link_child_instance

SAMPLE_WORKING_DAYS = 5     # the QA lead draws the sample within a week of the commission
SIGN_OFF_WORKING_DAYS = 5   # the commissioner signs off within a week of the findings
REVIEW_WORKING_DAYS = 2     # the QA lead reviews the draw within two working days, or by the sample's due date
WHY_NOW = {"performance_data": "Performance data", "review": "A review (e.g. a safeguarding practice review)",
           "inspection": "Inspection feedback", "practice_concern": "A concern about practice", "other": "Other"}


def may_view_thematic(session: Session, user: User, thematic: ThematicAudit) -> bool:
    """The QA team and senior leaders, the commissioner, and the head of service of the service it looked at."""
    if user.has_role(*SEE_EVERY_AUDIT) or thematic.commissioned_by_id == user.id:
        return True
    return session.get(Service, thematic.service_id).head_of_service_id == user.id


def visible_thematic_audits(session: Session, user: User) -> list[ThematicAudit]:
    rows = session.scalars(select(ThematicAudit).order_by(ThematicAudit.commissioned_at.desc()))
    return [row for row in rows if may_view_thematic(session, user, row)]


def sampled_audits(session: Session, thematic: ThematicAudit) -> list[Audit]:
    """The case file audits the thematic audit started, in the order they were drawn."""
    ids = child_instance_ids(session, thematic.instance_id)
    return list(session.scalars(select(Audit).where(Audit.instance_id.in_(ids)).order_by(Audit.id))) if ids else []


def thematic_report(session: Session, thematic: ThematicAudit, suppress: Suppression = Suppression(False)) -> dict:
    """What the report shows: the commission, the reviewed sample, the measures of its audits
    (grades, or the focused tool's shares per question, small numbers hidden by `suppress`),
    the write-up."""
    audits = sampled_audits(session, thematic)
    final = [audit.moderated_grade or audit.overall_grade for audit in audits]
    known, current = scales_in_use(session), current_scale(session)
    scales = [known.get(audit.grading_scale) or current for audit in audits]  # each audit's own version's
    grades = _grade_table(scales, final, current)
    drawn = thematic_sample.rows(session, thematic)
    people = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({thematic.commissioned_by_id, thematic.signed_off_by_id}
                    | {row.changed_by_id for row in drawn} - {None}))).all())
    references = dict(session.execute(select(Case.id, Case.reference).where(
        Case.id.in_({row.case_id for row in drawn}))).all())
    focused = thematic.tool == focused_tool.TOOL
    return {
        "thematic": thematic, "service": session.get(Service, thematic.service_id).name,
        "cohort": COHORTS.get(thematic.cohort, "Any cohort"), "why_now": WHY_NOW.get(thematic.why_now, thematic.why_now),
        "commissioned_by": people.get(thematic.commissioned_by_id), "signed_off_by": people.get(thematic.signed_off_by_id),
        "tool": "A focused tool of its own" if focused else "The case file audit tool",
        "audits": [{"reference": audit.reference, "case": audit.case.reference, "status": audit.status,
                    "grade": ("Checked" if audit.moderated_at else "Not yet checked") if focused
                    else scale.labels.get(grade, grade) if grade else "Not yet graded"}
                   for audit, grade, scale in zip(audits, final, scales)],
        "grading_scale": None if focused else grades["scale"],
        "grades": [] if focused else grades["rows"],
        "good_or_better": None if focused else grades["good_or_better"],
        "safeguarding_concerns": sum(1 for audit in audits if audit.safeguarding_concern),
        "focused": focused_tool.question_shares(session, audits, thematic.focused_questions, suppress) if focused else [],
        "moderator_views": focused_tool.moderator_disagreements(session, audits, thematic.focused_questions)
        if focused else [],
        "small_numbers_hidden": focused and suppress.applies,
        "sample_changes": [{"case": references[row.case_id], "change": "Removed" if row.status == "removed" else
                            f"Swapped for {references[next(r.case_id for r in drawn if r.replaces_id == row.id)]}",
                            "reason": row.reason, "by": people.get(row.changed_by_id), "at": row.changed_at}
                           for row in drawn if row.status in ("removed", "swapped_out")],
    }


def _grade_table(scales: list, final: list, current) -> dict:
    """The sample's grades on the scale most of its graded audits are on (the current scale when
    none is graded yet), each grade with its count and share; grades given on another scale are
    added after them under their own scale's name, with shares of that scale's audits, never
    folded into the main scale's figures. Good or better is the main scale's."""
    by_scale: dict[str, tuple] = {}
    for grade, scale in zip(final, scales):
        if grade:
            by_scale.setdefault(scale.signature, (scale, []))[1].append(grade)
    main, main_grades = max(by_scale.values(), key=lambda pair: len(pair[1]), default=(current, []))
    rows = []
    for key, label in main.labels.items():
        rows.append({"grade": label, "count": main_grades.count(key),
                     "share": round(100 * main_grades.count(key) / len(main_grades)) if main_grades else 0})
    for signature, (scale, given) in by_scale.items():
        if signature != main.signature:
            rows += [{"grade": f"{label} ({scale.name})", "count": given.count(key),
                      "share": round(100 * given.count(key) / len(given))}
                     for key, label in scale.labels.items() if key in given]
    return {"scale": main.name, "rows": rows,
            "good_or_better": round(100 * sum(g in main.good_or_better for g in main_grades) / len(main_grades))
            if main_grades else None}


def report_suppression(session: Session, user: User, thematic: ThematicAudit) -> Suppression:
    """Small numbers are hidden from a reader who cannot open every audit of the sample."""
    return Suppression(not all(can_view_audit(session, user, audit.id) for audit in sampled_audits(session, thematic)))


@service_operation("record_thematic_commission")
def record_thematic_commission(context: ServiceContext, data: dict):
    """Keep the commission as the thematic audit's record and set its timescales in working days.

    Refuses a deadline that leaves no time for the audits (a case file audit takes 15
    working days and its moderation 10 more)."""
    session, today = context.session, clock.today()
    deadline = date.fromisoformat(data["deadline"])
    earliest = add_working_days(add_working_days(today, SAMPLE_WORKING_DAYS), 25)
    if deadline < earliest:
        raise InvalidFormData({"deadline": f"The deadline must leave time to sample, audit and moderate: "
                                           f"{earliest:%d %B %Y} or later"})
    instance = session.get(ProcessInstance, context.instance_id)
    thematic = ThematicAudit(
        reference=instance.business_key, instance_id=instance.id, commissioned_by_id=data["started_by"],
        service_id=data["service_id"], theme=data["theme"], question=data["question"], why_now=data["why_now"],
        why_now_detail=data.get("why_now_detail", ""), cohort=None if data["cohort"] == "any" else data["cohort"],
        sample_size=data["sample_size"], tool=data["tool"], focused_questions=focused_tool.commission_questions(data),
        deadline=deadline, commissioned_at=clock.now())
    session.add(thematic)
    session.flush()
    events.record(session, "thematic.commissioned", actor_id=context.actor_id, instance_id=instance.id,
                  subject=("thematic_audit", thematic.id),
                  payload={"reference": thematic.reference, "service_id": thematic.service_id,
                           "cohort": thematic.cohort, "sample_size": thematic.sample_size, "deadline": deadline,
                           "tool": thematic.tool, "focused_questions": thematic.focused_questions})
    return {"id": thematic.id, "reference": thematic.reference,
            "sample_due": add_working_days(today, SAMPLE_WORKING_DAYS).isoformat(),
            "findings_due": deadline.isoformat(),
            "sign_off_due": add_working_days(deadline, SIGN_OFF_WORKING_DAYS).isoformat()}


@service_operation("draw_thematic_sample")
def draw_thematic_sample(context: ServiceContext, data: dict, thematic_id: int):
    """Draw the seeded sample from the case register for the QA lead to review (engine/qa/thematic_sample.py)."""
    thematic = context.session.get(ThematicAudit, thematic_id)
    seed = data.get("seed") or secrets.randbelow(2 ** 31)
    drawn = thematic_sample.draw(context.session, thematic, seed, context.actor_id)
    sample_due = date.fromisoformat(data["thematic"]["sample_due"])
    review_due = max(sample_due, add_working_days(clock.today(), REVIEW_WORKING_DAYS))
    return {"cases": len(drawn), "seed": seed, "review_due": review_due.isoformat()}


@service_operation("start_thematic_audits")
def start_thematic_audits(context: ServiceContext, data: dict, thematic_id: int):
    """Start one audit per case the QA lead's review kept, with its auditor and moderator, linked
    to this thematic audit: a case file audit, or a focused audit asking the commission's questions."""
    session = context.session
    thematic = session.get(ThematicAudit, thematic_id)
    kept = thematic_sample.proposed(session, thematic)
    if not kept:
        raise InvalidFormData({"confirmed": "Every case has been removed from the sample: swap one in before "
                                            "confirming."})
    process = {}
    if thematic.tool == focused_tool.TOOL:
        process = {"process_key": focused_tool.PROCESS_KEY,
                   "start_data": {"focused_tool": focused_tool.focused_tool_form(thematic.theme,
                                                                                 thematic.focused_questions)}}
    qa_lead = session.get(User, context.actor_id)
    for row in kept:
        reference = session.get(Case, row.case_id).reference
        request = AllocationRequest(reference, row.auditor_id, row.moderator_id, audit_type="thematic", **process)
        try:
            audit = allocate_audit(session, request, qa_lead)
        except AllocationError as refused:
            raise InvalidFormData({"confirmed": f"{reference}: {refused} Remove or swap it first."})
        link_child_instance(session, session.get(ProcessInstance, audit.instance_id), thematic.instance_id,
                            about_kind="case", about_id=row.case_id, about_label=reference)
        row.status, row.audit_id = "started", audit.id
    thematic.status = "audits_running"
    thematic.sample = [session.get(Case, row.case_id).reference for row in kept]
    changed = [row for row in thematic_sample.rows(session, thematic) if row.status in ("removed", "swapped_out")]
    events.record(session, "thematic.sample_confirmed", actor_id=context.actor_id, instance_id=thematic.instance_id,
                  subject=("thematic_audit", thematic.id),
                  payload={"audits": len(kept), "cases": thematic.sample, "tool": thematic.tool,
                           "removed": sum(row.status == "removed" for row in changed),
                           "swapped": sum(row.status == "swapped_out" for row in changed)})
    return {"audits": len(kept), "seed": thematic.seed}


@service_operation("record_thematic_findings")
def record_thematic_findings(context: ServiceContext, data: dict, thematic_id: int):
    """Keep the QA lead's findings, learning and recommendations, once every audit is moderated."""
    session = context.session
    thematic = session.get(ThematicAudit, thematic_id)
    waiting = [audit.reference for audit in sampled_audits(session, thematic) if audit.moderated_at is None]
    if waiting:
        raise InvalidFormData({"findings": "Write the findings once every audit in the sample is moderated; "
                                           f"not yet: {', '.join(waiting)}"})
    thematic.findings, thematic.learning = data["findings"], data["learning"]
    thematic.recommendations = data.get("recommendations", [])
    thematic.status = "awaiting_sign_off"
    events.record(session, "thematic.findings_recorded", actor_id=context.actor_id, instance_id=thematic.instance_id,
                  subject=("thematic_audit", thematic.id), payload={"recommendations": len(thematic.recommendations)})
    return {"recommendations": len(thematic.recommendations)}


@service_operation("record_thematic_sign_off")
def record_thematic_sign_off(context: ServiceContext, data: dict, thematic_id: int):
    """The commissioner approves the report (it is published) or returns it to the QA lead."""
    session = context.session
    thematic = session.get(ThematicAudit, thematic_id)
    thematic.sign_off_comments = data.get("sign_off_comments", "")
    if data["sign_off_decision"] == "approve":
        thematic.status, thematic.signed_off_by_id = "published", context.actor_id
        thematic.signed_off_at = thematic.published_at = clock.now()
        kind = "thematic.published"
        track_recommendations(session, ActionSource("thematic", thematic.reference, thematic.instance_id,
                                                    thematic.service_id),
                              thematic.recommendations, context.actor_id)
    else:
        thematic.status, kind = "returned", "thematic.returned"
    events.record(session, kind, actor_id=context.actor_id, instance_id=thematic.instance_id,
                  subject=("thematic_audit", thematic.id), payload={"reference": thematic.reference})
    return {"published": thematic.status == "published"}

