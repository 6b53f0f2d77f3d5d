"""The demo's history of the framework's other activities, run through their real processes.

`run_dip_sample_history` has a head of service dip sample two cases of their service;
`run_practice_week_history` holds a practice week every head of service observes in, and
the QA lead's summary closes it.
`run_multi_agency_history` has the QA lead audit one case with the health and police partner
auditors, each completing their agency's section, and agree actions for each agency.
`run_annual_report_history` assembles last reporting year's annual QA report, which the
director signs off.
`run_thematic_history` commissions a thematic audit as the principal social worker from
the Start page's engine function, draws its sample as the QA lead, walks each sampled
case file audit as its people (engine/qa/demo_history.walk_audit), writes the findings
and signs it off, on the product clock some months back: the demo's thematic audit
list, its report and the reports' activity filter then have something to show.
"""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.qa.demo_history import at_local_hour, walk_audit
from engine.qa.grading_scale import current_scale
from engine.qa.models import Case, Service
from engine.qa import thematic_sample
from engine.qa.thematic import sampled_audits
from engine.qa.thematic_models import DipSample, ThematicAudit
from engine.runtime.instances import claim_task, complete_task
from engine.runtime.models import HumanTask, InstanceStart
from engine.runtime.starting import start_process

THEMATIC_SERVICE = "Children in Care"
DAYS_AGO = 120


FOCUSED_QUESTIONS = ("Was permanence discussed at the second review?", "Is the permanence plan recorded on file?")


def run_thematic_history(session: Session, sample_size: int = 2, seed: int = 2026, tool: str = "case_file_audit",
                         swap_reason: str | None = None) -> ThematicAudit | None:
    """One published thematic audit (with the case file audit tool, or a focused tool of two
    questions; its first drawn case swapped at review when `swap_reason` is given), or None
    when the demo has no principal social worker or QA lead."""
    psw = _person(session, "principal_social_worker")
    lead = _person(session, "qa_lead")
    service = session.scalar(select(Service).where(Service.name == THEMATIC_SERVICE))
    if psw is None or lead is None or service is None:
        return None
    day = clock.today() - timedelta(days=DAYS_AGO)
    try:
        clock.set(at_local_hour(day, 9))
        instance = start_process(session, psw, "thematic_audit", {
            "theme": "Permanence for children in care", "tool": tool, "cohort": "child_in_care",
            "focused_questions": [{"question": text} for text in FOCUSED_QUESTIONS] if tool == "focused" else [],
            "question": "Is permanence planned from the second review for every child in care?",
            "why_now": "performance_data", "why_now_detail": "Demo: placement moves rose over two quarters.",
            "sample_size": sample_size, "deadline": (day + timedelta(days=70)).isoformat()}, service.id)
        _complete(session, instance.id, "draw_sample", lead, {"seed": seed, "confirmed": True})
        thematic = session.scalar(select(ThematicAudit).where(ThematicAudit.instance_id == instance.id))
        if swap_reason:
            thematic_sample.swap_case(session, thematic_sample.proposed(session, thematic)[0].id, lead, swap_reason)
        _complete(session, instance.id, "review_sample", lead, {"confirmed": True})
        scale = current_scale(session)  # the sampled audits grade on it: one good or better, one below, in turn
        for number, audit in enumerate(sampled_audits(session, thematic)):
            walk_audit(session, audit, (scale.good_or_better[-1], scale.below_good[0])[number % 2], disagree=False, day=day)
        clock.set(at_local_hour(day + timedelta(days=60), 10))
        _complete(session, instance.id, "write_findings", lead, {
            "findings": "Demo: permanence was discussed at the second review in half of the cases sampled.",
            "learning": "Demo: record the permanence plan on the review form itself.",
            "recommendations": [{"recommendation": "Add permanence to the second-review template",
                                 "owner": "head_of_service", "due_on": (day + timedelta(days=150)).isoformat()}]})
        clock.set(at_local_hour(day + timedelta(days=62), 10))
        _complete(session, instance.id, "sign_off", psw, {"sign_off_decision": "approve",
                                                          "sign_off_comments": "Demo: approved for publication."})
    finally:
        clock.set(None)
    return thematic


def run_dip_sample_history(session: Session, seed: int = 2026) -> DipSample | None:
    """One completed dip sample of two drawn cases, by the first head of service who leads a service."""
    service = session.scalar(select(Service).where(Service.head_of_service_id.is_not(None)).order_by(Service.name))
    if service is None:
        return None
    head = session.get(User, service.head_of_service_id)
    day = clock.today() - timedelta(days=DAYS_AGO // 2)
    try:
        clock.set(at_local_hour(day, 9))
        instance = start_process(session, head, "dip_sample", {
            "focus": "Management oversight in the first month", "method": "draw", "number_of_cases": 2,
            "seed": seed}, service.id)
        dip = session.scalar(select(DipSample).where(DipSample.instance_id == instance.id))
        clock.set(at_local_hour(day + timedelta(days=5), 14))
        _complete(session, instance.id, "do_dip_sample", head, {
            "cases": [{"case_reference": reference, "rating": "good", "immediate_concern": False,
                       "finding": "Demo: supervision recorded monthly with clear decisions."} for reference in dip.cases],
            "findings": "Demo: oversight was visible in both cases.", "learning": "Demo: keep the monthly rhythm."})
    finally:
        clock.set(None)
    return dip


def run_practice_week_history(session: Session) -> int | None:
    """One closed practice week; returns its instance id."""
    lead = _person(session, "qa_lead")
    if lead is None:
        return None
    day = clock.today() - timedelta(days=DAYS_AGO)
    try:
        clock.set(at_local_hour(day, 9))
        week = start_process(session, lead, "practice_week", {
            "week_starts": day.isoformat(), "observations_due": (day + timedelta(days=4)).isoformat()}, None)
        clock.set(at_local_hour(day + timedelta(days=3), 15))
        for task in session.scalars(select(HumanTask).join(InstanceStart, InstanceStart.instance_id == HumanTask.instance_id)
                                    .where(InstanceStart.parent_instance_id == week.id, HumanTask.state == "ready")).all():
            complete_task(session, task.id, session.get(User, task.assignee_id), {
                "practitioner": "Demo: a social worker in the observer's service", "setting": "home_visit",
                "family_consent": True, "observed": "Demo: the plan explained clearly to the family.",
                "strengths": "Demo: warm and direct.", "development": "Demo: check the child's understanding.",
                "feedback_given": "Demo: given straight after.", "practitioner_reflection": "Demo: will try it."})
        clock.set(at_local_hour(day + timedelta(days=8), 10))
        _complete(session, week.id, "review", lead, {"summary": "Demo: relational practice was strong throughout."})
    finally:
        clock.set(None)
    return week.id


def run_multi_agency_history(session: Session) -> int | None:
    """One multi-agency audit with health and police, agreed; returns its instance id (None when
    the demo has no QA lead, no partner auditors or no case open on the day)."""
    lead = _person(session, "qa_lead")
    partners = {agency: session.scalar(select(User).where(User.username == f"partner.{agency}", User.active.is_(True)))
                for agency in ("health", "police")}
    day = clock.today() - timedelta(days=DAYS_AGO - 20)
    case = session.scalar(select(Case).where(Case.status == "open", Case.opened_on < day).order_by(Case.id).limit(1))
    if lead is None or None in partners.values() or case is None:
        return None
    try:
        clock.set(at_local_hour(day, 9))
        audit = start_process(session, lead, "multi_agency_audit", {
            "focus": "Demo: information sharing before the initial child protection conference",
            "sections_due": (day + timedelta(days=10)).isoformat(),
            "partners": [{"agency": agency, "username": person.username} for agency, person in partners.items()]},
            case.id)
        clock.set(at_local_hour(day + timedelta(days=5), 14))
        for task in session.scalars(select(HumanTask).join(InstanceStart, InstanceStart.instance_id == HumanTask.instance_id)
                                    .where(InstanceStart.parent_instance_id == audit.id, HumanTask.state == "ready")).all():
            complete_task(session, task.id, session.get(User, task.assignee_id), {
                "involvement": "Demo: involved since the referral.", "information_shared": "partly",
                "quality": "requires_improvement", "findings": "Demo: a missed appointment was not shared."})
        clock.set(at_local_hour(day + timedelta(days=12), 10))
        _complete(session, audit.id, "discuss", lead, {
            "agreed_findings": "Demo: missed appointments must reach the social worker the same week.",
            "actions": [{"agency": "health", "action": "Demo: share missed appointments weekly",
                         "due_on": (day + timedelta(days=60)).isoformat()},
                        {"agency": "council", "action": "Demo: add health to the core group",
                         "due_on": (day + timedelta(days=40)).isoformat()}]})
    finally:
        clock.set(None)
    return audit.id


def run_annual_report_history(session: Session) -> int | None:
    """Last reporting year's annual QA report, written by the QA lead and signed off by the
    director; returns its instance id (None when the demo has neither)."""
    lead, director = _person(session, "qa_lead"), _person(session, "director")
    if lead is None or director is None:
        return None
    today = clock.today()
    year = (today.year if today.month >= 4 else today.year - 1) - 1  # the reporting year that has ended
    day = max(today - timedelta(days=DAYS_AGO + 30), type(today)(year + 1, 4, 6))
    try:
        clock.set(at_local_hour(day, 9))
        report = start_process(session, lead, "annual_report", {
            "year": year, "due_on": (day + timedelta(days=14)).isoformat()})
        clock.set(at_local_hour(day + timedelta(days=7), 11))
        _complete(session, report.id, "write", lead, {
            "introduction": "Demo: the year's quality assurance activity in brief.",
            "audit_findings": "Demo: planning and management oversight were the areas most often graded lower.",
            "thematic_learning": "Demo: permanence planning from the second review.",
            "practice_week": "Demo: relational practice was strong in the observations.",
            "feedback": "Demo: families said they were listened to.",
            "priorities": "Demo: SMART plans and supervision at the expected frequency."})
        clock.set(at_local_hour(day + timedelta(days=9), 15))
        _complete(session, report.id, "sign_off", director, {"sign_off_decision": "approve",
                                                             "sign_off_comments": "Demo: approved for publication."})
    finally:
        clock.set(None)
    return report.id


def _complete(session: Session, instance_id: int, step: str, person: User, answers: dict) -> None:
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.spec_name == step,
                                                  HumanTask.state == "ready"))
    if task.assignee_id is None:
        claim_task(session, task.id, person)
    complete_task(session, task.id, person, answers)


def _person(session: Session, role: str) -> User | None:
    return session.scalar(select(User).join(UserRole).where(UserRole.role == role, User.active.is_(True))
                          .order_by(User.id).limit(1))
