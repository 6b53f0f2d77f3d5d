"""The instance list's search and scope and the tracker's filter choices, against what they mean.

Both are asked of the database in a form that reads through indexes (a union of id
lookups; a first matching action per choice), so here each answer is compared with the
plain meaning worked out in Python from every row the person may see: the search finds an
instance whose reference or whose audit's case reference begins with the text, or whose id
or audit number is the text; a choice is offered when an action the person may see has it.
The `council` of tests/test_monitoring.py gives the audits, instances and actions.
"""
from datetime import date

import pytest
from sqlalchemy import select, update

from engine.accounts import User
from engine.clock import clock
from engine.qa.access import can_view_audit
from engine.qa.actions_tracker import filter_choices, tracker_scope
from engine.qa.models import Audit, AuditAction, Case, Service, Team
from engine.qa.start_subjects import own_services, own_teams
from engine.runtime.models import InstanceStart, ProcessInstance
from engine.runtime.monitoring import InstanceFilters, list_instances
from tests.conftest import user_named
from tests.test_monitoring import council  # noqa: F401  (the fixture)

TRACKER_PEOPLE = ("qa.lead", "cr.manager", "hos.cincp", "hos.disabled", "hos.frontdoor", "tm.mash2", "iro1")
MONITORS = ("qa.lead", "hos.cincp", "hos.disabled", "hos.frontdoor")


def listing(session, username: str, **filters) -> tuple[list[int], int]:
    """The ids on the list's first page, in order, and its total."""
    found = list_instances(session, user_named(session, username), InstanceFilters.of(**filters), clock.today())
    return [row["instance"].id for row in found["rows"]], found["total"]


def meaning_of_search(session, text: str) -> set[int]:
    """The instances the search text means, worked out row by row."""
    text = text.upper()
    number = int(text) if text.isdigit() else None
    cases = dict(session.execute(select(Audit.instance_id, Case.reference).join(Case, Case.id == Audit.case_id)).all())
    audits = dict(session.execute(select(Audit.instance_id, Audit.id)).all())
    return {instance_id for instance_id, key in session.execute(select(ProcessInstance.id, ProcessInstance.business_key))
            if key.startswith(text) or cases.get(instance_id, "\0").startswith(text)
            or (number is not None and number in (instance_id, audits.get(instance_id)))}


@pytest.fixture
def searchable(council, session):  # noqa: F811
    """The council with references arranged so one text finds each way: `early` by its case's
    reference and its own (both), `scoring` by its own reference only (it runs no audit), `graded`
    by its case's only; the others by neither."""
    text = council["early"]["case"]
    session.execute(update(ProcessInstance).where(ProcessInstance.id == council["scoring"]["instance"])
                    .values(business_key=f"{text}-SCORING"))
    session.execute(update(ProcessInstance).where(ProcessInstance.id == council["early"]["instance"])
                    .values(business_key=f"{text}-EARLY"))
    session.execute(update(Case).where(Case.reference == council["graded"]["case"]).values(reference=f"{text}9"))
    session.commit()
    return text


def test_the_search_finds_by_either_reference_both_or_neither(searchable, council, session):  # noqa: F811
    text = searchable
    ids, total = listing(session, "qa.lead", q=text.lower())
    expected = {council[name]["instance"] for name in ("early", "scoring", "graded")}
    assert set(ids) == expected == meaning_of_search(session, text) and total == 3 and len(ids) == 3  # each once
    everything, _ = listing(session, "qa.lead")
    assert ids == [instance_id for instance_id in everything if instance_id in expected]  # the list's order
    # Neither reference: nothing; a wildcard in the text is a plain character, not "any".
    assert listing(session, "qa.lead", q=text + "X") == ([], 0)
    assert listing(session, "qa.lead", q=text[:2] + "_") == ([], 0)
    assert listing(session, "qa.lead", q=text[:2] + "%") == ([], 0)


@pytest.mark.parametrize("username", MONITORS)
def test_each_search_means_the_same_within_what_each_person_sees(searchable, council, session, username):  # noqa: F811
    """Every search the council's references suggest, for each monitor: the instances it means
    among those the person sees, in the list's order, and its total."""
    visible, _ = listing(session, username)
    texts = {searchable, searchable[:3], "AUD-", council["graded"]["reference"], "NOPE", "0",
             *(str(council[name]["id"]) for name in ("early", "graded", "actions")),
             *(str(council[name]["instance"]) for name in council)}
    for text in sorted(texts):
        means = meaning_of_search(session, text)
        ids, total = listing(session, username, q=text)
        assert ids == [instance_id for instance_id in visible if instance_id in means], text
        assert total == len(ids), text
    session.rollback()


def meaning_of_scope(session, user: User) -> set[int]:
    """The instances a person who does not see every instance may see, worked out row by row:
    those of the audits they may see, and those they started or that were started about their
    services, their teams or their teams' cases."""
    services, teams = set(session.scalars(own_services(user))), set(session.scalars(own_teams(user)))
    case_teams = dict(session.execute(select(Case.id, Case.team_id)).all())
    audits = {instance_id for audit_id, instance_id in session.execute(select(Audit.id, Audit.instance_id))
              if instance_id is not None and can_view_audit(session, user, audit_id)}
    started = {start.instance_id for start in session.scalars(select(InstanceStart))
               if start.started_by_id == user.id
               or (start.about_kind == "service" and start.about_id in services)
               or (start.about_kind == "team" and start.about_id in teams)
               or (start.about_kind == "case" and case_teams.get(start.about_id) in teams)}
    return audits | started


# Who sees each instance of `started_about` by its start alone (the QA lead sees them all).
STARTS_SEEN = {"hos.cincp": {"START-0", "START-3"}, "hos.careleavers": {"START-1", "START-2", "START-4"},
               "hos.disabled": set(), "hos.frontdoor": set()}


@pytest.fixture
def started_about(council, session):  # noqa: F811
    """Instances that run no audit, each started one way: START-0 about hos.cincp's service,
    START-1 about a Leaving Care team, START-2 about a case of that team, START-3 by hos.cincp
    themselves about nothing, START-4 about the Care Leavers service (hos.careleavers')."""
    leaving_care = session.scalar(select(Team).where(Team.name == "Leaving Care 1"))
    case = session.scalar(select(Case).where(Case.team_id == leaving_care.id).order_by(Case.id))
    hos = user_named(session, "hos.cincp")
    cincp_service = session.scalar(select(Service.id).where(Service.head_of_service_id == hos.id).order_by(Service.id))
    starts = [dict(about_kind="service", about_id=cincp_service), dict(about_kind="team", about_id=leaving_care.id),
              dict(about_kind="case", about_id=case.id), dict(about_kind=None, about_id=None, started_by_id=hos.id),
              dict(about_kind="service", about_id=leaving_care.service_id)]
    version_id = session.scalar(select(ProcessInstance.process_version_id).where(
        ProcessInstance.id == council["scoring"]["instance"]))
    for number, start in enumerate(starts):
        instance = ProcessInstance(process_version_id=version_id, process_key="scoring", business_key=f"START-{number}",
                                   status="running", serialized="{}")
        session.add(instance)
        session.flush()
        session.add(InstanceStart(instance_id=instance.id, process_key="scoring", about_label="", answers={},
                                  answers_sha256="0" * 64, **start))
    session.commit()


@pytest.mark.parametrize("username", ("qa.lead", *STARTS_SEEN))
def test_each_monitor_lists_exactly_the_instances_their_scope_means(started_about, session, username):
    """Every page of the unfiltered list holds what the person's scope means, worked out row by
    row (audits, and starts about services, teams and cases), and its total counts that."""
    user = user_named(session, username)
    everything = set(session.scalars(select(ProcessInstance.id)))
    means = everything if user.has_role("qa_lead") else meaning_of_scope(session, user)
    found = list_instances(session, user, InstanceFilters(), clock.today())
    listed = {row["instance"].id for page in range(1, found["pages"] + 1) for row in list_instances(
        session, user, InstanceFilters(page=page), clock.today())["rows"]}
    assert listed == means and found["total"] == len(means)
    starts = set(session.scalars(select(ProcessInstance.business_key).where(
        ProcessInstance.id.in_(listed), ProcessInstance.business_key.startswith("START-"))))
    assert starts == STARTS_SEEN.get(username, {f"START-{number}" for number in range(5)})
    session.rollback()


def test_the_search_sorted_by_case_keeps_its_rows(searchable, council, session):  # noqa: F811
    ids, total = listing(session, "qa.lead", q=searchable, sort="case", direction="asc")
    # The case references: the early audit's, then the graded audit's (its reference + "9"),
    # then the scoring instance, which has no case (last).
    assert ids == [council[name]["instance"] for name in ("early", "graded", "scoring")] and total == 3


def meaning_of_choices(session, user: User) -> dict[str, set[int]]:
    """Each filter's values among the actions `user` may see, worked out row by row."""
    rows = session.execute(select(AuditAction.audit_id, Audit.service_id, AuditAction.service_id, Audit.team_id,
                                  AuditAction.owner_id, Audit.cycle_id)
                           .outerjoin(Audit, Audit.id == AuditAction.audit_id).where(tracker_scope(user))).all()
    values = {"services": {audit_service if audit_id else own_service for audit_id, audit_service, own_service, *_ in rows},
              "teams": {team for audit_id, _, _, team, _, _ in rows if audit_id},
              "owners": {owner for *_, owner, _ in rows},
              "cycles": {cycle for audit_id, *_, cycle in rows if audit_id}}
    return {name: found - {None} for name, found in values.items()}  # an audit outside any cycle offers none


@pytest.fixture
def activity_action(council, session):  # noqa: F811
    """An action of an activity (no audit) in a service no audit action is in, owned by a person
    who owns no other action."""
    service = session.scalar(select(Service).where(Service.id.not_in(
        select(Audit.service_id).join(AuditAction, AuditAction.audit_id == Audit.id))).order_by(Service.id))
    owner = user_named(session, "tm.mash2")
    session.add(AuditAction(audit_id=None, source="thematic", source_reference="TA-2026-001", service_id=service.id,
                            ref="R1", description="Review the thematic findings with the team.", area="",
                            owner_id=owner.id, owner_role="team_manager", due_on=date(2027, 1, 15), priority="",
                            agreed_on=clock.today()))
    session.commit()
    return {"service": service.id, "owner": owner.id}


@pytest.mark.parametrize("username", TRACKER_PEOPLE)
def test_the_trackers_filter_choices_are_those_of_the_actions_each_person_sees(activity_action, session, username):
    user = user_named(session, username)
    offered = {name: {value for value, _ in choices} for name, choices in filter_choices(session, user).items()}
    assert offered == meaning_of_choices(session, user)
    # The QA lead and the managers see every action, its owner their own, the service's head theirs.
    head = session.get(Service, activity_action["service"]).head_of_service_id
    sees_activity = username in ("qa.lead", "cr.manager", "tm.mash2") or user.id == head
    assert (activity_action["service"] in offered["services"]) == sees_activity
    assert (activity_action["owner"] in offered["owners"]) == sees_activity
    if username == "qa.lead":
        assert len(offered["teams"]) == 2 and len(offered["services"]) == 3
    session.rollback()
