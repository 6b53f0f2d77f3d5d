"""Audits over the API: allocate a case for audit, and read an audit's full record.

Reading goes through engine.qa.audit_record.read_audit, which writes the read to
the audit trail, because an audit holds special category data about a child.
"""
from functools import wraps

from flask_smorest import Blueprint, abort

from engine.qa.access import can_allocate, can_view_audit
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.audit_record import read_audit
from engine.qa.models import Audit
from webapp.api.auth import api_user
from webapp.api.schemas import AllocationSchema, AuditRecordSchema, ErrorSchema
from webapp.extensions import db

blueprint = Blueprint("api_audits", __name__, url_prefix="/audits",
                      description="Allocate cases for audit and read audit records")


def allocators_only(view):
    """Refuse anyone who may not allocate before their request body is even read,
    so a 403 never comes second to a 422 that would describe what the form wants."""
    @wraps(view)
    def guarded(*args, **kwargs):
        if not can_allocate(api_user()):
            abort(403, message="Only the QA lead or a QA officer can allocate audits.")
        return view(*args, **kwargs)
    return guarded


@blueprint.route("", methods=["POST"])
@allocators_only
@blueprint.arguments(AllocationSchema)
@blueprint.response(201, AuditRecordSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="The caller is not the QA lead or a QA officer")
@blueprint.alt_response(422, schema=ErrorSchema,
                        description="The allocation cannot be made; `errors` names the field to fix")
def allocate(allocation: AllocationRequest):
    """Allocate a case for audit and start its case file audit process

    The worker, team manager and head of service come from the case record. The
    auditor may not be the case's worker, nor the moderator the auditor.
    """
    user = api_user()
    audit = allocate_audit(db.session, allocation, user)
    record = read_audit(db.session, audit, user)
    db.session.commit()
    return record


@blueprint.route("/<int:audit_id>", methods=["GET"])
@blueprint.response(200, AuditRecordSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="The audit is outside the caller's scope")
@blueprint.alt_response(404, schema=ErrorSchema, description="No such audit")
def read(audit_id: int):
    """Read an audit: grades before and after moderation, feedback, reflection, escalations and actions

    The read is recorded in the audit trail as `audit.viewed`.
    """
    user = api_user()
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        abort(404, message="There is no such audit.")
    if not can_view_audit(db.session, user, audit.id):
        abort(403, message="This audit is outside what you can see.")
    record = read_audit(db.session, audit, user)
    db.session.commit()
    return record
