"""Creating and changing services, teams and people: the one way the organisation changes.

Only system administrators manage people and roles, and nobody changes their own roles;
`by=None` is the system itself (the first-administrator command and the demo seed, both
run from the command line). Each function checks everything before writing, so a refusal
(`OrganisationError`, naming the field to fix) leaves nothing half-applied once the caller
rolls back. Every grant and removal of a role, team move and deactivation is an event in
the trail with who did it and why. People carry a `version`: an edit names the version it
was made from, and loses (`StaleEdit`) if someone else saved the person in between.
"""
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import generate_password_hash

from engine.accounts import ROLES, User, UserRole
from engine.clock import clock
from engine.qa.models import TEAM_KINDS, Service, Team
from engine.runtime import events
from engine.runtime.errors import ConcurrentUpdate, FieldRefusal, NotAllowed
from engine.sessions import end_all_sessions

ADMINISTRATOR = "system_administrator"
# Who may look at the organisation without changing it.
READERS = (ADMINISTRATOR, "qa_lead")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,79}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class OrganisationError(FieldRefusal):
    """A change to the organisation refused as asked."""


class StaleEdit(ConcurrentUpdate):
    """Someone else saved the person after this edit was started."""


@dataclass
class PersonDetails:
    """What describes a person, apart from their roles (granted one by one, with reasons)."""
    username: str
    display_name: str
    email: str
    job_title: str = ""
    team_id: int | None = None
    line_manager_id: int | None = None
    active_from: date | None = None
    active_to: date | None = None
    employee_id: str | None = None


def may_manage(user: User | None) -> bool:
    """Whether `user` may create and change services, teams, people and roles."""
    return user is not None and user.has_role(ADMINISTRATOR)


def may_view(user: User | None) -> bool:
    """Whether `user` may see the organisation (the QA lead reads it, read-only)."""
    return user is not None and user.has_role(*READERS)


# Services ------------------------------------------------------------------------------

def create_service(session: Session, by: User | None, name: str, head_of_service_id: int | None = None,
                   assistant_director_id: int | None = None) -> Service:
    """A new service, with its head of service if known."""
    require_manager(by)
    service = Service(name=_service_name(session, name, None),
                      head_of_service_id=_holder(session, head_of_service_id, "head_of_service", "head_of_service_id"),
                      assistant_director_id=_holder(session, assistant_director_id, "assistant_director",
                                                    "assistant_director_id"))
    session.add(service)
    session.flush()
    _record(session, "organisation.service_created", by, ("service", service.id), after=_service_view(service))
    return service


def change_service(session: Session, by: User | None, service_id: int, name: str,
                   head_of_service_id: int | None) -> Service:
    """Rename a service or give it another head of service."""
    require_manager(by)
    service = _service(session, service_id)
    before = _service_view(service)
    service.name = _service_name(session, name, service.id)
    service.head_of_service_id = _holder(session, head_of_service_id, "head_of_service", "head_of_service_id")
    session.flush()
    if _service_view(service) != before:
        _record(session, "organisation.service_changed", by, ("service", service.id),
                before=before, after=_service_view(service))
    return service


# Teams ---------------------------------------------------------------------------------

def create_team(session: Session, by: User | None, name: str, service_id: int | None, kind: str,
                manager_id: int | None = None) -> Team:
    """A new team in a service; its manager, if named, must already work in that service."""
    require_manager(by)
    service = _service(session, service_id, field="service_id")
    team = Team(name=_team_name(session, name, None), service_id=service.id, kind=_kind(kind))
    session.add(team)
    session.flush()
    team.manager_id = _team_manager(session, manager_id, team, service)
    session.flush()
    _record(session, "organisation.team_created", by, ("team", team.id), after=_team_view(team))
    return team


def change_team(session: Session, by: User | None, team_id: int, name: str, service_id: int | None, kind: str,
                manager_id: int | None) -> Team:
    """Rename a team, move it to another service, change its kind or its manager."""
    require_manager(by)
    team = _team(session, team_id)
    service = _service(session, service_id, field="service_id")
    before = _team_view(team)
    team.name = _team_name(session, name, team.id)
    team.kind = _kind(kind)
    team.service_id = service.id
    team.manager_id = _team_manager(session, manager_id, team, service)
    session.flush()
    if _team_view(team) != before:
        _record(session, "organisation.team_changed", by, ("team", team.id), before=before, after=_team_view(team))
    return team


# People --------------------------------------------------------------------------------

def create_person(session: Session, by: User | None, details: PersonDetails, roles: list[str] = (), *,
                  password_hash: str | None = None, reason: str = "") -> tuple[User, str | None]:
    """A new person with their roles. Returns them and a one-time password they must change
    at first sign-in, unless the caller supplies a password hash (the demo shares one)."""
    require_manager(by)
    roles = _known_roles(roles)
    values = _checked_details(session, details, None)
    one_time = None
    if password_hash is None:
        one_time = new_one_time_password()
        password_hash = generate_password_hash(one_time)
    person = User(**values, password_hash=password_hash, active=True, version=1,
                  must_change_password=one_time is not None)
    person.role_rows = [UserRole(role=role) for role in roles]
    session.add(person)
    session.flush()
    _record(session, "person.created", by, ("user", person.id), reason=reason,
            after={**_person_view(person), "roles": sorted(roles)})
    return person, one_time


def change_person(session: Session, by: User | None, person_id: int, version: int | None,
                  details: PersonDetails) -> User:
    """Change a person's name, username, email, job title, line manager, dates or employee id.

    A team change goes through `move_person` (it needs a reason and may leave work to reassign)."""
    require_manager(by)
    person = _person(session, person_id)
    values = _checked_details(session, details, person)
    if values["team_id"] != person.team_id:
        raise OrganisationError("team_id", "Move the person to another team with a reason, on the move page.")
    before = _person_view(person)
    changed = {key: value for key, value in values.items() if getattr(person, key) != value}
    if not changed:
        return person
    _claim(session, person, version)
    for key, value in changed.items():
        setattr(person, key, value)
    session.flush()
    _record(session, "person.changed", by, ("user", person.id), before=before, after=_person_view(person))
    return person


def grant_role(session: Session, by: User | None, person_id: int, role: str, reason: str = "",
               version: int | None = None) -> User:
    """Give a person one more role."""
    person = _person_for_roles(session, by, person_id)
    role = _known_roles([role])[0]
    if role in person.roles:
        raise OrganisationError("role", f"{person.display_name} already holds the role {ROLES[role]}.")
    if not person.active:
        raise OrganisationError("role", f"{person.display_name} has left; reactivate them before granting roles.")
    _claim(session, person, version)
    person.role_rows.append(UserRole(role=role))
    session.flush()
    _record(session, "person.role_granted", by, ("user", person.id), reason=reason.strip(), after={"role": role})
    return person


def remove_role(session: Session, by: User | None, person_id: int, role: str, reason: str,
                version: int | None = None) -> User:
    """Take a role away from a person; the reason is kept in the trail."""
    person = _person_for_roles(session, by, person_id)
    reason = _reason(reason)
    if role not in person.roles:
        raise OrganisationError("role", f"{person.display_name} does not hold that role.")
    if role == ADMINISTRATOR:
        _keep_an_administrator(session, person)
    _claim(session, person, version)
    person.role_rows = [row for row in person.role_rows if row.role != role]
    session.flush()
    _record(session, "person.role_removed", by, ("user", person.id), reason=reason, before={"role": role})
    return person


def move_person(session: Session, by: User | None, person_id: int, team_id: int | None, reason: str,
                version: int | None = None) -> User:
    """Move a person to another team. A team manager who moves stops managing their old team."""
    require_manager(by)
    person = _person(session, person_id)
    reason = _reason(reason)
    team = _team(session, team_id, field="team_id")
    if team.id == person.team_id:
        raise OrganisationError("team_id", f"{person.display_name} is already in {team.name}.")
    _claim(session, person, version)
    before = {"team_id": person.team_id}
    no_longer_managed = _stop_managing(session, person, keep_team_id=None)
    person.team_id = team.id
    session.flush()
    _record(session, "person.moved", by, ("user", person.id), reason=reason, before=before,
            after={"team_id": team.id, "no_longer_manages": no_longer_managed})
    return person


def deactivate_person(session: Session, by: User | None, person_id: int, reason: str,
                      version: int | None = None, leaving_on: date | None = None) -> User:
    """Mark a person as having left: they can no longer sign in or use an API token.

    Allowed while they still hold open work; `engine.organisation.open_work` lists what
    must be reassigned. Teams they managed lose their manager (the event says which)."""
    require_manager(by)
    person = _person(session, person_id)
    reason = _reason(reason)
    if by is not None and by.id == person.id:
        raise NotAllowed("You cannot deactivate yourself; ask another system administrator.")
    if not person.active:
        raise OrganisationError("", f"{person.display_name} is already deactivated.")
    if person.has_role(ADMINISTRATOR):
        _keep_an_administrator(session, person)
    _claim(session, person, version)
    no_longer_managed = _stop_managing(session, person, keep_team_id=None)
    person.active = False
    person.active_to = leaving_on or clock.today()
    session.flush()
    end_all_sessions(session, person.id, "deactivated", by.id if by else None)
    _record(session, "person.deactivated", by, ("user", person.id), reason=reason, before={"active": True},
            after={"active": False, "active_to": person.active_to, "no_longer_manages": no_longer_managed})
    return person


def reactivate_person(session: Session, by: User | None, person_id: int, reason: str,
                      version: int | None = None) -> User:
    """Let a person who had left back in (a returner, or a deactivation made in error)."""
    require_manager(by)
    person = _person(session, person_id)
    reason = _reason(reason)
    if person.active:
        raise OrganisationError("", f"{person.display_name} is already active.")
    _claim(session, person, version)
    person.active, person.active_to = True, None
    session.flush()
    _record(session, "person.reactivated", by, ("user", person.id), reason=reason,
            before={"active": False}, after={"active": True})
    return person


def reset_password(session: Session, by: User | None, person_id: int, reason: str) -> str:
    """Give a person a new one-time password, to be changed at their next sign-in."""
    require_manager(by)
    person = _person(session, person_id)
    reason = _reason(reason)
    one_time = new_one_time_password()
    person.set_password(one_time)
    person.must_change_password = True
    end_all_sessions(session, person.id, "password_reset", by.id if by else None)
    _record(session, "person.password_reset", by, ("user", person.id), reason=reason)
    return one_time


def new_one_time_password() -> str:
    """A random password to hand over once: 4 groups of 4 letters and digits (about 95 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


# Reading -------------------------------------------------------------------------------

def person_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def people(session: Session, search: str = "", *, include_inactive: bool = True, limit: int = 200) -> list[User]:
    """People whose name, username, email, job title or employee id contains `search`."""
    query = select(User).order_by(User.display_name)
    if search.strip():
        like = f"%{search.strip().lower()}%"
        query = query.where(func.lower(User.display_name).like(like) | func.lower(User.username).like(like)
                            | func.lower(func.coalesce(User.email, "")).like(like)
                            | func.lower(User.job_title).like(like)
                            | func.lower(func.coalesce(User.employee_id, "")).like(like))
    if not include_inactive:
        query = query.where(User.active.is_(True))
    return list(session.scalars(query.limit(limit)))


# Checks --------------------------------------------------------------------------------

def require_manager(by: User | None) -> None:
    """Refuse anyone but a system administrator (or the system itself, `by=None`)."""
    if by is not None and not may_manage(by):
        raise NotAllowed("Only a system administrator can change services, teams, people and roles.")


def _person_for_roles(session: Session, by: User | None, person_id: int) -> User:
    require_manager(by)
    person = _person(session, person_id)
    if by is not None and by.id == person.id:
        raise NotAllowed("You cannot change your own roles; ask another system administrator.")
    return person


def _keep_an_administrator(session: Session, person: User) -> None:
    others = session.scalar(select(func.count()).select_from(UserRole).join(User, User.id == UserRole.user_id)
                            .where(UserRole.role == ADMINISTRATOR, User.active.is_(True), User.id != person.id))
    if not others:
        raise OrganisationError("role", f"{person.display_name} is the only active system administrator; "
                                        "make someone else one first.")


def _claim(session: Session, person: User, version: int | None) -> None:
    """Take the person's next version, or fail if `version` is no longer theirs.

    The conditional UPDATE waits for a concurrent editor's transaction and then finds
    the version moved on, so of two administrators saving at once exactly one wins."""
    seen = person.version if version is None else version
    result = session.execute(update(User).where(User.id == person.id, User.version == seen)
                             .values(version=seen + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise StaleEdit(f"Someone else changed {person.display_name} while you were editing. "
                        "Nothing you entered was saved: look at their details again and redo your change.")
    set_committed_value(person, "version", seen + 1)


def _checked_details(session: Session, details: PersonDetails, person: User | None) -> dict:
    """The details cleaned up, or one OrganisationError naming every field that is wrong."""
    own_id = person.id if person else None
    problems: dict[str, str] = {}
    username = (details.username or "").strip().lower()
    display_name = (details.display_name or "").strip()
    email = (details.email or "").strip().lower()
    job_title = (details.job_title or "").strip()
    employee_id = (details.employee_id or "").strip() or None
    checks = (
        ("username", not username, "Enter a username."),
        ("username", not USERNAME.match(username), "A username is up to 80 lower-case letters, digits, dots, "
                                                   "hyphens, underscores or @, starting with a letter or digit."),
        ("username", lambda: _taken(session, func.lower(User.username), username, own_id),
         f"The username {username} is already taken."),
        ("display_name", not display_name, "Enter the person's name."),
        ("display_name", len(display_name) > 120, "The name must be 120 characters or fewer."),
        ("email", not EMAIL.match(email) or len(email) > 200, "Enter a work email address, like name@council.gov.uk."),
        ("email", lambda: _taken(session, func.lower(User.email), email, own_id),
         f"The email address {email} is already someone else's."),
        ("job_title", len(job_title) > 120, "The job title must be 120 characters or fewer."),
        ("employee_id", bool(employee_id) and len(employee_id) > 40, "The employee id must be 40 characters or fewer."),
        ("employee_id", lambda: bool(employee_id) and _taken(session, User.employee_id, employee_id, own_id),
         f"The employee id {employee_id} is already someone else's."),
        ("team_id", details.team_id is not None and session.get(Team, details.team_id) is None, "Choose a team."),
        ("line_manager_id", lambda: details.line_manager_id is not None and not _active(session, details.line_manager_id),
         "Choose a line manager who is an active member of staff."),
        ("line_manager_id", own_id is not None and details.line_manager_id == own_id,
         "A person cannot be their own line manager."),
        ("active_to", bool(details.active_from and details.active_to and details.active_to < details.active_from),
         "The leaving date must be on or after the start date."),
    )
    for field, wrong, message in checks:
        if field not in problems and (wrong() if callable(wrong) else wrong):
            problems[field] = message
    if problems:
        first = next(iter(problems))
        raise OrganisationError(first, problems[first], problems)
    return dict(username=username, display_name=display_name, email=email, job_title=job_title,
                team_id=details.team_id, line_manager_id=details.line_manager_id,
                active_from=details.active_from, active_to=details.active_to, employee_id=employee_id)


def _active(session: Session, person_id: int) -> bool:
    person = session.get(User, person_id)
    return person is not None and person.active


def _taken(session: Session, column, value, own_id: int | None) -> bool:
    query = select(User.id).where(column == value)
    if own_id is not None:
        query = query.where(User.id != own_id)
    return session.scalar(query.limit(1)) is not None


def _known_roles(roles) -> list[str]:
    roles = [str(role).strip() for role in roles if str(role).strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise OrganisationError("role", f"There is no role called {', '.join(unknown)}.")
    return sorted(set(roles))


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise OrganisationError("reason", "Enter the reason: it is kept in the audit trail.")
    return reason


def _kind(kind: str | None) -> str:
    if kind not in TEAM_KINDS:
        raise OrganisationError("kind", "Choose what kind of team it is.")
    return kind


def _service_name(session: Session, name: str, own_id: int | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise OrganisationError("name", "Enter the service's name (up to 120 characters).")
    query = select(Service.id).where(func.lower(Service.name) == name.lower())
    if session.scalar(query if own_id is None else query.where(Service.id != own_id)) is not None:
        raise OrganisationError("name", f"There is already a service called {name}.")
    return name


def _team_name(session: Session, name: str, own_id: int | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise OrganisationError("name", "Enter the team's name (up to 120 characters).")
    query = select(Team.id).where(func.lower(Team.name) == name.lower())
    if session.scalar(query if own_id is None else query.where(Team.id != own_id)) is not None:
        raise OrganisationError("name", f"There is already a team called {name}.")
    return name


def _holder(session: Session, person_id: int | None, role: str, field: str) -> int | None:
    if person_id is None:
        return None
    person = session.get(User, person_id)
    if person is None or not person.active or not person.has_role(role):
        raise OrganisationError(field, f"Choose an active member of staff who holds the role {ROLES[role]}.")
    return person.id


def _team_manager(session: Session, manager_id: int | None, team: Team, service: Service) -> int | None:
    """The manager must be an active team manager working in the team's service."""
    if manager_id is None:
        return None
    manager = _holder(session, manager_id, "team_manager", "manager_id")
    person = session.get(User, manager)
    home = session.get(Team, person.team_id) if person.team_id else None
    if home is None or (home.id != team.id and home.service_id != service.id):
        raise OrganisationError("manager_id", f"{person.display_name} does not work in {service.name}: "
                                              "move them into one of its teams first.")
    return manager


def _stop_managing(session: Session, person: User, keep_team_id: int | None) -> list[int]:
    teams = session.scalars(select(Team).where(Team.manager_id == person.id, Team.id != (keep_team_id or 0))).all()
    for team in teams:
        team.manager_id = None
    return [team.id for team in teams]


def _service(session: Session, service_id: int | None, field: str = "") -> Service:
    service = session.get(Service, service_id) if service_id else None
    if service is None:
        raise OrganisationError(field, "Choose a service." if field else "There is no such service.")
    return service


def _team(session: Session, team_id: int | None, field: str = "") -> Team:
    team = session.get(Team, team_id) if team_id else None
    if team is None:
        raise OrganisationError(field, "Choose a team." if field else "There is no such team.")
    return team


def _person(session: Session, person_id: int | None) -> User:
    person = session.get(User, person_id) if person_id else None
    if person is None:
        raise OrganisationError("", "There is no such person.")
    return person


def _service_view(service: Service) -> dict:
    return {"name": service.name, "head_of_service_id": service.head_of_service_id,
            "assistant_director_id": service.assistant_director_id}


def _team_view(team: Team) -> dict:
    return {"name": team.name, "service_id": team.service_id, "kind": team.kind, "manager_id": team.manager_id}


def _person_view(person: User) -> dict:
    fields = asdict(PersonDetails(**{key: getattr(person, key) for key in PersonDetails.__dataclass_fields__}))
    return {**fields, "active": person.active}


def _record(session: Session, kind: str, by: User | None, subject: tuple[str, object], *, reason: str = "",
            before: dict | None = None, after: dict | None = None) -> None:
    payload = {"reason": reason} if reason else {}
    if before is not None:
        payload["before"] = before
    if after is not None:
        payload["after"] = after
    events.record(session, kind, actor_id=by.id if by else None, subject=subject, payload=payload)
