"""What a process started by hand may be about in the QA domain: a case, a team or a service.

Registered with the runtime's Start page (engine/runtime/instance_subjects.py). A person's
own scope follows who may see which audits (engine/qa/access.py): the QA team and senior
leaders everything, a head of service or assistant director their services, a team
manager their team, a practitioner their own cases. The workflow starts with the ids of
the people the thing names, so lanes (`person` in process.json) find them.
"""
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.qa.access import SEE_EVERY_AUDIT
from engine.qa.models import Case, Service, Team
from engine.runtime.instance_subjects import AboutKind, register_about_kind


def own_services(user: User):
    """The ids of the services `user` leads, as a subquery."""
    return select(Service.id).where(or_(Service.head_of_service_id == user.id, Service.assistant_director_id == user.id))


def own_teams(user: User):
    """The ids of the teams `user` manages or whose service they lead, as a subquery."""
    return select(Team.id).where(or_(Team.manager_id == user.id, Team.service_id.in_(own_services(user))))


def _services(session: Session, user: User, own_only: bool) -> list[tuple[int, str]]:
    query = select(Service.id, Service.name).order_by(Service.name)
    if own_only and not user.has_role(*SEE_EVERY_AUDIT):
        query = query.where(Service.id.in_(own_services(user)))
    return [tuple(row) for row in session.execute(query)]


def _teams(session: Session, user: User, own_only: bool) -> list[tuple[int, str]]:
    query = select(Team.id, Team.name).order_by(Team.name)
    if own_only and not user.has_role(*SEE_EVERY_AUDIT):
        query = query.where(Team.id.in_(own_teams(user)))
    return [tuple(row) for row in session.execute(query)]


def _cases(session: Session, user: User, own_only: bool) -> list[tuple[int, str]]:
    query = select(Case.id, Case.reference).where(Case.status == "open").order_by(Case.reference)
    if own_only and not user.has_role(*SEE_EVERY_AUDIT):
        query = query.where(or_(Case.worker_id == user.id, Case.team_id.in_(own_teams(user))))
    return [tuple(row) for row in session.execute(query)]


def _service_data(session: Session, service_id: int) -> dict:
    service = session.get(Service, service_id)
    return {"service_id": service.id, "service_name": service.name, "head_of_service": service.head_of_service_id,
            "assistant_director": service.assistant_director_id}


def _team_data(session: Session, team_id: int) -> dict:
    team = session.get(Team, team_id)
    return {**_service_data(session, team.service_id), "team_id": team.id, "team_name": team.name,
            "team_manager": team.manager_id}


def _case_data(session: Session, case_id: int) -> dict:
    case = session.get(Case, case_id)
    return {**_team_data(session, case.team_id), "case_id": case.id, "case_ref": case.reference,
            "worker": case.worker_id}


register_about_kind(AboutKind("service", "Service", _services, _service_data))
register_about_kind(AboutKind("team", "Team", _teams, _team_data))
register_about_kind(AboutKind("case", "Case", _cases, _case_data))
