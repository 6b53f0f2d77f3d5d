"""The organisation service: who may change what, the rules, the trail, and refusals that change nothing."""
import json

import pytest
from sqlalchemy import func, select

from engine.accounts import User
from engine.organisation import directory
from engine.organisation.directory import OrganisationError, PersonDetails, StaleEdit
from engine.organisation.open_work import hand_over, open_work
from engine.qa.models import Audit, Case, Service, Team
from engine.runtime.errors import NotAllowed
from engine.runtime.models import Event, HumanTask
from tests.conftest import user_named
from tests.test_monitoring import allocate


def events(session, kind: str, subject_id) -> list[dict]:
    return [{"actor_id": event.actor_id, **json.loads(event.payload)} for event in session.scalars(
        select(Event).where(Event.kind == kind, Event.subject_id == str(subject_id)).order_by(Event.seq))]


def details(username: str, **extra) -> PersonDetails:
    return PersonDetails(username=username, display_name=extra.pop("name", "Ada Example"),
                         email=extra.pop("email", f"{username}@example.invalid"), **extra)


def test_an_administrator_builds_a_service_team_and_person_and_each_step_is_recorded(session):
    admin = user_named(session, "sysadmin")
    head = user_named(session, "hos.cic")
    service = directory.create_service(session, admin, "Fostering", head.id)
    team = directory.create_team(session, admin, "Fostering 1", service.id, "fostering_adoption")
    person, one_time = directory.create_person(session, admin, details("sw.fostering1.1", team_id=team.id),
                                               ["practitioner", "team_manager"], reason="New starter")
    session.commit()
    assert person.roles == {"practitioner", "team_manager"} and person.must_change_password
    assert person.check_password(one_time) and len(one_time) == 19
    directory.change_team(session, admin, team.id, team.name, service.id, team.kind, person.id)
    session.commit()
    assert session.get(Team, team.id).manager_id == person.id
    assert events(session, "organisation.service_created", service.id)[0]["actor_id"] == admin.id
    assert events(session, "organisation.team_changed", team.id)[0]["after"]["manager_id"] == person.id
    created = events(session, "person.created", person.id)[0]
    assert created["after"]["roles"] == ["practitioner", "team_manager"] and created["reason"] == "New starter"


@pytest.mark.parametrize("change, field, message", [
    (lambda s: directory.create_person(s, user_named(s, "sysadmin"), details("qa.lead")), "username", "already taken"),
    (lambda s: directory.create_person(s, user_named(s, "sysadmin"), details("new.one", email="PSW@example.invalid")),
     "email", "already someone else's"),
    (lambda s: directory.create_person(s, user_named(s, "sysadmin"), details("Bad Name")), "username", "lower-case"),
    (lambda s: directory.create_person(s, user_named(s, "sysadmin"), details("new.one", team_id=99999)),
     "team_id", "Choose a team"),
    (lambda s: directory.create_person(s, user_named(s, "sysadmin"), details("new.one"), ["wizard"]),
     "role", "no role called wizard"),
    (lambda s: directory.create_team(s, user_named(s, "sysadmin"), "New team", 99999, "other"),
     "service_id", "Choose a service"),
    (lambda s: directory.create_team(s, user_named(s, "sysadmin"), "MASH 1", _service(s, "Children in Care"),
                                     "other"), "name", "already a team called MASH 1"),
    # The MASH 1 manager works in Front Door and Assessment, not in Children in Care.
    (lambda s: directory.create_team(s, user_named(s, "sysadmin"), "Children in Care 9", _service(s, "Children in Care"),
                                     "children_in_care", user_named(s, "tm.mash1").id), "manager_id", "does not work in"),
    (lambda s: directory.create_service(s, user_named(s, "sysadmin"), "Fostering", user_named(s, "psw").id),
     "head_of_service_id", "Head of service"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_is_written(session, change, field, message):
    counts = _counts(session)
    with pytest.raises(OrganisationError) as refused:
        change(session)
    session.rollback()
    assert refused.value.field == field and message in str(refused.value)
    assert _counts(session) == counts


def test_only_system_administrators_manage_and_nobody_changes_their_own_roles(session):
    qa_lead, admin = user_named(session, "qa.lead"), user_named(session, "sysadmin")
    worker = user_named(session, "sw.mash1.1")
    with pytest.raises(NotAllowed):
        directory.grant_role(session, qa_lead, worker.id, "qa_officer", "cover")
    with pytest.raises(NotAllowed):
        directory.create_service(session, qa_lead, "Fostering")
    with pytest.raises(NotAllowed):
        directory.grant_role(session, admin, admin.id, "qa_lead", "me too")
    with pytest.raises(NotAllowed):
        directory.deactivate_person(session, admin, admin.id, "leaving")
    session.rollback()
    assert not admin.has_role("qa_lead") and "qa_officer" not in user_named(session, "sw.mash1.1").roles


def test_the_last_system_administrator_keeps_the_role(session):
    admin = user_named(session, "sysadmin")
    other = directory.create_person(session, None, details("other.admin"), ["system_administrator"])[0]
    assert other.must_change_password
    directory.remove_role(session, admin, other.id, "system_administrator", "Was temporary")
    with pytest.raises(OrganisationError, match="only active system administrator"):
        directory.remove_role(session, None, admin.id, "system_administrator", "Lock everyone out")
    with pytest.raises(OrganisationError, match="only active system administrator"):
        directory.deactivate_person(session, None, admin.id, "Left")


def test_grants_removals_moves_and_deactivations_need_reasons_and_are_recorded(session):
    admin = user_named(session, "sysadmin")
    worker = user_named(session, "sw.mash1.1")
    with pytest.raises(OrganisationError, match="reason"):
        directory.remove_role(session, admin, worker.id, "practitioner", "  ")
    directory.grant_role(session, admin, worker.id, "qa_officer", "Secondment to QA")
    directory.remove_role(session, admin, worker.id, "qa_officer", "Secondment ended")
    with pytest.raises(OrganisationError, match="reason"):
        directory.move_person(session, admin, worker.id, _team(session, "MASH 2"), "")
    directory.move_person(session, admin, worker.id, _team(session, "MASH 2"), "Team restructure")
    directory.deactivate_person(session, admin, worker.id, "Left the council")
    session.commit()
    assert not worker.active and worker.active_to is not None and worker.version == 5
    assert events(session, "person.role_granted", worker.id)[0]["after"] == {"role": "qa_officer"}
    assert events(session, "person.role_removed", worker.id)[0]["reason"] == "Secondment ended"
    moved = events(session, "person.moved", worker.id)[0]
    assert moved["after"]["team_id"] == _team(session, "MASH 2") and moved["reason"] == "Team restructure"
    assert events(session, "person.deactivated", worker.id)[0]["actor_id"] == admin.id


def test_a_team_manager_who_moves_stops_managing_their_old_team(session):
    admin = user_named(session, "sysadmin")
    manager = user_named(session, "tm.mash1")
    directory.move_person(session, admin, manager.id, _team(session, "MASH 2"), "Covering MASH 2")
    session.commit()
    assert session.get(Team, _team(session, "MASH 1")).manager_id is None
    assert events(session, "person.moved", manager.id)[0]["after"]["no_longer_manages"] == [_team(session, "MASH 1")]


def test_an_edit_from_an_old_version_loses_and_changes_nothing(session):
    admin = user_named(session, "sysadmin")
    worker = user_named(session, "sw.mash1.1")
    seen = worker.version
    directory.change_person(session, admin, worker.id, seen, details(worker.username, name="First Edit",
                                                                       email=worker.email, team_id=worker.team_id))
    session.commit()
    with pytest.raises(StaleEdit, match="Someone else changed"):
        directory.change_person(session, admin, worker.id, seen, details(worker.username, name="Second Edit",
                                                                           email=worker.email, team_id=worker.team_id))
    session.rollback()
    assert session.get(User, worker.id).display_name == "First Edit"


def test_a_deactivated_person_cannot_sign_in_or_use_a_token_and_their_sessions_end(session):
    from engine.accounts import ApiToken, authenticate, issue_api_token, live_api_token
    from engine.sessions import UserSession, start_session
    worker = user_named(session, "sw.mash1.1")
    token, _ = issue_api_token(session, worker)
    start_session(session, worker.id)
    session.commit()
    directory.deactivate_person(session, user_named(session, "sysadmin"), worker.id, "Left")
    session.commit()
    assert authenticate(session, "sw.mash1.1", "demo-password") is None
    assert live_api_token(session, token) is None
    assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == worker.id)) is not None
    assert session.scalar(select(UserSession.end_reason).where(UserSession.user_id == worker.id)) == "deactivated"


def test_a_leavers_open_work_is_listed_and_handed_over_in_one_step(session):
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    auditor = session.get(User, audit.auditor_id)
    admin = user_named(session, "sysadmin")
    directory.deactivate_person(session, admin, auditor.id, "Left the council")
    work = open_work(session, auditor)
    kinds = {item.kind for item in work.items}
    assert kinds == {"task", "audit"}  # a team manager holds no cases
    task_item = work.of_kind("task")[0]
    audit_item = [item for item in work.items if item.key == f"audit:{audit.id}:auditor"][0]
    new_auditor = user_named(session, "tm.mash2")
    assert new_auditor.id in {p.id for p in task_item.candidates}
    # The case's own worker may never audit it: refused, nothing changes.
    worker = session.get(User, audit.worker_id)
    with pytest.raises(OrganisationError):
        hand_over(session, admin, auditor.id, {audit_item.key: worker.id}, "Leaver")
    session.rollback()
    count = hand_over(session, admin, auditor.id, {task_item.key: new_auditor.id, audit_item.key: new_auditor.id},
                      "Left the council")
    session.commit()
    assert count == 2
    assert session.get(Audit, audit.id).auditor_id == new_auditor.id
    task = session.get(HumanTask, int(task_item.key.split(":")[1]))
    assert task.assignee_id == new_auditor.id
    assert json.loads(session.scalar(select(Event.payload).where(Event.kind == "task.reassigned")))["reason"] \
        == "Left the council"
    assert events(session, "audit.person_reassigned", audit.id)[0]["after"] == {"holder_id": new_auditor.id}
    assert not [item for item in open_work(session, auditor).items if item.kind in ("task", "audit")]


def test_the_qa_lead_may_hand_over_but_others_may_not(session):
    worker = user_named(session, "sw.mash1.1")
    case_item = open_work(session, worker).of_kind("case")[0]
    with pytest.raises(NotAllowed):
        hand_over(session, user_named(session, "tm.mash1"), worker.id, {case_item.key: 1}, "x")
    colleague = case_item.candidates[0]
    hand_over(session, user_named(session, "qa.lead"), worker.id, {case_item.key: colleague.id}, "Long-term sick")
    session.commit()
    assert session.get(Case, int(case_item.key.split(":")[1])).worker_id == colleague.id


def _counts(session) -> tuple:
    return tuple(session.scalar(select(func.count()).select_from(table)) for table in (User, Team, Service, Event))


def _service(session, name: str) -> int:
    return session.scalar(select(Service.id).where(Service.name == name))


def _team(session, name: str) -> int:
    return session.scalar(select(Team.id).where(Team.name == name))


def test_a_leavers_tracker_actions_go_to_someone_in_the_same_part(session):
    from datetime import timedelta
    from engine.clock import clock
    from engine.qa.models import AuditAction
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    worker = session.get(User, audit.worker_id)
    action = AuditAction(audit_id=audit.id, ref="A1", description="Update the chronology", area="chronology",
                         owner_id=worker.id, owner_role="worker", due_on=clock.today() + timedelta(days=10),
                         priority="high")
    session.add(action)
    session.commit()
    item = open_work(session, worker).of_kind("action")[0]
    assert item.candidates and all(person.has_role("practitioner") for person in item.candidates)
    hand_over(session, user_named(session, "qa.lead"), worker.id, {item.key: item.candidates[0].id}, "Left")
    session.commit()
    assert session.get(AuditAction, action.id).owner_id == item.candidates[0].id
    assert events(session, "action.reassigned", action.id)[0]["reason"] == "Left"


def test_people_whose_leaving_date_has_passed_are_deactivated_by_the_scheduler_job(session):
    from datetime import timedelta
    from engine.clock import clock
    from engine.organisation.leavers import deactivate_past_leavers
    admin = user_named(session, "sysadmin")
    leaving, staying = user_named(session, "sw.mash1.1"), user_named(session, "sw.mash1.2")
    for person, last_day in ((leaving, clock.today() - timedelta(days=1)), (staying, clock.today())):
        directory.change_person(session, admin, person.id, None, PersonDetails(
            username=person.username, display_name=person.display_name, email=person.email,
            team_id=person.team_id, active_to=last_day))
    # The only system administrator is never deactivated by it, even past a leaving date.
    directory.change_person(session, None, admin.id, None, PersonDetails(
        username=admin.username, display_name=admin.display_name, email=admin.email, active_to=clock.today() - timedelta(days=3)))
    session.commit()
    assert deactivate_past_leavers(session) == 1
    session.commit()
    assert not leaving.active and staying.active and admin.active
    assert events(session, "person.deactivated", leaving.id)[0]["reason"] == "Leaving date reached"
