"""The multi-agency audit (QA framework section 5): the QA lead audits one case with partner
agencies. Each invited partner (a person with the partner_agency role, who sees nothing but
the tasks of the audits they are invited to) completes their agency's section, a linked
processes/multi_agency_section instance; the joint discussion, once every section is in,
records the agreed findings and the actions for each agency, which go into the master audit
actions tracker owned by the partner invited for that agency (engine/qa/activity_actions.py).
"""
from datetime import date

from sqlalchemy import select

from engine.accounts import User, UserRole
from engine.qa.activity_actions import PARTNER_ROLE, ActionSource, track_agreed_actions
from engine.qa.working_days import add_working_days
from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.instances import start_instance
from engine.runtime.models import ProcessInstance
from engine.runtime.services import ServiceContext, service_operation
from engine.runtime.starting import child_instance_ids, link_child_instance

DISCUSSION_WORKING_DAYS = 5  # the joint discussion is due a week after the sections


@service_operation("invite_partner_agencies")
def invite_partner_agencies(context: ServiceContext, data: dict):
    """Start one section per invited partner (each must be an active partner agency auditor)."""
    session = context.session
    audit = session.get(ProcessInstance, context.instance_id)
    partners = []
    for index, row in enumerate(data["partners"]):
        person = session.scalar(select(User).join(UserRole).where(
            User.username == row["username"].strip(), UserRole.role == PARTNER_ROLE, User.active.is_(True)))
        if person is None:
            raise InvalidFormData({f"partners.{index}.username": f"There is no partner agency auditor '{row['username']}'"})
        partners.append((row["agency"], person))
    for number, (agency, person) in enumerate(partners, start=1):
        section = start_instance(session, "multi_agency_section", {
            "partner": person.id, "agency": agency, "case_ref": data["case_ref"], "sections_due": data["sections_due"],
            "qa_lead": context.actor_id or data.get("started_by")},
            actor_id=context.actor_id, business_key=f"{audit.business_key}-{agency.upper()[:3]}{number}")
        link_child_instance(session, section, audit.id, about_label=f"{agency.capitalize()}: {person.display_name}")
    events.record(session, "multi_agency.invited", actor_id=context.actor_id, instance_id=audit.id,
                  subject=("process_instance", audit.id),
                  payload={"case": data["case_ref"], "partners": [{"agency": a, "user_id": p.id} for a, p in partners]})
    due = add_working_days(date.fromisoformat(data["sections_due"]), DISCUSSION_WORKING_DAYS)
    return {"partners": len(partners), "discussion_due": due.isoformat()}


@service_operation("record_multi_agency_section")
def record_multi_agency_section(context: ServiceContext, data: dict):
    events.record(context.session, "multi_agency.section_completed", actor_id=context.actor_id,
                  instance_id=context.instance_id, subject=("process_instance", context.instance_id),
                  payload={"agency": data["agency"], "information_shared": data["information_shared"],
                           "quality": data["quality"]})
    return True


@service_operation("record_multi_agency_discussion")
def record_multi_agency_discussion(context: ServiceContext, data: dict):
    """The agreed findings and actions, once every agency's section is in."""
    session = context.session
    waiting = session.scalars(select(ProcessInstance.business_key).where(
        ProcessInstance.id.in_(child_instance_ids(session, context.instance_id)),
        ProcessInstance.status != "completed")).all()
    if waiting:
        raise InvalidFormData({"agreed_findings": f"Hold the joint discussion once every section is in; not yet: {', '.join(waiting)}"})
    by_agency = {}
    for action in data["actions"]:
        by_agency[action["agency"]] = by_agency.get(action["agency"], 0) + 1
    audit = session.get(ProcessInstance, context.instance_id)
    track_agreed_actions(session, ActionSource("multi_agency", audit.business_key, audit.id, data.get("service_id"),
                                               data.get("case_id")),
                         data["actions"], _invited_partners(session, data["partners"]),
                         data.get("started_by") or context.actor_id)
    events.record(session, "multi_agency.agreed", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("process_instance", context.instance_id), payload={"actions_by_agency": by_agency})
    return {"actions_by_agency": by_agency}


def _invited_partners(session, partners: list[dict]) -> dict[str, int]:
    """Each agency's invited partner (the first, where one agency sent two), by agency."""
    named = {}
    for row in partners:
        person = session.scalar(select(User.id).where(User.username == row["username"].strip()))
        if person is not None:
            named.setdefault(row["agency"], person)
    return named
