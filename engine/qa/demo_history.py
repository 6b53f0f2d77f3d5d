"""Completed audits over past cycles, for reports, exports and the demo.

`write_history` is the fast, direct generator: it writes the audit tables, one
finished process instance per audit (its workflow is not stored) and a realistic
trail of chained events straight into the database from a list of `AuditPlan`s,
so a test can state exactly what happened and hand-compute the report, and the
bench can make a year of a few thousand audits in seconds. `random_plans` draws
such plans with the grade mix domain.md section 6 gives (about 5% Outstanding,
45% Good, 40% Requires improvement, 10% Inadequate, varying by team; 15-25% of
moderations disagree). The demo's history instead runs the real process:
`run_demo_history` allocates a few audits in each past cycle and completes every task
as the person it falls to, on the product clock, with answers filled from each task's
own form schema, so the demo's reports and exports show audits made the live way.
"""
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.clock import LOCAL_ZONE, clock
from engine.qa.allocation import PROCESS_KEY, AllocationRequest, allocate_audit
from engine.qa.finding_models import AuditEvidence, AuditFinding
from engine.qa.findings import tool_labels
from engine.qa.grading_scale import scale_of_version
from engine.qa.models import AREAS, AreaGrade, Audit, AuditAction, Case, Escalation, Feedback, Reflection, Service, Team
from engine.qa.operations import FEEDBACK_SOURCES
from engine.runtime.events import canonical_json, event_hash, lock_chain_head, move_chain_head
from engine.runtime.forms import all_properties
from engine.runtime.instances import claim_task, complete_task, task_form_schema
from engine.runtime.models import Event, HumanTask, ProcessInstance, ProcessVersion
from engine.runtime.registry import built_model_for, latest_version

GRADE_ORDER = ("outstanding", "good", "requires_improvement", "inadequate")
GRADE_MIX = (0.05, 0.45, 0.40, 0.10)
MODERATOR_ROLES = ("head_of_service", "principal_social_worker", "qa_lead")
STEPS = ("prepare_audit", "complete_audit_tool", "record_feedback", "grade_audit", "add_reflections",
         "moderate_audit")
VIEWERS = ("auditor_id", "moderator_id", "worker_id", "team_manager_id", "head_of_service_id")


@dataclass
class ActionPlan:
    area: str
    due_after_days: int                     # due this many days after grading
    completed_after_days: int | None = None  # completed this many days after grading; None: still open
    cancelled: bool = False


@dataclass
class AuditPlan:
    """One audit as it happened. Days count from the allocation date."""
    team: str
    allocated_on: date
    grade: str | None                        # the auditor's overall grade; None: not graded yet
    area_grades: dict[str, str] = field(default_factory=dict)  # areas not named take `grade`
    graded_after_days: int = 12
    moderated_grade: str | None = None       # None: not moderated (yet)
    moderated_area_grades: dict[str, str] = field(default_factory=dict)
    moderated_after_days: int = 20
    feedback: dict[str, str] = field(default_factory=dict)  # source -> status; unnamed: "obtained"
    actions: list[ActionPlan] = field(default_factory=list)
    escalation_hours: float | None = None    # head of service told this long after grading
    closed: bool = False
    audit_type: str = "random"
    cohort: str | None = None                # default: the case's cohort
    cycle_id: int | None = None              # the allocation cycle that drew it, if any
    views: int = 3
    answers: dict[str, str] = field(default_factory=dict)            # "area.question" -> answer; unnamed: "yes"
    moderated_answers: dict[str, str] = field(default_factory=dict)  # the moderator's, where they differ
    impact: str = "improved"                 # what has changed for the child
    version: ProcessVersion | None = None    # the case file audit version it ran on; default: the newest


def write_history(session: Session, plans: list[AuditPlan], seed: int = 1) -> list[int]:
    """Write `plans` as audits with their trackers and event trail; returns the audit ids.

    People come from the council already in the database: the case's worker and team
    manager, an auditor who manages another team, a moderator who is not the auditor."""
    world = _World(session, seed)
    writer = _Writer(session, world)
    for plan in plans:
        writer.audit(plan)
    writer.flush()
    return writer.audit_ids


def random_plans(session: Session, first_day: date, cycles: int, audits_per_cycle: int, seed: int = 1,
                 cycle_days: int = 42, views: tuple[int, int] = (2, 6)) -> list[AuditPlan]:
    """Plans for `cycles` six-weekly cycles from `first_day`, graded with a realistic mix.

    Each team leans a little better or worse than the council; a fifth of moderations
    disagree; RI and Inadequate audits get actions, most completed, some late."""
    rng = random.Random(seed)
    teams = list(session.scalars(select(Team.name).order_by(Team.id)))
    lean = {team: rng.uniform(-0.08, 0.08) for team in teams}
    plans = []
    for cycle in range(cycles):
        start = first_day + timedelta(days=cycle * cycle_days)
        for number in range(audits_per_cycle):
            team = teams[(cycle * audits_per_cycle + number) % len(teams)]
            grade = _draw_grade(rng, lean[team])
            areas = {area: _nudge(rng, grade) for area in AREAS}
            moderated = grade if rng.random() > 0.2 else _nudge(rng, grade, always=True)
            actions = [ActionPlan(rng.choice(list(AREAS)), rng.randint(20, 50),
                                  rng.choice((None, rng.randint(10, 40), rng.randint(10, 70))))
                       for _ in range(0 if grade in ("outstanding", "good") else rng.randint(1, 3))]
            plans.append(AuditPlan(
                team=team, allocated_on=start + timedelta(days=rng.randint(0, 6)), grade=grade,
                area_grades=areas, graded_after_days=rng.randint(8, 25), moderated_grade=moderated,
                moderated_area_grades={a: g for a, g in areas.items() if moderated != grade and rng.random() < 0.5},
                moderated_after_days=rng.randint(26, 40), actions=actions,
                feedback={source: rng.choice(("obtained", "obtained", "declined", "unable", "not_appropriate"))
                          for source in FEEDBACK_SOURCES},
                escalation_hours=rng.uniform(0.5, 30) if "inadequate" in (grade, moderated) else None,
                closed=all(a.completed_after_days is not None for a in actions),
                audit_type=rng.choice(("random",) * 8 + ("thematic", "dip_sample")), views=rng.randint(*views)))
    return plans


def _draw_grade(rng: random.Random, lean: float) -> str:
    weights = (GRADE_MIX[0], GRADE_MIX[1] + lean, GRADE_MIX[2] - lean, GRADE_MIX[3])
    return rng.choices(GRADE_ORDER, weights=weights)[0]


def _nudge(rng: random.Random, grade: str, always: bool = False, order: tuple = GRADE_ORDER) -> str:
    """A neighbouring grade on `order` now and then (always, for a disagreeing moderator)."""
    if not always and rng.random() < 0.7:
        return grade
    index = order.index(grade) + rng.choice((-1, 1))
    return order[min(max(index, 0), len(order) - 1)]


class _World:
    """The council's people and cases, read once."""

    def __init__(self, session: Session, seed: int):
        self.rng = random.Random(seed)
        self.teams = {t.name: t for t in session.scalars(select(Team))}
        self.services = {s.id: s for s in session.scalars(select(Service))}
        self.cases: dict[int, list[Case]] = {}
        for case in session.scalars(select(Case).where(Case.worker_id.is_not(None)).order_by(Case.id)):
            self.cases.setdefault(case.team_id, []).append(case)
        self.managers = [t.manager_id for t in self.teams.values() if t.manager_id]
        self.moderators = list(session.scalars(select(UserRole.user_id).where(UserRole.role.in_(MODERATOR_ROLES))
                                               .order_by(UserRole.user_id)).unique())
        self.qa_lead = session.scalar(select(UserRole.user_id).where(UserRole.role == "qa_lead")) \
            or session.scalar(select(User.id).order_by(User.id))
        self.version = latest_version(session, PROCESS_KEY)
        self.next_case = {team_id: 0 for team_id in self.cases}

    def case_for(self, team: Team) -> Case:
        cases = self.cases[team.id]
        case = cases[self.next_case[team.id] % len(cases)]
        self.next_case[team.id] += 1
        return case


class _Writer:
    """Collects rows for every table and writes them in bulk, ids assigned here."""

    TABLES = (ProcessInstance, Audit, AreaGrade, Feedback, Reflection, Escalation, AuditAction, AuditFinding,
              AuditEvidence)

    def __init__(self, session: Session, world: _World):
        self.session, self.world = session, world
        self.labels = tool_labels(session, world.version.id)
        self.questions = self.labels.questions
        self.rows = {model: [] for model in self.TABLES}
        self.next_id = {model: (session.scalar(select(func.max(model.__table__.primary_key.columns[0]))) or 0) + 1
                        for model in self.TABLES if model is not Reflection}
        self.references: dict[int, int] = {}
        self.events: list[dict] = []
        self.audit_ids: list[int] = []

    def _id(self, model) -> int:
        value = self.next_id[model]
        self.next_id[model] += 1
        return value

    def _reference(self, year: int) -> str:
        if year not in self.references:
            self.references[year] = self.session.scalar(
                select(func.count(Audit.id)).where(Audit.reference.like(f"AUD-{year}-%"))) or 0
        self.references[year] += 1
        return f"AUD-{year}-{self.references[year]:05d}"

    def audit(self, plan: AuditPlan) -> None:
        world, rng = self.world, self.world.rng
        team = world.teams[plan.team]
        case = world.case_for(team)
        service = world.services[team.service_id]
        auditor = rng.choice([m for m in world.managers if m not in (team.manager_id, case.worker_id)])
        moderator = rng.choice([m for m in world.moderators if m != auditor])
        allocated = at_local_hour(plan.allocated_on, 9)
        graded = at_local_hour(plan.allocated_on + timedelta(days=plan.graded_after_days), 15) if plan.grade else None
        moderated = (at_local_hour(plan.allocated_on + timedelta(days=plan.moderated_after_days), 11)
                     if graded and plan.moderated_grade else None)
        audit_id, instance_id = self._id(Audit), self._id(ProcessInstance)
        version = plan.version or world.version
        scale = scale_of_version(version)
        last = max(filter(None, (allocated, graded, moderated)))
        audit = dict(
            id=audit_id, reference=self._reference(plan.allocated_on.year), audit_type=plan.audit_type,
            cycle_id=plan.cycle_id,
            case_id=case.id, instance_id=instance_id, team_id=team.id, service_id=service.id,
            cohort=plan.cohort or case.cohort, auditor_id=auditor, moderator_id=moderator,
            grading_scale=scale.signature, judgement_area=scale.judgement_area_for(plan.cohort or case.cohort),
            worker_id=case.worker_id, team_manager_id=team.manager_id, head_of_service_id=service.head_of_service_id,
            allocated_by_id=world.qa_lead, allocated_at=allocated,
            due_on=plan.allocated_on + timedelta(days=21), moderation_due_on=plan.allocated_on + timedelta(days=35),
            started_at=allocated + timedelta(days=2) if graded else None, graded_at=graded,
            overall_grade=plan.grade, overall_rationale="Generated history: rationale recorded." if graded else None,
            strengths="Direct work with the child." if graded else None,
            areas_for_development="Chronology analysis." if graded else None, safeguarding_concern=False,
            moderated_at=moderated, moderated_grade=plan.moderated_grade if moderated else None,
            moderation_outcome=("agreed" if plan.moderated_grade == plan.grade and not plan.moderated_area_grades
                                else "disagreed") if moderated else None,
            moderation_rationale="Generated history: moderation rationale." if moderated else None,
            status="allocated", closed_at=None, closure_outcome=None, impact=None, impact_reason=None)
        self.audit_ids.append(audit_id)
        self.rows[Audit].append(audit)
        self.rows[ProcessInstance].append(dict(
            id=instance_id, process_version_id=version.id, process_key=PROCESS_KEY,
            business_key=audit["reference"], status="running", revision=len(STEPS), serialized="",
            started_at=allocated, started_by_id=world.qa_lead, updated_at=last))
        trail = _Trail(self.events, audit, instance_id)
        trail.add(allocated, world.qa_lead, "audit.allocated", subject=("audit", audit_id),
                  payload={"audit": audit["reference"], "case": case.reference, "auditor_id": auditor,
                           "moderator_id": moderator, "due_on": audit["due_on"]})
        trail.add(allocated, world.qa_lead, "instance.started", subject=("process_instance", instance_id),
                  payload={"process": PROCESS_KEY, "version": version.version,
                           "business_key": audit["reference"], "data": {"audit_id": audit_id}})
        if graded:
            self._graded(plan, audit, trail, graded)
        if moderated:
            self._moderated(plan, audit, trail, moderated)
        if graded:
            self._actions(plan, audit, trail, graded)
        for number in range(plan.views):
            viewer = audit[VIEWERS[number % len(VIEWERS)]]
            trail.add(allocated + timedelta(days=1 + number * 3, hours=1), viewer, "audit.viewed",
                      subject=("audit", audit_id), payload={"audit": audit["reference"]})
        self.rows[ProcessInstance][-1]["status"] = "completed" if audit["status"] == "closed" else "running"

    def _graded(self, plan: AuditPlan, audit: dict, trail: "_Trail", graded: datetime) -> None:
        grades = {area: plan.area_grades.get(area, plan.grade) for area in AREAS}
        for area, grade in grades.items():
            self.rows[AreaGrade].append(dict(id=self._id(AreaGrade), audit_id=audit["id"], area=area, stage="auditor",
                                             grade=grade, rationale=f"Generated: {grade} for {area}."))
        self._findings(plan, audit, "auditor", plan.answers)
        audit.update(impact=plan.impact, impact_reason="Generated: what tells the auditor so.")
        statuses = {source: plan.feedback.get(source, "obtained") for source in FEEDBACK_SOURCES}
        for source, status in statuses.items():
            obtained = status == "obtained"
            self.rows[Feedback].append(dict(
                id=self._id(Feedback), audit_id=audit["id"], source=source, status=status,
                method="phone" if obtained else None, feedback_date=graded.date() - timedelta(days=2) if obtained else None,
                rating=4 if obtained and source == "family" else None,
                summary="Generated feedback summary." if obtained else None))
        for step in STEPS[:4]:
            trail.task(graded - timedelta(days=STEPS.index(step)), audit["auditor_id"], step)
        trail.add(audit["started_at"], audit["auditor_id"], "audit.started", subject=("audit", audit["id"]),
                  payload={"audit": audit["reference"]})
        trail.add(graded, audit["auditor_id"], "audit.graded", subject=("audit", audit["id"]), payload={
            "audit": audit["reference"], "overall_grade": plan.grade, "area_grades": grades,
            "feedback": statuses, "safeguarding_concern": False,
            "actions": [f"A{n}" for n in range(1, len(plan.actions) + 1)]})
        self.rows[Reflection].append(dict(
            audit_id=audit["id"], practitioner_id=audit["worker_id"], went_well="Generated.",
            do_differently="Generated.", learning_needs="Generated.", agrees_with_grade=True,
            submitted_at=graded + timedelta(days=2)))
        trail.task(graded + timedelta(days=2), audit["worker_id"], "add_reflections")
        audit["status"] = "awaiting_moderation"
        if plan.escalation_hours is not None:
            notified = graded + timedelta(hours=plan.escalation_hours)
            reason = "inadequate" if plan.grade == "inadequate" else "moderated_inadequate"
            if reason == "moderated_inadequate" and audit["moderated_at"]:
                notified = audit["moderated_at"] + timedelta(hours=plan.escalation_hours)
            self.rows[Escalation].append(dict(
                id=self._id(Escalation), audit_id=audit["id"], reason=reason,
                head_of_service_id=audit["head_of_service_id"], notified_at=notified,
                due_on=notified.date() + timedelta(days=1), acknowledged_at=notified + timedelta(hours=6),
                immediate_actions="Generated: strategy discussion held."))
            trail.add(notified, None, "audit.escalated", subject=("audit", audit["id"]),
                      payload={"audit": audit["reference"], "reason": reason,
                               "head_of_service_id": audit["head_of_service_id"]})

    def _moderated(self, plan: AuditPlan, audit: dict, trail: "_Trail", moderated: datetime) -> None:
        before = {area: plan.area_grades.get(area, plan.grade) for area in AREAS}
        after = {area: plan.moderated_area_grades.get(area, before[area]) for area in AREAS}
        for area, grade in after.items():
            self.rows[AreaGrade].append(dict(id=self._id(AreaGrade), audit_id=audit["id"], area=area,
                                             stage="moderator", grade=grade, rationale=""))
        self._findings(plan, audit, "moderator", {**plan.answers, **plan.moderated_answers})
        trail.task(moderated, audit["moderator_id"], "moderate_audit")
        trail.add(moderated, audit["moderator_id"], "audit.moderated", subject=("audit", audit["id"]), payload={
            "audit": audit["reference"], "outcome": audit["moderation_outcome"], "grade_before": plan.grade,
            "grade_after": plan.moderated_grade, "area_grades_before": before, "area_grades_after": after})
        audit["status"] = "actions_in_review" if plan.actions else "awaiting_closure"

    def _findings(self, plan: AuditPlan, audit: dict, stage: str, answers: dict[str, str]) -> None:
        """Every question of the audit tool answered (`yes`, or a count of 1, unless the plan says
        otherwise), and for the auditor one record of evidence per area."""
        version_id, cited = self.world.version.id, set()
        asked = self.labels.areas_asked({"cohort": audit["cohort"]})
        for question in (q for q in self.questions if q.area in asked):
            key = f"{question.area}.{question.key}"
            self.rows[AuditFinding].append(dict(
                id=self._id(AuditFinding), audit_id=audit["id"], process_version_id=version_id, stage=stage,
                area=question.area, question=question.key,
                answer=answers.get(key, "yes" if question.kind == "choice" else "1"),
                comment="Generated: the moderator's reason." if key in plan.moderated_answers and stage == "moderator" else None))
            if stage == "auditor" and question.area not in cited:
                cited.add(question.area)
                self.rows[AuditEvidence].append(dict(
                    id=self._id(AuditEvidence), audit_id=audit["id"], process_version_id=version_id,
                    area=question.area, question=question.key, record_type="case_note",
                    record_date=plan.allocated_on, link=None, comment="Generated evidence note."))

    def _actions(self, plan: AuditPlan, audit: dict, trail: "_Trail", graded: datetime) -> None:
        for number, action in enumerate(plan.actions, start=1):
            completed = (graded.date() + timedelta(days=action.completed_after_days)
                         if action.completed_after_days is not None else None)
            status = "cancelled" if action.cancelled else ("completed" if completed else "in_progress")
            self.rows[AuditAction].append(dict(
                id=self._id(AuditAction), audit_id=audit["id"], ref=f"A{number}",
                description=f"Generated action {number} for {action.area}.", area=action.area,
                owner_id=audit["worker_id"], owner_role="worker",
                due_on=graded.date() + timedelta(days=action.due_after_days), priority="medium", status=status,
                completed_on=completed, reviewed_in_supervision_on=completed,
                evidence="Generated evidence on file." if completed else None))
            if completed:
                trail.add(at_local_hour(completed, 14), audit["team_manager_id"], "action.reviewed",
                          subject=("audit", audit["id"]),
                          payload={"audit": audit["reference"], "action": f"A{number}", "status": status,
                                   "supervision_date": completed})
        if plan.closed and audit["moderated_at"]:
            reviewed = [r["completed_on"] for r in self.rows[AuditAction] if r["audit_id"] == audit["id"]]
            closed = at_local_hour(max(reviewed), 16) if reviewed else audit["moderated_at"] + timedelta(days=3)
            audit.update(status="closed", closed_at=closed, closure_outcome="all_completed")
            trail.task(closed, self.world.qa_lead, "confirm_closure")
            trail.add(closed, self.world.qa_lead, "audit.closed", subject=("audit", audit["id"]),
                      payload={"audit": audit["reference"], "outcome": "all_completed"})
            trail.add(closed, self.world.qa_lead, "instance.completed",
                      subject=("process_instance", audit["instance_id"]), payload={})

    def flush(self) -> None:
        for model in self.TABLES:
            if self.rows[model]:
                self.session.execute(insert(model), self.rows[model])
        if self.session.get_bind().dialect.name == "postgresql":
            # Ids were given here: move each table's sequence past them, for the next insert.
            for model in self.TABLES:
                if model is not Reflection:
                    table = model.__table__.name
                    self.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                              f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        append_events(self.session, sorted(self.events, key=lambda e: e["occurred_at"]))
        self.session.flush()


class _Trail:
    """The events of one audit, in the shapes the live process writes them."""

    def __init__(self, events: list[dict], audit: dict, instance_id: int):
        self.events, self.audit, self.instance_id = events, audit, instance_id

    def add(self, at: datetime, actor: int | None, kind: str, *, subject: tuple[str, object], payload: dict):
        self.events.append(dict(occurred_at=at, actor_id=actor, kind=kind, instance_id=self.instance_id,
                                subject_type=subject[0], subject_id=str(subject[1]), payload=canonical_json(payload)))

    def task(self, at: datetime, actor: int, step: str) -> None:
        subject = ("process_instance", self.instance_id)
        self.add(at - timedelta(hours=2), None, "task.ready", subject=subject, payload={"task": step, "assignee_id": actor})
        self.add(at, actor, "task.completed", subject=subject, payload={"task": step})


def append_events(session: Session, rows: list[dict]) -> None:
    """Chain `rows` onto the trail in one go, as the commit hook would one by one."""
    seq, prev_hash = lock_chain_head(session)
    for fields in rows:
        seq += 1
        fields["seq"], fields["prev_hash"] = seq, prev_hash
        fields["hash"] = prev_hash = event_hash(fields)
    for start in range(0, len(rows), 5000):
        session.execute(insert(Event), rows[start:start + 5000])
    move_chain_head(session, seq, prev_hash)


def at_local_hour(day: date, hour: int) -> datetime:
    """`hour` o'clock on `day` where the council works, stored in UTC like every live event."""
    return datetime.combine(day, time(hour), tzinfo=LOCAL_ZONE).astimezone(timezone.utc)


def run_demo_history(session: Session, cycles: int = 3, audits_per_cycle: int = 4, seed: int = 2026) -> list[int]:
    """Walk `audits_per_cycle` audits in each of the last `cycles` six-weekly cycles through
    the real case file audit process, from allocation to closure; returns their ids.

    The product clock is moved back to each step's day and put back to the wall clock after."""
    rng = random.Random(seed)
    world = _World(session, seed)
    lead = session.get(User, world.qa_lead)
    busy = set(session.scalars(select(Audit.case_id)))  # never audit a case twice in the demo year
    today, ids = clock.today(), []
    try:
        for cycle in range(cycles, 0, -1):
            for number in range(audits_per_cycle):
                team = list(world.teams.values())[(cycle * audits_per_cycle + number) % len(world.teams)]
                day = today - timedelta(days=cycle * 42 - number)
                case = next(c for c in world.cases[team.id] if c.id not in busy and c.opened_on < day)
                busy.add(case.id)
                auditor = rng.choice([m for m in world.managers if m not in (team.manager_id, case.worker_id)])
                moderator = rng.choice([m for m in world.moderators if m != auditor])
                clock.set(at_local_hour(day, 9))
                audit = allocate_audit(session, AllocationRequest(case.reference, auditor, moderator), lead)
                walk_audit(session, audit, _draw_grade(rng, 0.0), disagree=rng.random() < 0.2, day=day)
                ids.append(audit.id)
    finally:
        clock.set(None)
    return ids


def walk_audit(session: Session, audit: Audit, grade: str, disagree: bool, day: date) -> None:
    """Complete every task of the audit as it becomes ready, two days apart, as the people it names
    (the demo's history, and the sampled audits of the demo's thematic audit)."""
    version = session.get(ProcessVersion, session.get(ProcessInstance, audit.instance_id).process_version_id)
    model, scale = built_model_for(version), scale_of_version(version)
    moderated = _nudge(random.Random(audit.id), grade, always=True, order=scale.keys) if disagree else grade
    for step in range(1, 40):
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                      HumanTask.state == "ready").order_by(HumanTask.id))
        if task is None:
            return
        on = day + timedelta(days=2 * step)
        clock.set(at_local_hour(on, 10))
        person = session.get(User, task.assignee_id) if task.assignee_id else session.get(User, audit.allocated_by_id)
        if task.assignee_id is None:
            claim_task(session, task.id, person)
        schema = task_form_schema(session, model, task) or {}
        complete_task(session, task.id, person, {**_fill(schema, grade, on, scale.keys),
                                                 **_choices(task.spec_name, grade, moderated, on, scale.good_or_better)})


def _choices(step: str, grade: str, moderated: str, on: date, good_or_better: tuple) -> dict:
    """The answers that steer the process; everything else comes from the form's schema."""
    if step == "complete_audit_tool":
        return {}
    if step == "grade_audit":
        actions = [] if grade in good_or_better else [
            {"action": "Update the chronology with partner events", "area": "chronology", "owner": "worker",
             "due_on": (on + timedelta(days=28)).isoformat(), "priority": "high"}]
        return {"overall_grade": grade, "safeguarding_concern": False, "actions": actions}
    if step == "moderate_audit":
        if moderated == grade:
            return {"moderation_outcome": "agreed", "moderated_area_grades": {}}
        return {"moderation_outcome": "disagreed", "moderated_overall_grade": moderated,
                "moderated_area_grades": {"planning": moderated},
                "answer_changes": [{"question": "planning.smart_plan", "answer": "partly",
                                    "comment": "Demo answer: the plan has no contingency."}]}
    if step == "review_action":
        return {"action_review": {"supervision_date": on.isoformat(), "status": "completed",
                                  "outcome": "Reviewed with the worker in supervision.",
                                  "evidence": "Chronology updated on the case file."}}
    if step == "confirm_closure":
        return {"closure_outcome": "all_completed", "notes": "Verified on the case file."}
    return {}


def _fill(node: dict, grade: str, on: date, order: tuple, key: str = ""):
    """A valid answer for a schema node: grades (on the scale `order`) set to `grade`, Yes/Partly/No answers leaning
    with it, dates on the day, text that says it is demo text."""
    kind = node.get("type")
    if kind == "object":
        return {name: _fill(child, grade, on, order, name) for name, child in all_properties(node).items()
                if name not in ("moderated_overall_grade", "moderated_area_grades", "revised_due_on",
                                "outstanding_reason", "safeguarding_details")}
    if kind == "array" and key == "evidence":
        item = _fill(node.get("items", {}), grade, on, order, "evidence")
        return [{name: value for name, value in item.items() if name != "link"}]
    if kind == "array":
        return []
    if "enum" in node:
        options = node["enum"]
        if key == "grade" or set(options) == set(order):
            return grade
        if "partly" in options:
            return options[max(0, min(order.index(grade) - 1, len(options) - 1))]
        return options[0]
    if kind == "boolean":
        return key != "safeguarding_concern"
    if kind == "integer":
        return max(node.get("minimum", 1), min(node.get("maximum", 4), 4))
    if node.get("format") == "date":
        return on.isoformat()
    return f"Demo answer ({key.replace('_', ' ')})."
