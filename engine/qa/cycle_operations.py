"""Service operations the allocation cycle diagram calls (processes/audit_cycle).

`draw_cycle_sample` draws the random sample and puts the cycle in review;
`start_cycle_audits` starts one case file audit per allocation the QA lead kept
and says when the cycle closes; `close_audit_cycle` closes it and schedules the
next. Each records what it did in the audit trail.
"""
from datetime import timedelta

from sqlalchemy import func, select

from engine.accounts import User
from engine.clock import clock
from engine.email_delivery import absolute_link
from engine.notifications import notify_each
from engine.qa import actions_tracker, cycles
from engine.qa.allocation import AllocationError, AllocationRequest, check_allocation, facts_for, start_audits
from engine.qa.cycle_models import AuditCycle
from engine.qa.models import Audit, Case
from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.services import ServiceContext, service_operation

TRACKER_PATH = "/tracker"  # the actions tracker page, made absolute with QA_BASE_URL as the web's own link is

CONFIRM_FIELD = "confirmed"  # the review form's one answer: refusals are shown against it


@service_operation("draw_cycle_sample")
def draw_cycle_sample(context: ServiceContext, data: dict, cycle_id: int):
    cycle = context.session.get(AuditCycle, cycle_id)
    drawn = cycles.record_draw(context.session, cycle, context.actor_id, context.instance_id)
    return {"cases": drawn, "seed": cycle.seed, "problem": cycle.draw_problem}


@service_operation("start_cycle_audits")
def start_cycle_audits(context: ServiceContext, data: dict, cycle_id: int):
    """Start the audits of every allocation still proposed, as the QA lead who confirmed.

    Anything that stops one of them (a case closed since the draw, say) refuses the
    whole confirmation with the reason, so the QA lead can remove that case first."""
    session = context.session
    cycle = session.get(AuditCycle, cycle_id)
    problems = cycles.review_problems(session, cycle)
    if problems:
        raise InvalidFormData({CONFIRM_FIELD: " ".join(problems)})
    confirmed_by = session.get(User, context.actor_id)
    proposed = [allocation for allocation in cycles.allocations(session, cycle) if allocation.status == "proposed"]
    references = dict(session.execute(select(Case.id, Case.reference).where(
        Case.id.in_([allocation.case_id for allocation in proposed]))).all())
    requests = [AllocationRequest(case_reference=references[allocation.case_id], auditor_id=allocation.auditor_id,
                                  moderator_id=allocation.moderator_id, audit_type="random")
                for allocation in proposed]
    facts = facts_for(session, requests)  # held to the end: the notifications below read its cases and people
    checked = []
    for request in requests:
        try:
            checked.append(check_allocation(session, request, confirmed_by, facts))
        except AllocationError as refused:
            raise InvalidFormData({CONFIRM_FIELD: f"{request.case_reference}: {refused}"})
    started = start_audits(session, checked, confirmed_by, facts)
    for allocation, audit in zip(proposed, started):  # after them all, so one UPDATE of each table
        audit.cycle_id = cycle.id
        allocation.status, allocation.audit_id = "started", audit.id
    _tell_team_managers(session, cycle, started)
    last_moderation = max((audit.moderation_due_on for audit in started), default=None)
    cycle.closes_on = (last_moderation + timedelta(days=1) if last_moderation
                       else clock.today() + timedelta(days=1))
    cycle.status, cycle.confirmed_at, cycle.confirmed_by_id = "audits_started", clock.now(), confirmed_by.id
    events.record(session, "cycle.confirmed", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit_cycle", cycle.id),
                  payload={"cycle": cycle.number, "audits": [audit.reference for audit in started],
                           "removed": sum(1 for a in cycles.allocations(session, cycle) if a.status == "removed"),
                           "closes_on": cycle.closes_on})
    start_time = cycles.default_settings(session).start_time
    return {"audits": len(started), "closes_on": cycle.closes_on.isoformat(),
            "closes_at": cycles.moment(cycle.closes_on, start_time)}


def _tell_team_managers(session, cycle: AuditCycle, started: list[Audit]) -> None:
    """Each team manager hears which of their team's cases the cycle drew, and who audits them."""
    by_manager: dict[int, list[Audit]] = {}
    for audit in started:
        by_manager.setdefault(audit.team_manager_id, []).append(audit)
    letters = []
    for manager_id, audits in sorted(by_manager.items()):
        lines = "\n".join(f"- case {session.get(Case, a.case_id).reference}: audit {a.reference} by "
                          f"{session.get(User, a.auditor_id).display_name}, due {a.due_on.strftime('%-d %B %Y')}"
                          for a in audits)
        letters.append((manager_id, f"{cycle.label}: {len(audits)} of your team's cases drawn for audit",
                        f"The {cycle.label.lower()} draw chose these cases from your team:\n{lines}\n\n"
                        "The auditor will arrange to meet each allocated worker; the audit is done with them, "
                        "not to them."))
    notify_each(session, "cases_drawn", letters, link="/inbox")


def _distribute_tracker(session, cycle: AuditCycle) -> int:
    """The framework sends the audit actions tracker to the heads of service and the conference
    and review managers when a cycle ends; it goes out in the name of the QA lead who confirmed
    the cycle. Returns how many action rows were sent (0 when the cycle agreed none)."""
    qa_lead = session.get(User, cycle.confirmed_by_id) if cycle.confirmed_by_id else None
    if qa_lead is None or not actions_tracker.cycle_has_actions(session, cycle.id):
        return 0
    return actions_tracker.distribute(session, qa_lead, cycle_id=cycle.id,
                                      tracker_url=absolute_link(TRACKER_PATH))["rows"]


@service_operation("close_audit_cycle")
def close_audit_cycle(context: ServiceContext, data: dict, cycle_id: int):
    """Close the cycle with a count of where its audits stand, and schedule the next one."""
    session = context.session
    cycle = session.get(AuditCycle, cycle_id)
    statuses = dict(session.execute(select(Audit.status, func.count(Audit.id))
                                    .where(Audit.cycle_id == cycle.id).group_by(Audit.status)).all())
    cycle.status, cycle.closed_at = "closed", clock.now()
    following = cycles.schedule_next_cycle(session, cycle, context.actor_id) if cycle.cadence_weeks else None
    summary = {"audits": sum(statuses.values()), "by_status": statuses,
               "next_cycle": following.number if following else None,
               "next_starts_on": following.starts_on.isoformat() if following else None,
               "tracker_rows_distributed": _distribute_tracker(session, cycle)}
    events.record(session, "cycle.closed", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit_cycle", cycle.id), payload={"cycle": cycle.number, **summary})
    return summary
