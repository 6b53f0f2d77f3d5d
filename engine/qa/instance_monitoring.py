"""What the QA domain tells monitoring about the instances it runs.

The runtime's monitoring (engine/runtime/monitoring.py) knows processes, not audits.
The QA lead still filters instances by the team, service, cycle, auditor, moderator,
status and grade of the audit they run, searches by case reference, and people who
see only some audits see only those instances: all of that is registered here, on
import of engine.qa, through engine/runtime/instance_subjects.py.
"""
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.qa.access import audit_scope
from engine.qa.cycle_models import AuditCycle
from engine.qa.grading_scale import current_scale, scales_in_use
from engine.qa.models import AUDIT_STATUSES, Audit, Case, Service, Team
from engine.runtime.instance_subjects import InstanceSubject, SubjectFilter, register_subject
from engine.qa.start_subjects import own_services, own_teams
from engine.runtime.models import InstanceStart, ProcessInstance
from engine.whole_numbers import whole_number

SEE_EVERY_INSTANCE = ("qa_lead", "qa_officer")
MONITOR_ROLES = ("head_of_service",)


def _join(query, with_sort: bool):
    """The audit each instance runs (if any), and its case when the sort by case needs it."""
    query = query.outerjoin(Audit, Audit.instance_id == ProcessInstance.id)
    return query.outerjoin(Case, Case.id == Audit.case_id) if with_sort else query


def _scope(user: User):
    """People who do not see every instance see the instances of the audits they may see, those
    they started, and those started about their services, teams and the cases of those teams."""
    started_about_mine = select(InstanceStart.instance_id).where(or_(
        InstanceStart.started_by_id == user.id,
        and_(InstanceStart.about_kind == "service", InstanceStart.about_id.in_(own_services(user))),
        and_(InstanceStart.about_kind == "team", InstanceStart.about_id.in_(own_teams(user))),
        # The case of each instance started about one, looked up by its id (EXISTS): a list of
        # every case of the person's teams costs the planner so much to build that it would
        # rather read every instance than count through an index.
        and_(InstanceStart.about_kind == "case",
             select(Case.id).where(Case.id == InstanceStart.about_id, Case.team_id.in_(own_teams(user))).exists())))
    return or_(and_(Audit.id.is_not(None), audit_scope(user)), ProcessInstance.id.in_(started_about_mine))


def _search(text: str) -> list:
    """The ids of the instances whose audit's case reference begins with `text`, or whose audit
    is number `text`: each a lookup through its own index (the case's reference prefix index)."""
    matches = [select(Audit.instance_id).join(Case, Case.id == Audit.case_id)
               .where(Case.reference.startswith(text, autoescape=True))]
    number = whole_number(text, minimum=1)
    return matches + [select(Audit.instance_id).where(Audit.id == number)] if number is not None else matches


def _used(column, user: User):
    """The values of one audit column among the audits `user` may see."""
    query = select(column)
    return query if user.has_role(*SEE_EVERY_INSTANCE) else query.where(audit_scope(user))


def _people(column):
    def choices(session: Session, user: User) -> list[tuple]:
        return session.execute(select(User.id, User.display_name).where(User.id.in_(_used(column, user)))
                               .order_by(User.display_name)).all()
    return choices


def _teams(session: Session, user: User) -> list[tuple]:
    return session.execute(select(Team.id, Team.name).where(Team.id.in_(_used(Audit.team_id, user)))
                           .order_by(Team.name)).all()


def _services(session: Session, user: User) -> list[tuple]:
    return session.execute(select(Service.id, Service.name).where(Service.id.in_(_used(Audit.service_id, user)))
                           .order_by(Service.name)).all()


def _cycles(session: Session, user: User) -> list[tuple]:
    return [(cycle.id, cycle.label) for cycle in session.scalars(
        select(AuditCycle).where(AuditCycle.id.in_(_used(Audit.cycle_id, user))).order_by(AuditCycle.number))]


# The grade filter's value for "the grade that escalates, on each audit's own scale": not a
# grade key (keys are lower case letters, digits and underscores), so it never names one.
ANY_ESCALATING = "any-escalating"


def _grades(session: Session) -> dict[str, str]:
    """The grades of the current scale, best first, then those only other scales have, each
    named with its own scale: audits keep the scale of the version they ran on. Last, every
    scale's escalating grade at once, for the dashboard's number."""
    current = current_scale(session)
    grades = dict(current.labels)
    for scale in scales_in_use(session).values():
        for grade in scale.grades if scale.signature != current.signature else ():
            grades.setdefault(grade.key, f"{grade.label} ({scale.name})")
    grades[ANY_ESCALATING] = f"{_escalating_labels(session)} (escalating on its scale)"
    return grades


def _escalating_labels(session: Session) -> str:
    """The escalating grade of each scale in use, the current scale's first ("Serious concern
    or Inadequate")."""
    labels = [current_scale(session).escalating_label]
    for scale in scales_in_use(session).values():
        if scale.escalating_label not in labels:
            labels.append(scale.escalating_label)
    return " or ".join(labels)


def _grade(session: Session, value: str):
    """Audits graded `value` (moderated if moderated); for ANY_ESCALATING, audits graded the
    escalating grade of their own scale (an unknown scale counts as the current one, as
    `scale_for_audit` reads it)."""
    grade = func.coalesce(Audit.moderated_grade, Audit.overall_grade)
    if value != ANY_ESCALATING:
        return grade == value
    scales = scales_in_use(session)
    on_own_scale = [and_(Audit.grading_scale == signature, grade.in_(scale.escalating))
                    for signature, scale in scales.items()]
    unknown_scale = and_(Audit.grading_scale.not_in(list(scales)), grade.in_(current_scale(session).escalating))
    return or_(*on_own_scale, unknown_scale)


def _counts(session: Session) -> tuple:
    """The QA lead's dashboard numbers; the escalating grade is named as the current scale names it."""
    return (("awaiting_moderation", "Audits awaiting moderation", {"audit_status": "awaiting_moderation"}),
            ("open_escalating", f"Open {current_scale(session).escalating_label} audits",
             {"grade": ANY_ESCALATING, "audit_status": "open"}))


def _audit_status(session: Session, value: str):
    if value == "open":
        return and_(Audit.id.is_not(None), Audit.status != "closed")
    return Audit.status == value


FILTERS = (
    SubjectFilter("service", "Service", lambda session, value: Audit.service_id == value, _services),
    SubjectFilter("team", "Team", lambda session, value: Audit.team_id == value, _teams),
    SubjectFilter("cycle", "Cycle", lambda session, value: Audit.cycle_id == value, _cycles),
    SubjectFilter("auditor", "Auditor", lambda session, value: Audit.auditor_id == value, _people(Audit.auditor_id)),
    SubjectFilter("moderator", "Moderator", lambda session, value: Audit.moderator_id == value,
                  _people(Audit.moderator_id)),
    SubjectFilter("audit_status", "Audit status", _audit_status,
                  options={"open": "Open (not closed)", **AUDIT_STATUSES}),
    SubjectFilter("grade", "Grade (moderated if moderated)", _grade, options=_grades),
)


def describe_rows(session: Session, instance_ids: list[int]) -> dict[int, dict]:
    """For the list: each instance's case reference, and the team and auditor of its audit."""
    rows = session.execute(select(Audit.instance_id, Case.reference, Team.name, User.display_name)
                           .join(Case, Case.id == Audit.case_id).join(Team, Team.id == Audit.team_id)
                           .outerjoin(User, User.id == Audit.auditor_id)
                           .where(Audit.instance_id.in_(instance_ids))).all()
    return {instance_id: {"about": reference, "detail": [part for part in (team, auditor) if part]}
            for instance_id, reference, team, auditor in rows}


def describe_instance(session: Session, instance: ProcessInstance) -> dict:
    """For the instance page: the audit it runs and its case, and the audit's own events."""
    audit = session.scalar(select(Audit).where(Audit.instance_id == instance.id))
    if audit is None:
        return {"rows": [], "events": []}
    return {"rows": [{"label": "Audit", "text": f"{audit.reference} ({AUDIT_STATUSES.get(audit.status, audit.status)})",
                      "endpoint": "audits.audit", "args": {"audit_id": audit.id}},
                     {"label": "Case", "text": audit.case.reference}],
            "events": [("audit", str(audit.id))]}


register_subject(InstanceSubject(
    monitor_roles=MONITOR_ROLES, see_every_roles=SEE_EVERY_INSTANCE, join=_join, scope=_scope, search=_search,
    search_label="Case reference or audit", search_hint="For example CS123456 or AUD-2026-00012",
    filters=FILTERS, sorts={"case": ("Case reference", Case.reference)},
    counts=_counts,
    columns=("Case", "Team and auditor"), describe_rows=describe_rows, describe_instance=describe_instance))
