"""A process instance's audit trail over the API, for inspectors and the QA lead.

Each event comes with every field its hash covers, so a reader can recompute the
hashes and check each link to the event before it without trusting the server.
"""
from flask_smorest import Blueprint, abort
from sqlalchemy import and_, or_, select

from engine.runtime import events
from engine.runtime.models import Event, ProcessInstance
from webapp.api.access import audit_id_for_instance, can_view_instance
from webapp.api.auth import api_user
from webapp.api.schemas import ErrorSchema, EventListSchema
from webapp.extensions import db

blueprint = Blueprint("api_instances", __name__, url_prefix="/instances",
                      description="The audit trail of a process instance")


@blueprint.route("/<int:instance_id>/events", methods=["GET"])
@blueprint.response(200, EventListSchema)
@blueprint.alt_response(403, schema=ErrorSchema, description="The instance's audit is outside the caller's scope")
@blueprint.alt_response(404, schema=ErrorSchema, description="No such instance")
def list_events(instance_id: int):
    """List the hash-chained events of an instance and of the audit it runs, oldest first

    Includes the audit's allocation (recorded before the instance started) and the
    `instance.events_viewed` event this request itself records. Events of other
    instances that fall between these are left out, so `prev_hash` links to the
    event before it in the whole chain: where `seq` runs on without a gap, each
    `prev_hash` equals the previous event's `hash`.
    """
    user = api_user()
    if db.session.get(ProcessInstance, instance_id) is None:
        abort(404, message="There is no such process instance.")
    if not can_view_instance(db.session, user, instance_id):
        abort(403, message="This process belongs to an audit outside what you can see.")
    audit_id = audit_id_for_instance(db.session, instance_id)
    events.record(db.session, "instance.events_viewed", actor_id=user.id, instance_id=instance_id,
                  subject=("process_instance", instance_id))
    db.session.commit()
    about_instance = Event.instance_id == instance_id
    if audit_id is not None:
        about_instance = or_(about_instance, and_(Event.subject_type == "audit", Event.subject_id == str(audit_id)))
    return {"events": list(db.session.scalars(select(Event).where(about_instance).order_by(Event.seq)))}
