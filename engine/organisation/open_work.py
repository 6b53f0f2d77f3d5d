"""A leaver's or mover's open work, and handing it all over in one step.

When a person leaves or moves team, the system administrator and the QA lead see every
open task they hold, every audit they audit or moderate, every tracker action they own
and every open case they are the allocated worker for, and give each to someone else at
once. Each reassignment is its own event with the one reason given; separation of duties
is checked as allocation and the QA lead's reassignment check it. A refusal of any item
changes nothing (the caller rolls back).
"""
from dataclasses import dataclass, field

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.accounts import User, UserRole
from engine.organisation.directory import OrganisationError
from engine.qa.actions_tracker import DONE_STATUSES
from engine.qa.allocation import AUDITOR_ROLES, MODERATOR_ROLES
from engine.qa.models import Audit, AuditAction, Case
from engine.runtime import events
from engine.runtime.administration import OPEN_STATUSES, eligible_assignees, move_task
from engine.runtime.errors import NotAllowed
from engine.runtime.instances import change_workflow, lock_instance
from engine.runtime.models import HumanTask, ProcessInstance

HANDOVER_ROLES = ("system_administrator", "qa_lead")
# An audit's people who can be replaced, the process data key naming each, the roles the
# replacement must hold, and who they must not be (separation of duties, as in allocation).
# Who may own a tracker action, by the part its owner plays in the audit (grading form's `owner`).
# Who may take over an action; a practitioner added to the audit owns it under their role on
# the case (engine/qa/contributions.py CASE_ROLES), which falls back to the staff role of that name.
ACTION_OWNER_ROLES = {"worker": ("practitioner",), "team_manager": ("team_manager",), "auditor": AUDITOR_ROLES,
                      "complex_safeguarding": ("practitioner",)}
AUDIT_PARTS = {
    "auditor": ("auditor_id", AUDITOR_ROLES, ("worker_id", "moderator_id")),
    "moderator": ("moderator_id", MODERATOR_ROLES, ("worker_id", "auditor_id")),
}


@dataclass
class Item:
    """One piece of open work: `key` names it in a handover ("task:12", "audit:3:auditor")."""
    key: str
    kind: str
    label: str
    candidates: list[User] = field(default_factory=list)


@dataclass
class OpenWork:
    person: User
    items: list[Item]

    def __bool__(self) -> bool:
        return bool(self.items)

    def of_kind(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]


def may_hand_over(user: User) -> bool:
    """System administrators (who deactivate and move people) and the QA lead (who owns the audits)."""
    return user.has_role(*HANDOVER_ROLES)


def open_work(session: Session, person: User) -> OpenWork:
    """Everything `person` still holds that someone else must take on."""
    items = []
    tasks = session.scalars(select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                            .where(HumanTask.state == "ready", HumanTask.assignee_id == person.id,
                                   ProcessInstance.status.in_(OPEN_STATUSES)).order_by(HumanTask.id))
    for task in tasks:
        label = f"Task: {task.title}" + (f" ({task.business_key})" if task.business_key else "")
        items.append(Item(f"task:{task.id}", "task", label,
                          [p for p in eligible_assignees(session, task) if p.id != person.id]))
    audits = session.scalars(select(Audit).where(Audit.status != "closed", or_(
        Audit.auditor_id == person.id, Audit.moderator_id == person.id)).order_by(Audit.id))
    for audit in audits:
        for part, (column, roles, _) in AUDIT_PARTS.items():
            if getattr(audit, column) == person.id:
                items.append(Item(f"audit:{audit.id}:{part}", "audit", f"Audit {audit.reference}: {part}",
                                  _holders(session, roles, person)))
    actions = session.scalars(select(AuditAction).where(AuditAction.owner_id == person.id,
                                                        AuditAction.status.not_in(DONE_STATUSES))
                              .order_by(AuditAction.id))
    for action in actions:
        items.append(Item(f"action:{action.id}", "action", f"Action {action.ref} of audit {action.audit_id}: "
                                                          f"{action.description[:80]}",
                          _holders(session, ACTION_OWNER_ROLES.get(action.owner_role, (action.owner_role,)), person)))
    cases = session.scalars(select(Case).where(Case.worker_id == person.id, Case.status == "open")
                            .order_by(Case.reference))
    for case in cases:
        items.append(Item(f"case:{case.id}", "case", f"Case {case.reference}: allocated worker",
                          _holders(session, ("practitioner",), person, team_id=case.team_id)))
    return OpenWork(person, items)


def hand_over(session: Session, by: User, person_id: int, choices: dict[str, int], reason: str) -> int:
    """Give each chosen item of a person's open work to the person chosen for it.

    `choices` maps an item key (from `open_work`) to the new holder's id; items left out
    stay where they are. Returns how many were reassigned."""
    if not may_hand_over(by):
        raise NotAllowed("Only a system administrator or the QA lead can reassign someone's work.")
    reason = (reason or "").strip()
    if not reason:
        raise OrganisationError("reason", "Enter the reason: it is kept in the audit trail with each reassignment.")
    person = session.get(User, person_id)
    if person is None:
        raise OrganisationError("", "There is no such person.")
    known = {item.key: item for item in open_work(session, person).items}
    chosen = {key: holder for key, holder in choices.items() if holder}
    if not chosen:
        raise OrganisationError("", "Choose who takes at least one piece of work.")
    for key, holder_id in chosen.items():
        item = known.get(key)
        if item is None:
            raise OrganisationError(key, "This work is no longer theirs; look at the list again.")
        holder = session.get(User, holder_id)
        if holder is None or holder.id not in {candidate.id for candidate in item.candidates}:
            raise OrganisationError(key, f"Choose someone who can take on: {item.label}.")
        _reassign(session, by, person, key, holder, reason)
    return len(chosen)


def _reassign(session: Session, by: User, person: User, key: str, holder: User, reason: str) -> None:
    kind, _, rest = key.partition(":")
    if kind == "task":
        move_task(session, int(rest), by, holder.id, reason)
    elif kind == "audit":
        audit_id, _, part = rest.partition(":")
        _replace_in_audit(session, by, session.get(Audit, int(audit_id)), part, person, holder, reason)
    elif kind == "action":
        action = session.get(AuditAction, int(rest))
        action.owner_id = holder.id
        _record(session, "action.reassigned", by, ("audit_action", action.id), reason, person, holder)
    elif kind == "case":
        case = session.get(Case, int(rest))
        case.worker_id = holder.id
        _record(session, "case.worker_reassigned", by, ("case", case.id), reason, person, holder)


def _replace_in_audit(session: Session, by: User, audit: Audit, part: str, person: User, holder: User,
                      reason: str) -> None:
    """Name another auditor or moderator on the audit and in its process data, so the
    process's later tasks for that part go to them too."""
    column, _, must_not_be = AUDIT_PARTS[part]
    for other in must_not_be:
        if getattr(audit, other) == holder.id:
            raise OrganisationError(f"audit:{audit.id}:{part}", f"{holder.display_name} cannot be the {part} of "
                                    f"audit {audit.reference}: they are its {other.removesuffix('_id')}.")
    setattr(audit, column, holder.id)
    if audit.instance_id is not None:
        instance = lock_instance(session, audit.instance_id)
        if instance is not None and instance.status in OPEN_STATUSES:
            def rename(workflow) -> None:
                for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
                    if task.data.get(part) == person.id:
                        task.data[part] = holder.id
            change_workflow(session, instance, by.id, rename)
    _record(session, "audit.person_reassigned", by, ("audit", audit.id), reason, person, holder,
            part=part, instance_id=audit.instance_id)


def _holders(session: Session, roles, person: User, team_id: int | None = None) -> list[User]:
    query = (select(User).where(User.active.is_(True), User.id != person.id,
                                User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))))
             .order_by(User.display_name))
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    return list(session.scalars(query))


def _record(session: Session, kind: str, by: User, subject: tuple[str, object], reason: str, person: User,
            holder: User, part: str | None = None, instance_id: int | None = None) -> None:
    payload = {"reason": reason, "before": {"holder_id": person.id}, "after": {"holder_id": holder.id}}
    if part:
        payload["part"] = part
    events.record(session, kind, actor_id=by.id, instance_id=instance_id, subject=subject, payload=payload)
