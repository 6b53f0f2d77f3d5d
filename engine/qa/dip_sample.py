"""The dip sample (QA framework section 5): a head of service picks cases of their own
service, or draws them at random (seeded and recorded), looks at each with the short
dip-sample tool, and records findings, learning and recommendations. An immediate concern
about a case escalates at once, as an Inadequate audit does: the case's team manager and
the QA lead are told, and the QA lead acknowledges it with the immediate actions.

These are the service operations processes/dip_sample calls.
"""
import random
import secrets

from sqlalchemy import select

from engine.clock import clock
from engine.notifications import notify, notify_role
from engine.qa.models import Case, Team
from engine.qa.activity_actions import ActionSource, track_recommendations
from engine.qa.thematic_models import DipSample
from engine.qa.working_days import add_working_days
from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.models import ProcessInstance
from engine.runtime.services import ServiceContext, service_operation

TOOL_WORKING_DAYS = 10          # the dip sample is done within two weeks of starting it
ACKNOWLEDGEMENT_WORKING_DAYS = 1  # an immediate concern is acknowledged the next working day, as for an Inadequate audit


@service_operation("prepare_dip_sample")
def prepare_dip_sample(context: ServiceContext, data: dict):
    """Keep the dip sample's record with the cases picked (each open and in the service) or
    drawn at random from the service's open cases with a recorded seed."""
    session = context.session
    service_cases = list(session.scalars(select(Case).join(Team).where(
        Team.service_id == data["service_id"], Case.status == "open").order_by(Case.id)))
    seed = None
    if data["method"] == "pick":
        wanted = [part.strip().upper() for part in data.get("case_references", "").replace(",", " ").split() if part]
        known = {case.reference for case in service_cases}
        outside = [reference for reference in wanted if reference not in known]
        if not wanted or outside:
            raise InvalidFormData({"case_references": "Enter the references of open cases in your service"
                                   + (f": {', '.join(outside)} is not one" if outside else "")})
        chosen = list(dict.fromkeys(wanted))
    else:
        seed = data.get("seed") or secrets.randbelow(2 ** 31)
        drawn = random.Random(seed).sample(service_cases, min(data["number_of_cases"], len(service_cases)))
        chosen = [case.reference for case in drawn]
    instance = session.get(ProcessInstance, context.instance_id)
    dip = DipSample(reference=instance.business_key, instance_id=instance.id, head_of_service_id=data["started_by"],
                    service_id=data["service_id"], method=data["method"], seed=seed, cases=chosen,
                    started_at=clock.now())
    session.add(dip)
    session.flush()
    events.record(session, "dip_sample.started", actor_id=context.actor_id, instance_id=instance.id,
                  subject=("dip_sample", dip.id), payload={"method": dip.method, "seed": seed, "cases": chosen})
    return {"id": dip.id, "reference": dip.reference, "case_list": ", ".join(chosen),
            "due": add_working_days(clock.today(), TOOL_WORKING_DAYS).isoformat()}


@service_operation("record_dip_sample")
def record_dip_sample(context: ServiceContext, data: dict, dip_sample_id: int):
    """Keep what was found in each case sampled (one answer per case, no others) and the write-up."""
    session = context.session
    dip = session.get(DipSample, dip_sample_id)
    answered = [row["case_reference"].strip().upper() for row in data.get("cases", [])]
    if sorted(answered) != sorted(dip.cases):
        raise InvalidFormData({"cases": f"Record one finding for each case sampled, and only those: {', '.join(dip.cases)}"})
    dip.results = data["cases"]
    dip.findings, dip.learning = data["findings"], data["learning"]
    dip.recommendations = data.get("recommendations", [])
    concerns = [row for row in data["cases"] if row.get("immediate_concern")]
    dip.concerns = len(concerns)
    dip.status = "escalated" if concerns else "completed"
    dip.completed_at = None if concerns else clock.now()
    track_recommendations(session, ActionSource("dip_sample", dip.reference, dip.instance_id, dip.service_id),
                          dip.recommendations, context.actor_id)
    events.record(session, "dip_sample.recorded", actor_id=context.actor_id, instance_id=dip.instance_id,
                  subject=("dip_sample", dip.id), payload={"cases": len(dip.results), "concerns": dip.concerns})
    return {"concerns": dip.concerns, "concern_cases": ", ".join(row["case_reference"] for row in concerns),
            "acknowledge_by": add_working_days(clock.today(), ACKNOWLEDGEMENT_WORKING_DAYS).isoformat()}


@service_operation("escalate_dip_sample_concerns")
def escalate_dip_sample_concerns(context: ServiceContext, data: dict, dip_sample_id: int):
    """Tell each concerning case's team manager and every QA lead at once."""
    session = context.session
    dip = session.get(DipSample, dip_sample_id)
    notified = []
    for row in dip.results:
        if not row.get("immediate_concern"):
            continue
        case = session.scalar(select(Case).where(Case.reference == row["case_reference"].strip().upper()))
        subject = f"Immediate concern from a dip sample: case {case.reference} ({dip.reference})"
        text = (f"The head of service's dip sample {dip.reference} raised an immediate concern about case "
                f"{case.reference}. The case needs immediate attention; the QA lead records the immediate actions.")
        people = [notify(session, case.team.manager_id, "inadequate_audit", subject, text,
                         instance_id=dip.instance_id)] if case.team.manager_id else []
        people += notify_role(session, "qa_lead", "inadequate_audit", subject, text, instance_id=dip.instance_id)
        notified += [n.recipient_id for n in people]
    events.record(session, "dip_sample.escalated", actor_id=context.actor_id, instance_id=dip.instance_id,
                  subject=("dip_sample", dip.id), payload={"concerns": dip.concerns, "notified": sorted(set(notified))})
    return True


@service_operation("record_dip_sample_acknowledgement")
def record_dip_sample_acknowledgement(context: ServiceContext, data: dict, dip_sample_id: int):
    """The QA lead has acknowledged the concerns with immediate actions: the dip sample is complete."""
    dip = context.session.get(DipSample, dip_sample_id)
    dip.status, dip.completed_at = "completed", clock.now()
    events.record(context.session, "dip_sample.acknowledged", actor_id=context.actor_id, instance_id=dip.instance_id,
                  subject=("dip_sample", dip.id), payload={"concerns": dip.concerns})
    return True
