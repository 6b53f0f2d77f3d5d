"""The collaborative audit (QA framework section 7): the allocated worker, and the other
practitioners on the case the auditor or QA lead adds to an audit, give their evidence.

When the auditor begins the audit tool, the case file audit's `ask_for_contributions` step
starts one processes/audit_contribution instance per person (the worker and everyone added
so far); someone added later is asked at once. Each contributor says, per audit area,
which records show their work, their dates and where they are, with their comment, and
what difference the work made for the child. That is stored as `audit_evidence` rows
attributed to them, so the auditor sees it in the audit tool and grading tasks, and the
moderator, the audit page and the audit PDF show it beside the auditor's own evidence.

A practitioner added to an audit sees that audit (engine/qa/access.py), may own its
actions (the grading form offers them) and the review of an action they own goes to their
own team's manager (to them when the directory gives them none). Adding and removing
someone is recorded in the trail with its reason.
The auditor and the moderator cannot be added: they judge the practice, they do not
contribute to it.
"""
import copy
import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.qa.contribution_models import AuditParticipant
from engine.qa.finding_models import AuditEvidence
from engine.qa.findings import ToolLabels, tool_labels
from engine.qa.models import AREAS, Audit, Team
from engine.runtime import events, instances
from engine.runtime.errors import InvalidFormData, NotAllowed
from engine.runtime.models import HumanTask, InstanceStart, ProcessInstance
from engine.runtime.services import ServiceContext, service_operation
from engine.runtime.starting import link_child_instance

CONTRIBUTION_PROCESS = "audit_contribution"
# A practitioner's role on the case, as the audit records it (and the actions tracker shows
# for an action they own). The keys that are also staff roles name who may take the action
# over when the practitioner leaves (engine/organisation/open_work.py).
CASE_ROLES = {"reviewing_officer": "Independent reviewing officer",
              "complex_safeguarding": "Complex safeguarding practitioner",
              "practitioner": "Another practitioner on the case"}
MANAGER_ROLES = ("qa_lead",)
OPEN_FOR_PARTICIPANTS = ("allocated", "in_progress")  # before grading: people can still contribute and own actions
MIN_REASON = 10
PARTICIPANT_OWNER = re.compile(r"participant_(\d+)")
DIFFERENCE_AREA = "difference_for_child"  # the evidence row holding the contributor's own account of impact


class ParticipantError(InvalidFormData):
    """A refused change to an audit's participants; `errors` maps the field to the message."""


def may_manage_participants(user: User, audit: Audit) -> bool:
    """The audit's auditor and the QA lead add and remove practitioners."""
    return user.id == audit.auditor_id or user.has_role(*MANAGER_ROLES)


def active_participants(session: Session, audit_id: int) -> list[AuditParticipant]:
    return list(session.scalars(select(AuditParticipant).where(
        AuditParticipant.audit_id == audit_id, AuditParticipant.removed_at.is_(None)).order_by(AuditParticipant.id)))


def participants_of(session: Session, audit: Audit) -> list[dict]:
    """Everyone ever added to `audit`, for its page: who, their role on the case, who added
    them, when and why, and whether and why they were removed."""
    rows = session.scalars(select(AuditParticipant).where(AuditParticipant.audit_id == audit.id)
                           .order_by(AuditParticipant.id)).all()
    names = _names(session, {r.user_id for r in rows} | {r.added_by_id for r in rows}
                   | {r.removed_by_id for r in rows if r.removed_by_id})
    return [{"id": r.id, "user_id": r.user_id, "name": names.get(r.user_id), "case_role": r.case_role,
             "case_role_label": CASE_ROLES.get(r.case_role, r.case_role), "added_by": names.get(r.added_by_id),
             "added_at": r.added_at, "added_reason": r.added_reason, "removed_at": r.removed_at,
             "removed_by": names.get(r.removed_by_id), "removed_reason": r.removed_reason,
             "asked": r.contribution_instance_id is not None} for r in rows]


def people_to_add(session: Session, audit: Audit) -> list[dict]:
    """The organisation's active staff who may be added: not the auditor, the moderator, the
    worker (already asked), anyone already added, nor partner agency auditors; with their team."""
    excluded = {audit.auditor_id, audit.moderator_id, audit.worker_id} | {
        p.user_id for p in active_participants(session, audit.id)}
    partners = select(UserRole.user_id).where(UserRole.role == "partner_agency")
    people = session.execute(select(User, Team.name).outerjoin(Team, Team.id == User.team_id).where(
        User.active.is_(True), User.id.not_in(excluded), User.id.not_in(partners)).order_by(User.display_name)).all()
    return [{"id": person.id, "name": person.display_name, "team": team} for person, team in people]


def add_participant(session: Session, audit: Audit, actor: User, user_id: int | None, case_role: str,
                    reason: str) -> AuditParticipant:
    """Add a practitioner on the case to `audit`, and ask them for their evidence at once if the
    auditor has begun the audit tool. Refuses, changing nothing, what the framework does not allow."""
    _check_may_change(audit, actor)
    reason = (reason or "").strip()
    errors = {}
    person = session.get(User, user_id) if user_id else None
    if person is None or not person.active:
        errors["user_id"] = "Choose the practitioner to add from the directory"
    elif person.id in (audit.auditor_id, audit.moderator_id):
        errors["user_id"] = (f"{person.display_name} is this audit's {'auditor' if person.id == audit.auditor_id else 'moderator'}: "
                             "they judge the practice, so they cannot also contribute to it")
    elif person.id == audit.worker_id:
        errors["user_id"] = f"{person.display_name} is the allocated worker, who is asked for their evidence already"
    elif person.has_role("partner_agency"):
        errors["user_id"] = "Partner agency auditors take part in multi-agency audits, not in a case file audit"
    elif any(p.user_id == person.id for p in active_participants(session, audit.id)):
        errors["user_id"] = f"{person.display_name} is already on this audit"
    if case_role not in CASE_ROLES:
        errors["case_role"] = "Choose their role on the case"
    if len(reason) < MIN_REASON:
        errors["reason"] = f"Say why they are being added (at least {MIN_REASON} characters)"
    if errors:
        raise ParticipantError(errors)
    participant = AuditParticipant(audit_id=audit.id, user_id=person.id, case_role=case_role, added_by_id=actor.id,
                                   added_at=clock.now(), added_reason=reason)
    session.add(participant)
    session.flush()
    events.record(session, "audit.participant_added", actor_id=actor.id, instance_id=audit.instance_id,
                  subject=("audit", audit.id), payload={"audit": audit.reference, "user_id": person.id,
                                                         "practitioner": person.display_name, "case_role": case_role,
                                                         "role_on_case": CASE_ROLES[case_role], "reason": reason})
    if audit.started_at is not None:   # the collaborative step is under way: ask them now
        participant.contribution_instance_id = _ask(session, audit, person.id, CASE_ROLES[case_role], actor.id).id
    return participant


def remove_participant(session: Session, audit: Audit, actor: User, participant_id: int, reason: str) -> AuditParticipant:
    """Take a practitioner off `audit` (added by mistake, no longer on the case): their open
    evidence task is withdrawn; evidence they already gave stays, attributed to them."""
    _check_may_change(audit, actor)
    participant = session.get(AuditParticipant, participant_id)
    if participant is None or participant.audit_id != audit.id or participant.removed_at is not None:
        raise ParticipantError({"participant": "That practitioner is not on this audit"})
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ParticipantError({"reason": f"Say why they are being removed (at least {MIN_REASON} characters)"})
    participant.removed_at, participant.removed_by_id, participant.removed_reason = clock.now(), actor.id, reason
    withdrawn = _withdraw(session, participant.contribution_instance_id)
    events.record(session, "audit.participant_removed", actor_id=actor.id, instance_id=audit.instance_id,
                  subject=("audit", audit.id), payload={"audit": audit.reference, "user_id": participant.user_id,
                                                         "case_role": participant.case_role, "reason": reason,
                                                         "task_withdrawn": withdrawn})
    return participant


@service_operation("ask_for_contributions")
def ask_for_contributions(context: ServiceContext, data: dict, audit_id: int):
    """Start the allocated worker's evidence task and one for each practitioner added so far."""
    session, audit = context.session, context.session.get(Audit, audit_id)
    asked = [_ask(session, audit, audit.worker_id, "Allocated worker", context.actor_id).id]
    for participant in active_participants(session, audit.id):
        if participant.contribution_instance_id is None:
            participant.contribution_instance_id = _ask(session, audit, participant.user_id,
                                                        CASE_ROLES.get(participant.case_role, ""), context.actor_id).id
            asked.append(participant.contribution_instance_id)
    return len(asked)


@service_operation("record_contribution")
def record_contribution(context: ServiceContext, data: dict, audit_id: int):
    """Write one practitioner's evidence against the audit, attributed to them. A record
    dated in the future is refused: the form comes back with the message at the date."""
    session, audit = context.session, context.session.get(Audit, audit_id)
    contributor = data["contributor"]
    today = clock.today()
    errors = {f"{area}.evidence.{number}.record_date": "The date of the record cannot be in the future"
              for area in AREAS for number, item in enumerate((data.get(area) or {}).get("evidence") or [])
              if item.get("record_date") and date.fromisoformat(item["record_date"]) > today}
    if errors:
        raise InvalidFormData(errors)
    version_id = audit_version_id(session, audit)
    base = {"audit_id": audit.id, "process_version_id": version_id, "question": None, "contributor_id": contributor}
    rows = []
    for area in AREAS:
        answers = data.get(area) or {}
        for item in answers.get("evidence") or []:
            rows.append(AuditEvidence(**base, area=area, record_type=item["record_type"],
                                      record_date=date.fromisoformat(item["record_date"]),
                                      link=item.get("link") or None, comment=item.get("comment") or None))
        if (answers.get("comment") or "").strip():
            rows.append(AuditEvidence(**base, area=area, record_type=None, record_date=None, link=None,
                                      comment=answers["comment"].strip()))
    rows.append(AuditEvidence(**base, area=DIFFERENCE_AREA, record_type=None, record_date=None, link=None,
                              comment=data[DIFFERENCE_AREA].strip()))
    session.add_all(rows)
    events.record(session, "audit.contribution_recorded", actor_id=context.actor_id, instance_id=audit.instance_id,
                  subject=("audit", audit.id), payload={"audit": audit.reference, "contributor_id": contributor,
                                                         "records_cited": sum(1 for r in rows if r.record_type)})
    return len(rows)


def contributions_of(session: Session, audit: Audit) -> list[dict]:
    """Each contributor's evidence for `audit`, as `arrange_contributions` gives it."""
    rows = session.scalars(select(AuditEvidence).where(AuditEvidence.audit_id == audit.id,
                                                       AuditEvidence.contributor_id.is_not(None))
                           .order_by(AuditEvidence.id)).all()
    if not rows:
        return []
    participants = session.scalars(select(AuditParticipant).where(AuditParticipant.audit_id == audit.id)).all()
    return arrange_contributions(tool_labels(session, rows[0].process_version_id), rows, audit.worker_id,
                                 participants, _names(session, {r.contributor_id for r in rows}))


def arrange_contributions(labels: ToolLabels, rows: list[AuditEvidence], worker_id: int,
                          participants: list[AuditParticipant], names: dict[int, str]) -> list[dict]:
    """Each contributor's evidence, in the order they gave it: their name and role on the case,
    per area the records they cited (labelled from the audit's own tool) and their comment,
    and what difference they say the work made for the child."""
    roles = {p.user_id: CASE_ROLES.get(p.case_role, p.case_role) for p in participants}
    by_person: dict[int, dict] = {}
    for row in rows:
        if row.contributor_id is None:
            continue
        person = by_person.setdefault(row.contributor_id, {
            "user_id": row.contributor_id, "name": names.get(row.contributor_id),
            "role": "Allocated worker" if row.contributor_id == worker_id else roles.get(row.contributor_id, ""),
            "areas": {}, "difference_for_child": None})
        if row.area == DIFFERENCE_AREA:
            person["difference_for_child"] = row.comment
            continue
        area = person["areas"].setdefault(row.area, {
            "area": row.area, "label": labels.areas.get(row.area, AREAS.get(row.area, row.area)),
            "evidence": [], "comment": None})
        if row.record_type is None:
            area["comment"] = row.comment
        else:
            area["evidence"].append({"record_type": row.record_type,
                                     "record_type_label": labels.record_types.get(row.record_type, row.record_type),
                                     "record_date": row.record_date, "link": row.link, "comment": row.comment})
    return [{**person, "areas": list(person["areas"].values())} for person in by_person.values()]


def action_owner(session: Session, audit: Audit, data: dict, choice: str) -> tuple[int, str, int]:
    """Who owns an action the grading form agreed (`choice` is a data key such as `worker`, or
    `participant_<user id>`), the owner role the tracker shows, and who reviews it in
    supervision. The worker's team manager reviews the actions of the worker, the team
    manager and the auditor. A practitioner added to the audit is not supervised by the
    child's team: the review of their action goes to their own team's manager, or, when the
    directory gives them none (an independent reviewing officer outside the teams), to them."""
    matched = PARTICIPANT_OWNER.fullmatch(choice)
    if matched is None:
        return data[choice], choice, audit.team_manager_id
    participant = next((p for p in active_participants(session, audit.id) if p.user_id == int(matched.group(1))), None)
    if participant is None:
        raise InvalidFormData({"actions": "An action's owner is no longer on this audit: choose another owner"})
    person = session.get(User, participant.user_id)
    team = session.get(Team, person.team_id) if person.team_id else None
    manager = team.manager_id if team is not None and team.manager_id not in (None, person.id) else None
    return person.id, participant.case_role, manager or person.id


def audit_version_id(session: Session, audit: Audit) -> int:
    return session.scalar(select(ProcessInstance.process_version_id).where(ProcessInstance.id == audit.instance_id))


def audit_of_task(session: Session, task: HumanTask) -> Audit | None:
    """The audit a task belongs to: its own instance's, or for an evidence task the audit that asked for it."""
    audit = session.scalar(select(Audit).where(Audit.instance_id == task.instance_id))
    if audit is not None:
        return audit
    audit_id = session.scalar(select(InstanceStart.about_id).where(
        InstanceStart.instance_id == task.instance_id, InstanceStart.about_kind == "audit"))
    return session.get(Audit, audit_id) if audit_id else None


def _owner_choices(session: Session, task: HumanTask, schema: dict) -> dict:
    """The grading form's action owners, with the practitioners added to this audit."""
    owner = ((((schema.get("properties") or {}).get("actions") or {}).get("items") or {}).get("properties") or {}).get("owner")
    if task.spec_name != "grade_audit" or not isinstance(owner, dict) or "enum" not in owner:
        return schema
    audit = session.scalar(select(Audit).where(Audit.instance_id == task.instance_id))
    added = active_participants(session, audit.id) if audit is not None else []
    if not added:
        return schema
    names = _names(session, {p.user_id for p in added})
    schema = copy.deepcopy(schema)
    owner = schema["properties"]["actions"]["items"]["properties"]["owner"]
    labels = list(owner.get("enumNames") or owner["enum"])
    owner["enum"] = list(owner["enum"]) + [f"participant_{p.user_id}" for p in added]
    owner["enumNames"] = labels + [f"{names.get(p.user_id)} ({CASE_ROLES.get(p.case_role, p.case_role)})" for p in added]
    return schema


instances.FORM_SCHEMA_HOOKS.append(_owner_choices)


def _ask(session: Session, audit: Audit, person_id: int, role_label: str, actor_id: int | None) -> ProcessInstance:
    """Start one person's evidence task for `audit`, linked to the audit's own process."""
    child = instances.start_instance(session, CONTRIBUTION_PROCESS, {
        "audit_id": audit.id, "contributor": person_id, "contributor_role": role_label,
        "case_ref": audit.case.reference, "team_id": audit.team_id, "audit_due": audit.due_on.isoformat(),
        "auditor": audit.auditor_id, "moderator": audit.moderator_id},
        actor_id=actor_id, business_key=f"{audit.reference}-E{person_id}")
    link_child_instance(session, child, audit.instance_id, about_kind="audit", about_id=audit.id,
                        about_label=f"Evidence from {_names(session, {person_id}).get(person_id)} ({role_label})")
    return child


def _withdraw(session: Session, instance_id: int | None) -> bool:
    """End a contribution instance whose task is still open; True if one was withdrawn."""
    instance = session.get(ProcessInstance, instance_id) if instance_id else None
    if instance is None or instance.status != "running":
        return False
    now = clock.now()
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready")):
        task.state, task.completed_at = "cancelled", now
    instance.status, instance.next_timer_at, instance.ended_at = "terminated", None, now
    return True


def _check_may_change(audit: Audit, actor: User) -> None:
    if not may_manage_participants(actor, audit):
        raise NotAllowed("Only the audit's auditor or the QA lead can change who contributes to it.")
    if audit.status not in OPEN_FOR_PARTICIPANTS:
        raise ParticipantError({"user_id": "Practitioners can be added or removed until the audit is graded; "
                                           "this audit has been graded"})


def _names(session: Session, ids: set) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
