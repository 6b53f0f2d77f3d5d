"""A dip sample walked over HTTP as the real people: a head of service draws cases of their own
service (seeded and recorded), records what they found with the dip-sample tool, and an
immediate concern reaches the case's team manager and the QA lead at once; the QA lead
acknowledges it. Picks outside the service, and other people, are refused."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.notification_models import Notification
from engine.qa.demo_activities import run_dip_sample_history
from engine.qa.models import Case, Service, Team
from engine.qa.thematic_models import DipSample
from engine.qa.working_days import add_working_days
from engine.runtime.instances import complete_task
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.starting import start_process
from tests.conftest import user_named
from tests.test_timescales import scheduler  # noqa: F401  (the fixture)
from tests.test_web_lifecycle import Browsers, read

SERVICE = "Child in Need and Child Protection"


def case_outside(session, service_id: int) -> str:
    return read(session, lambda s: s.scalar(select(Case.reference).join(Team).where(
        Team.service_id != service_id, Case.status == "open").order_by(Case.id)))


def tool_answers(cases: list[str], concern_on: str | None) -> dict:
    answers = {"findings": "Plans were current; supervision notes thin.", "learning": "Record supervision decisions.",
               "recommendations.0.recommendation": "Supervision template to record decisions",
               "recommendations.0.due_on-day": "1", "recommendations.0.due_on-month": "3",
               "recommendations.0.due_on-year": "2027", "action": "complete"}
    for index, reference in enumerate(cases):
        concern = reference == concern_on
        answers |= {f"cases.{index}.case_reference": reference, f"cases.{index}.rating": "inadequate" if concern else "good",
                    f"cases.{index}.finding": "Seen within timescales.",
                    f"cases.{index}.immediate_concern": "yes" if concern else "no"}
        if concern:
            answers[f"cases.{index}.concern_details"] = "No visit for eight weeks despite a child protection plan."
    return answers


def test_a_dip_sample_with_an_immediate_concern(app, session):
    browsers = Browsers(app)
    hos, lead = browsers["hos.cincp"], browsers["qa.lead"]
    service_id = read(session, lambda s: s.scalar(select(Service.id).where(Service.name == SERVICE)))
    form = hos.get("/start/dip_sample").get_data(as_text=True)
    assert f'<option value="{service_id}"' in form

    outside = case_outside(session, service_id)
    refused = hos.post("/start/dip_sample", data={"about": str(service_id), "focus": "Oversight", "method": "pick",
                                                  "case_references": outside})
    assert refused.status_code == 422 and f"{outside} is not one" in refused.get_data(as_text=True)
    no_number = hos.post("/start/dip_sample", data={"about": str(service_id), "focus": "Oversight", "method": "draw"})
    assert no_number.status_code == 422
    assert read(session, lambda s: s.scalar(select(DipSample))) is None

    started = hos.post("/start/dip_sample", data={"about": str(service_id), "focus": "Oversight", "method": "draw",
                                                  "number_of_cases": "2", "seed": "99"})
    assert started.status_code == 302 and "/tasks/" in started.location  # the tool is the head of service's own
    dip = read(session, lambda s: (lambda d: {"id": d.id, "cases": d.cases, "seed": d.seed,
                                              "instance_id": d.instance_id})(s.scalar(select(DipSample))))
    assert dip["seed"] == 99 and len(dip["cases"]) == 2
    in_service = read(session, lambda s: set(s.scalars(select(Case.reference).join(Team).where(
        Team.service_id == service_id))))
    assert set(dip["cases"]) <= in_service
    task_page = hos.get(started.location).get_data(as_text=True)
    assert all(reference in task_page for reference in dip["cases"])  # the cases are named in the task's title

    task_id = int(started.location.rsplit("/", 1)[1])
    wrong = hos.post(f"/tasks/{task_id}", data=tool_answers([dip["cases"][0]], None))
    assert wrong.status_code == 422 and "Record one finding for each case sampled" in wrong.get_data(as_text=True)
    concern_case = dip["cases"][1]
    assert hos.post(f"/tasks/{task_id}", data=tool_answers(dip["cases"], concern_case)).status_code == 302

    def outcome(s):
        row = s.scalar(select(DipSample))
        manager = s.scalar(select(Team.manager_id).join(Case, Case.team_id == Team.id)
                           .where(Case.reference == concern_case))
        told = set(s.scalars(select(Notification.recipient_id).where(Notification.kind == "inadequate_audit")))
        lead_id = s.scalar(select(User.id).where(User.username == "qa.lead"))
        return row.status, row.concerns, len(row.results), manager in told and lead_id in told
    assert read(session, outcome) == ("escalated", 1, 2, True)

    acknowledge = read(session, lambda s: s.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == dip["instance_id"], HumanTask.spec_name == "acknowledge",
        HumanTask.state == "ready")))
    assert concern_case in lead.get(f"/tasks/{acknowledge}").get_data(as_text=True)
    assert hos.post(f"/tasks/{acknowledge}", data={"action": "claim"}).status_code == 403
    lead.post(f"/tasks/{acknowledge}", data={"action": "claim"})
    done = lead.post(f"/tasks/{acknowledge}", data={"acknowledged": "yes", "immediate_actions": "Visit today.",
                                                    "action": "complete"})
    assert done.status_code == 302
    assert read(session, lambda s: (s.scalar(select(DipSample.status)),
                                    s.get(ProcessInstance, dip["instance_id"]).status)) == ("completed", "completed")
    kinds = read(session, lambda s: set(s.scalars(select(Event.kind).where(Event.instance_id == dip["instance_id"]))))
    assert {"dip_sample.started", "dip_sample.recorded", "dip_sample.escalated", "dip_sample.acknowledged",
            "actions.tracked"} <= kinds
    tracked = hos.get("/tracker?source=dip_sample").get_data(as_text=True)  # the head of service owns it
    assert "Supervision template to record decisions" in tracked and "DIP-" in tracked and "Dip sample" in tracked


def test_only_heads_of_service_start_one_and_only_about_their_own_service(app, session):
    browsers = Browsers(app)
    other_service = read(session, lambda s: s.scalar(select(Service.id).where(Service.name == "Children in Care")))
    refused = browsers["hos.cincp"].post("/start/dip_sample", data={
        "about": str(other_service), "focus": "x", "method": "draw", "number_of_cases": "1"})
    assert refused.status_code == 422 and "Choose the service this is about" in refused.get_data(as_text=True)
    for username in ("tm.safeguarding1", "qa.lead", "psw"):
        assert browsers[username].get("/start/dip_sample").status_code == 403, username
    assert read(session, lambda s: s.scalar(select(DipSample))) is None


def test_the_demo_history_completes_a_dip_sample_through_its_process(session):
    dip = run_dip_sample_history(session, seed=3)
    session.commit()
    assert dip.status == "completed" and dip.seed == 3 and len(dip.results) == 2 and dip.concerns == 0
    assert session.get(ProcessInstance, dip.instance_id).status == "completed"


def test_an_unacknowledged_concern_is_overdue_then_escalated_to_the_assistant_director(session, scheduler):  # noqa: F811
    clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc))
    head = user_named(session, "hos.cincp")
    service = session.scalar(select(Service).where(Service.name == SERVICE))
    instance = start_process(session, head, "dip_sample", {"focus": "x", "method": "draw", "number_of_cases": 1,
                                                           "seed": 5}, service.id)
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready"))
    reference = session.scalar(select(DipSample.cases))[0]
    complete_task(session, task.id, head, {"cases": [{"case_reference": reference, "rating": "inadequate",
                                                      "finding": "Not seen.", "immediate_concern": True}],
                                           "findings": "f", "learning": "l"})
    session.commit()
    due = add_working_days(clock.today(), 1)
    at_nine = lambda day: datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=9)  # noqa: E731
    scheduler(at_nine(add_working_days(due, 1)))
    kinds = {n.kind for n in session.scalars(select(Notification).where(Notification.subject.like("Overdue: Acknowledge%")))}
    assert kinds == {"overdue"}
    scheduler(at_nine(add_working_days(due, 2)))
    escalated = session.scalars(select(Notification.recipient_id).where(
        Notification.subject.like("Escalation: Acknowledge the dip sample%"))).all()
    assert escalated == [service.assistant_director_id]
