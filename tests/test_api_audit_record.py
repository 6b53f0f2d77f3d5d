"""The API's audit record says what the audit page says: the case profile, the practitioners
added to the audit (with who was removed and why), the evidence each contributor gave, and the
grades with the labels of the audit's own scale (here a three-point scale published as a new
version). Reading it is recorded in the trail."""
from sqlalchemy import func, select

from engine.accounts import User
from engine.clock import clock
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.contributions import add_participant, remove_participant
from engine.qa.models import Case
from engine.runtime.models import Event, HumanTask
from engine.runtime.instances import complete_task
from tests import answers
from tests.conftest import user_named
from tests.test_api import bearer, token_for
from tests.test_audit_collaboration import REASON, officer_evidence, worker_evidence
from tests.test_engine_lifecycle import _do
from tests.test_grading_scales import THREE_POINT, publish_scale


def _contribute(session, audit, username: str, data: dict) -> None:
    person = user_named(session, username)
    task = session.scalar(select(HumanTask).where(HumanTask.spec_name == "add_contribution",
                                                  HumanTask.state == "ready", HumanTask.assignee_id == person.id))
    assert task is not None, f"{username} was not asked for evidence"
    complete_task(session, task.id, person, data)
    session.commit()


def test_the_api_record_holds_profile_participants_contributions_and_the_audits_own_grade_labels(app, session):
    publish_scale(session, THREE_POINT)
    qa_lead, auditor, moderator = (user_named(session, name) for name in ("qa.lead", "tm.mash1", "hos.cincp"))
    case = session.scalar(select(Case).where(Case.cohort == "child_in_care", Case.worker_id != auditor.id,
                                             Case.placement_moves_12_months.is_not(None)).order_by(Case.id))
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id), qa_lead)
    officer, leaver = user_named(session, "iro1"), user_named(session, "iro2")
    add_participant(session, audit, qa_lead, officer.id, "reviewing_officer", REASON)
    removed = add_participant(session, audit, qa_lead, leaver.id, "practitioner", "Knows the family from school")
    remove_participant(session, audit, qa_lead, removed.id, "Added to the wrong audit by mistake")
    session.commit()
    worker = session.get(User, audit.worker_id)
    _do(session, audit, "prepare_audit", auditor.id, answers.PREPARE)
    _contribute(session, audit, worker.username, worker_evidence(clock.today()))
    _contribute(session, audit, "iro1", officer_evidence(clock.today()))
    _do(session, audit, "complete_audit_tool", auditor.id, answers.audit_tool("developing"))
    _do(session, audit, "record_feedback", auditor.id, answers.FEEDBACK)
    _do(session, audit, "grade_audit", auditor.id, answers.grading("developing", actions=1))
    audit_id, reads = audit.id, session.scalar(select(func.count()).where(Event.kind == "audit.viewed"))
    session.commit()

    client = app.test_client()
    reply = client.get(f"/api/v1/audits/{audit_id}", headers=bearer(token_for(client, "qa.lead")))
    assert reply.status_code == 200
    record = reply.get_json()
    assert record["grading_scale"] == "Three-point practice scale"
    assert record["grade_labels"] == {"strong": "Strong practice", "developing": "Developing practice",
                                      "serious_concern": "Serious concern"}
    assert (record["overall_grade"], record["overall_grade_label"]) == ("developing", "Developing practice")
    assert record["judgement_area"] == "The experiences and progress of children in care"
    profile = {item["key"]: item for item in record["profile"]}
    assert profile["placement_moves_12_months"]["value"] == case.placement_moves_12_months
    assert profile["legal_status"]["label"] and "date_of_birth" not in profile and "name" not in profile

    people = {p["name"]: p for p in record["participants"]}
    assert set(people) == {officer.display_name, leaver.display_name}
    assert (people[officer.display_name]["case_role_label"], people[officer.display_name]["added_reason"],
            people[officer.display_name]["removed_at"]) == ("Independent reviewing officer", REASON, None)
    assert people[leaver.display_name]["removed_reason"] == "Added to the wrong audit by mistake"
    assert people[leaver.display_name]["removed_at"] and people[leaver.display_name]["added_by"] == qa_lead.display_name

    given = {c["name"]: c for c in record["contributions"]}
    assert set(given) == {worker.display_name, officer.display_name}
    assert given[worker.display_name]["role"] == "Allocated worker"
    assert given[worker.display_name]["difference_for_child"] == "Her attendance is up and she says she feels listened to."
    voice = next(area for area in given[worker.display_name]["areas"] if area["area"] == "child_voice")
    assert voice["comment"] == "She chose where we met each time."
    assert [(e["record_type_label"], e["link"], e["comment"]) for e in voice["evidence"]] == \
        [("Direct work", "https://cms.example.org/case/direct-work-7", "Three houses exercise at school")]
    assert given[officer.display_name]["role"] == "Independent reviewing officer"
    assert given[officer.display_name]["areas"][0]["evidence"][0]["comment"] == "Review minutes: contingency agreed"
    assert session.scalar(select(func.count()).where(Event.kind == "audit.viewed")) == reads + 1
