"""The organisation over the API: services, teams and people, for system administrators.

The QA lead may read; only system administrators change anything (checked here before the
body is read, and again by the organisation service). Edits of a person carry the version
they were made from: a stale one is refused with 409. A leaver's open work is listed and
handed over as on the web page (the QA lead may hand over too).
"""
from functools import wraps

from flask import request
from flask_smorest import Blueprint, abort

from engine.accounts import User
from engine.organisation import directory
from engine.organisation.open_work import hand_over, may_hand_over, open_work
from engine.qa.models import Service, Team
from engine.runtime import events
from sqlalchemy import select
from webapp.api.auth import api_user
from webapp.api.organisation_schemas import (CreatedStaffMemberSchema, DeactivateSchema, HandoverResultSchema,
                                             HandoverSchema, MoveSchema, NewPersonSchema, OpenWorkSchema,
                                             PersonChangeSchema, StaffMemberSchema, RoleChangeSchema, ServiceSchema,
                                             TeamSchema)
from webapp.api.schemas import ErrorSchema
from webapp.extensions import db

blueprint = Blueprint("api_organisation", __name__, url_prefix="/organisation",
                      description="Services, teams and people (system administrators manage; the QA lead reads)")


def allowed_only(may, message: str):
    """Refuse anyone for whom `may(user)` is false before the body is read, so a 403 never
    comes second to a 422 that would describe what the request should hold."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not may(api_user()):
                abort(403, message=message)
            return view(*args, **kwargs)
        return guarded
    return decorate


readers_only = allowed_only(directory.may_view, "Only system administrators and the QA lead can see the organisation.")
managers_only = allowed_only(directory.may_manage,
                             "Only a system administrator can change services, teams, people and roles.")
handover_only = allowed_only(may_hand_over, "Only a system administrator or the QA lead can reassign someone's work.")


@blueprint.route("/services", methods=["GET"])
@readers_only
@blueprint.response(200, ServiceSchema(many=True))
def list_services():
    """List the services"""
    _viewed("services")
    return list(db.session.scalars(select(Service).order_by(Service.name)))


@blueprint.route("/services", methods=["POST"])
@managers_only
@blueprint.arguments(ServiceSchema)
@blueprint.response(201, ServiceSchema)
@blueprint.alt_response(422, schema=ErrorSchema, description="A duplicate name or a head of service without the role")
def create_service(body: dict):
    """Add a service"""
    service = directory.create_service(db.session, api_user(), body["name"], body["head_of_service_id"])
    db.session.commit()
    return service


@blueprint.route("/services/<int:service_id>", methods=["PUT"])
@managers_only
@blueprint.arguments(ServiceSchema)
@blueprint.response(200, ServiceSchema)
def change_service(body: dict, service_id: int):
    """Rename a service or change its head of service"""
    _exists(Service, service_id)
    service = directory.change_service(db.session, api_user(), service_id, body["name"], body["head_of_service_id"])
    db.session.commit()
    return service


@blueprint.route("/teams", methods=["GET"])
@readers_only
@blueprint.response(200, TeamSchema(many=True))
def list_teams():
    """List the teams"""
    _viewed("teams")
    return list(db.session.scalars(select(Team).order_by(Team.name)))


@blueprint.route("/teams", methods=["POST"])
@managers_only
@blueprint.arguments(TeamSchema)
@blueprint.response(201, TeamSchema)
@blueprint.alt_response(422, schema=ErrorSchema,
                        description="A duplicate name, an unknown service, or a manager outside the service")
def create_team(body: dict):
    """Add a team to a service"""
    team = directory.create_team(db.session, api_user(), body["name"], body["service_id"], body["kind"],
                                 body["manager_id"])
    db.session.commit()
    return team


@blueprint.route("/teams/<int:team_id>", methods=["PUT"])
@managers_only
@blueprint.arguments(TeamSchema)
@blueprint.response(200, TeamSchema)
def change_team(body: dict, team_id: int):
    """Change a team's name, service, kind or manager"""
    _exists(Team, team_id)
    team = directory.change_team(db.session, api_user(), team_id, body["name"], body["service_id"], body["kind"],
                                 body["manager_id"])
    db.session.commit()
    return team


@blueprint.route("/people", methods=["GET"])
@readers_only
@blueprint.response(200, StaffMemberSchema(many=True))
def list_people():
    """List people, optionally searched by name, username, email, job title or employee id (?q=)"""
    search = request.args.get("q", "")[:100]
    _viewed("people", search=search)
    return directory.people(db.session, search)


@blueprint.route("/people", methods=["POST"])
@managers_only
@blueprint.arguments(NewPersonSchema)
@blueprint.response(201, CreatedStaffMemberSchema)
@blueprint.alt_response(422, schema=ErrorSchema, description="A duplicate username or email, an unknown team...")
def create_person(body: dict):
    """Add a person with their roles; the answer holds their one-time password, once"""
    person, one_time = directory.create_person(db.session, api_user(), body["details"], body["roles"],
                                               reason=body["reason"])
    db.session.commit()
    return {"person": person, "one_time_password": one_time}


@blueprint.route("/people/<int:person_id>", methods=["GET"])
@readers_only
@blueprint.response(200, StaffMemberSchema)
def read_person(person_id: int):
    """Read a person, with the version to send back with a change"""
    person = _exists(User, person_id)
    _viewed("person", subject=("user", person.id))
    return person


@blueprint.route("/people/<int:person_id>", methods=["PUT"])
@managers_only
@blueprint.arguments(PersonChangeSchema)
@blueprint.response(200, StaffMemberSchema)
@blueprint.alt_response(409, schema=ErrorSchema, description="Someone else changed the person since `version`")
def change_person(body: dict, person_id: int):
    """Change a person's details (not their team: move them)"""
    _exists(User, person_id)
    person = directory.change_person(db.session, api_user(), person_id, body["version"], body["details"])
    db.session.commit()
    return person


@blueprint.route("/people/<int:person_id>/roles", methods=["POST"])
@managers_only
@blueprint.arguments(RoleChangeSchema)
@blueprint.response(200, StaffMemberSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="Not a system administrator, or the caller's own roles")
def change_roles(body: dict, person_id: int):
    """Grant a role, or remove one with a reason"""
    _exists(User, person_id)
    operation = directory.grant_role if body["change"] == "grant" else directory.remove_role
    person = operation(db.session, api_user(), person_id, body["role"], body["reason"], body["version"])
    db.session.commit()
    return person


@blueprint.route("/people/<int:person_id>/move", methods=["POST"])
@managers_only
@blueprint.arguments(MoveSchema)
@blueprint.response(200, StaffMemberSchema)
def move(body: dict, person_id: int):
    """Move a person to another team, with a reason"""
    _exists(User, person_id)
    person = directory.move_person(db.session, api_user(), person_id, body["team_id"], body["reason"],
                                   body["version"])
    db.session.commit()
    return person


@blueprint.route("/people/<int:person_id>/deactivate", methods=["POST"])
@managers_only
@blueprint.arguments(DeactivateSchema)
@blueprint.response(200, StaffMemberSchema)
def deactivate(body: dict, person_id: int):
    """Deactivate a leaver, with a reason; their open work is then listed at /open-work"""
    _exists(User, person_id)
    person = directory.deactivate_person(db.session, api_user(), person_id, body["reason"], body["version"])
    db.session.commit()
    return person


@blueprint.route("/people/<int:person_id>/open-work", methods=["GET"])
@handover_only
@blueprint.response(200, OpenWorkSchema)
def list_open_work(person_id: int):
    """The open tasks, audits, actions and cases a person holds, each with who may take it"""
    person = _exists(User, person_id)
    return {"items": open_work(db.session, person).items}


@blueprint.route("/people/<int:person_id>/open-work", methods=["POST"])
@handover_only
@blueprint.arguments(HandoverSchema)
@blueprint.response(200, HandoverResultSchema)
def reassign_open_work(body: dict, person_id: int):
    """Reassign a person's open work in one step; each reassignment is recorded with the reason"""
    _exists(User, person_id)
    count = hand_over(db.session, api_user(), person_id, body["choices"], body["reason"])
    db.session.commit()
    return {"reassigned": count}


def _exists(model, key: int):
    row = db.session.get(model, key)
    if row is None:
        abort(404, message="There is nothing here: check the id.")
    return row


def _viewed(page: str, subject=None, **payload) -> None:
    events.record(db.session, "organisation.viewed", actor_id=api_user().id, subject=subject,
                  payload={"page": page, "api": True, **payload})
    db.session.commit()
