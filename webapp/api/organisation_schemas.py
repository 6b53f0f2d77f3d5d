"""Marshmallow schemas for the organisation API: services, teams, people, roles and handovers."""
from marshmallow import Schema, fields, post_load
from marshmallow.validate import Length, OneOf

from engine.accounts import ROLES
from engine.organisation.directory import PersonDetails
from engine.qa.models import TEAM_KINDS


class ServiceSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=Length(min=1, max=120))
    head_of_service_id = fields.Integer(allow_none=True, load_default=None)


class TeamSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=Length(min=1, max=120))
    service_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=OneOf(list(TEAM_KINDS)),
                         metadata={"description": "One of: " + ", ".join(TEAM_KINDS)})
    manager_id = fields.Integer(allow_none=True, load_default=None)


class PersonDetailsSchema(Schema):
    """What describes a person; loads into the organisation service's PersonDetails."""
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(required=True)
    job_title = fields.String(load_default="")
    team_id = fields.Integer(allow_none=True, load_default=None)
    line_manager_id = fields.Integer(allow_none=True, load_default=None)
    active_from = fields.Date(allow_none=True, load_default=None)
    active_to = fields.Date(allow_none=True, load_default=None)
    employee_id = fields.String(allow_none=True, load_default=None)

    @post_load
    def make(self, data, **kwargs):
        return PersonDetails(**data)


class NewPersonSchema(PersonDetailsSchema):
    roles = fields.List(fields.String(validate=OneOf(list(ROLES))), load_default=list)
    reason = fields.String(load_default="")

    @post_load
    def make(self, data, **kwargs):
        return {"roles": data.pop("roles"), "reason": data.pop("reason"), "details": PersonDetails(**data)}


class PersonChangeSchema(PersonDetailsSchema):
    version = fields.Integer(required=True, metadata={"description": "The person's version the change was made from"})

    @post_load
    def make(self, data, **kwargs):
        return {"version": data.pop("version"), "details": PersonDetails(**data)}


class StaffMemberSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    email = fields.String()
    job_title = fields.String()
    employee_id = fields.String(allow_none=True)
    team_id = fields.Integer(allow_none=True)
    line_manager_id = fields.Integer(allow_none=True)
    active_from = fields.Date(allow_none=True)
    active_to = fields.Date(allow_none=True)
    active = fields.Boolean()
    roles = fields.Method("sorted_roles")
    version = fields.Integer(metadata={"description": "Send it back with a change: a stale one is refused (409)"})

    def sorted_roles(self, person):
        return sorted(person.roles)


class CreatedStaffMemberSchema(Schema):
    person = fields.Nested(StaffMemberSchema)
    one_time_password = fields.String(metadata={"description": "Shown once; to be changed at first sign-in"})


class RoleChangeSchema(Schema):
    change = fields.String(required=True, validate=OneOf(("grant", "remove")))
    role = fields.String(required=True)
    reason = fields.String(load_default="", metadata={"description": "Required to remove a role"})
    version = fields.Integer(required=True)


class MoveSchema(Schema):
    team_id = fields.Integer(required=True)
    reason = fields.String(required=True)
    version = fields.Integer(required=True)


class DeactivateSchema(Schema):
    reason = fields.String(required=True)
    version = fields.Integer(required=True)


class WorkItemSchema(Schema):
    key = fields.String(metadata={"description": "Name this item in a handover, e.g. task:12 or audit:3:auditor"})
    kind = fields.String()
    label = fields.String()
    candidate_ids = fields.Method("candidates")

    def candidates(self, item):
        return [person.id for person in item.candidates]


class OpenWorkSchema(Schema):
    items = fields.List(fields.Nested(WorkItemSchema))


class HandoverSchema(Schema):
    choices = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "Item key to the id of the person who takes it"})
    reason = fields.String(required=True)


class HandoverResultSchema(Schema):
    reassigned = fields.Integer()
