"""The dashboard, the instance list with every filter, sort, pages and saved filters,
one instance's page and a version's page, over HTTP as the QA lead and others see them.

`council` sets up audits whose every attribute the filters read is known:

  early    Children in Care 1, auditor tm.mash1, moderator hos.cincp; due in 2 days and
           left at its first task, so it is overdue once the clock moves on 3 days.
  graded   Children with Disabilities 1, auditor tm.safeguarding1, moderator psw; graded
           Inadequate: awaiting moderation, with the head of service's acknowledgement open
           (due the next working day, so overdue 3 days on as well).
  actions  Assessment 1, auditor tm.cic1, moderator hos.careleavers; graded Good with two
           actions, reflected on and moderated: the actions wait for review in supervision.
  scoring  not an audit: the small scoring model of test_administration_retry, failed.
"""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from engine.accounts import User
from engine.clock import clock
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Audit, Case, Service, Team
from engine.runtime.admin_models import SavedFilter
from engine.runtime.instances import complete_task
from engine.runtime.models import Event, HumanTask, ProcessInstance, ProcessVersion
from tests import answers
from tests.conftest import sign_in, user_named
from tests.test_administration_retry import fail_scoring

DAYS_UNTIL_EARLY_AUDIT_IS_OVERDUE = 3
A_TUESDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def do(session, audit: Audit, step: str, username_or_id, data: dict) -> None:
    """Complete the open task `step` of `audit` as its holder."""
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                  HumanTask.spec_name == step, HumanTask.state == "ready"))
    assert task is not None, f"{step} is not open"
    person = user_named(session, username_or_id) if isinstance(username_or_id, str) else session.get(User, username_or_id)
    complete_task(session, task.id, person, data)
    session.commit()


def allocate(session, team: str, auditor: str, moderator: str, *, due_in_days: int | None = None) -> Audit:
    case = session.scalar(select(Case).join(Team).where(Team.name == team).order_by(Case.id))
    due_on = clock.today() + timedelta(days=due_in_days) if due_in_days else None
    audit = allocate_audit(session, AllocationRequest(case.reference, user_named(session, auditor).id,
                                                      user_named(session, moderator).id, due_on=due_on),
                           user_named(session, "qa.lead"))
    session.commit()
    return audit


def grade(session, audit: Audit, overall: str, actions: int) -> None:
    for step, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool(overall)),
                       ("record_feedback", answers.FEEDBACK), ("grade_audit", answers.grading(overall, actions=actions))):
        do(session, audit, step, audit.auditor_id, data)


@pytest.fixture
def council(session):
    """The audits described in the module docstring; returns what tests need to know of them."""
    clock.set(A_TUESDAY_MORNING)
    early = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp", due_in_days=2)
    graded = allocate(session, "Children with Disabilities 1", "tm.safeguarding1", "psw")
    grade(session, graded, "inadequate", actions=1)
    actions = allocate(session, "Assessment 1", "tm.cic1", "hos.careleavers")
    grade(session, actions, "good", actions=2)
    do(session, actions, "add_reflections", actions.worker_id, answers.REFLECTION)
    do(session, actions, "moderate_audit", actions.moderator_id, answers.MODERATION_AGREED)
    graded_evidence, actions_evidence = give_evidence(session, (graded, actions))
    scoring = fail_scoring(session)
    known = {name: {"id": audit.id, "instance": audit.instance_id, "reference": audit.reference,
                    "case": audit.case.reference, "team": audit.team_id, "service": audit.service_id,
                    "auditor": audit.auditor_id, "moderator": audit.moderator_id, "cycle": audit.cycle_id}
             for name, audit in (("early", early), ("graded", graded), ("actions", actions))}
    known["scoring"] = {"instance": scoring.id}
    known["graded_evidence"] = {"instance": graded_evidence}
    known["actions_evidence"] = {"instance": actions_evidence}
    session.rollback()
    session.close()
    return known


def give_evidence(session, audits) -> list[int]:
    """The workers of `audits` give their evidence (processes/audit_contribution, begun with the
    audit tool); returns those instances, which run beside the audits and finish here."""
    given = []
    for audit in audits:
        task = session.scalar(select(HumanTask).where(HumanTask.spec_name == "add_contribution",
                                                      HumanTask.assignee_id == audit.worker_id, HumanTask.state == "ready"))
        complete_task(session, task.id, session.get(User, audit.worker_id),
                      {"difference_for_child": "Attendance is up since the plan began."})
        session.commit()
        given.append(task.instance_id)
    return given


def listed(client, query: str = "") -> set[int]:
    """The instance ids on the list page for `query` (first page)."""
    page = client.get(f"/instances?{query}")
    assert page.status_code == 200, page.text
    return {int(part.split('"')[0]) for part in page.text.split('data-instance="')[1:]}


def instances_of(known, *names) -> set[int]:
    return {known[name]["instance"] for name in names}


@pytest.fixture
def qa(app):
    client = app.test_client()
    sign_in(client, "qa.lead")
    return client


def test_every_filter_of_the_instance_list(qa, council, session):
    assert listed(qa, "overdue=yes") == set()
    clock.set(clock.now() + timedelta(days=DAYS_UNTIL_EARLY_AUDIT_IS_OVERDUE))
    everything = instances_of(council, "early", "graded", "actions", "scoring", "graded_evidence", "actions_evidence")
    assert listed(qa) == everything
    version = session.scalar(select(ProcessVersion.version).where(ProcessVersion.process_key == "case_file_audit"))
    session.rollback()
    cases = {
        f"q={council['early']['case']}": {"early"},
        # An audit's reference also finds the evidence its worker gave (its business key begins with it).
        f"q={council['graded']['reference'].lower()}": {"graded", "graded_evidence"},
        # A number finds the audit of that id and the instance of that id (here the graded audit's evidence).
        f"q={council['actions']['id']}": {"actions"} | {name for name, known in council.items()
                                                        if known["instance"] == council["actions"]["id"]},
        "q=AUD-": {"early", "graded", "actions", "graded_evidence", "actions_evidence"},
        "process=case_file_audit": {"early", "graded", "actions"},
        "process=scoring": {"scoring"},
        f"process=case_file_audit&version={version}": {"early", "graded", "actions"},
        "status=running": {"early", "graded", "actions"},
        "status=error": {"scoring"},
        "step=prepare_audit": {"early"},
        "step=acknowledge_escalation": {"graded"},
        "step=review_action": {"actions"},
        f"team={council['graded']['team']}": {"graded"},
        f"service={council['actions']['service']}": {"actions"},
        f"auditor={council['early']['auditor']}": {"early"},
        f"moderator={council['graded']['moderator']}": {"graded"},
        "overdue=yes": {"early", "graded"},
        "audit_status=awaiting_moderation": {"graded"},
        "audit_status=actions_in_review": {"actions"},
        "audit_status=open": {"early", "graded", "actions"},
        "grade=inadequate": {"graded"},
        "grade=good": {"actions"},
        "grade=inadequate&audit_status=open&overdue=yes": {"graded"},
        "grade=good&overdue=yes": set(),
        f"service={council['early']['service']}&step=prepare_audit&overdue=yes": {"early"},
    }
    for query, expected in cases.items():
        assert listed(qa, query) == instances_of(council, *expected), query
    recorded = session.scalars(select(Event.payload).where(Event.kind == "instances.listed").order_by(Event.seq)).all()
    assert len(recorded) == len(cases) + 2
    assert json.loads(recorded[-1])["filters"] == {"service": council["early"]["service"], "step": "prepare_audit",
                                                   "overdue": "yes"}


def test_the_cycle_filter_lists_the_audits_of_a_cycle(qa, council, session):
    from engine.qa.cycle_models import AuditCycle
    cycle = AuditCycle(number=7, status="audits_started", starts_on=clock.today(), cadence_weeks=6,
                       sample_basis="per_team", sample_size=1)
    session.add(cycle)
    session.flush()
    session.get(Audit, council["graded"]["id"]).cycle_id = cycle.id
    session.commit()
    cycle_id = cycle.id
    session.close()
    assert listed(qa, f"cycle={cycle_id}") == instances_of(council, "graded")
    assert "Cycle 7" in qa.get("/instances").text  # offered as a choice


def test_bad_filter_values_are_named_and_the_rest_still_applies(qa, council):
    page = qa.get("/instances?team=abc&status=lost&step=prepare_audit&sort=colour")
    assert page.status_code == 200
    assert "Team must be chosen from the list" in page.text and "There is no status &#39;lost&#39;" in page.text
    assert "There is no sort &#39;colour&#39;" in page.text
    assert listed(qa, "team=abc&status=lost&step=prepare_audit") == instances_of(council, "early")


def test_sorting_and_pages(qa, council, session, monkeypatch):
    from engine.runtime import monitoring
    by_case = sorted(((council[name]["case"], council[name]["instance"]) for name in ("early", "graded", "actions")))
    page = qa.get("/instances?process=case_file_audit&sort=case&direction=asc").text
    positions = [page.index(f'data-instance="{instance}"') for _, instance in by_case]
    assert positions == sorted(positions)
    page = qa.get("/instances?process=case_file_audit&sort=case&direction=desc").text
    positions = [page.index(f'data-instance="{instance}"') for _, instance in by_case]
    assert positions == sorted(positions, reverse=True)

    monkeypatch.setattr(monitoring, "PAGE_SIZE", 2)
    first = qa.get("/instances?sort=started&direction=asc")
    assert "page 1 of 3" in first.text and 'rel="next"' in first.text
    assert listed(qa, "sort=started&direction=asc") == instances_of(council, "early", "graded")
    assert listed(qa, "sort=started&direction=asc&page=2") == instances_of(council, "graded_evidence", "actions")
    last = instances_of(council, "actions_evidence", "scoring")
    assert listed(qa, "sort=started&direction=asc&page=9") == last  # the last page


def test_past_its_count_the_list_says_more_than_and_pages_on_with_next(qa, council, session, monkeypatch):
    """A list longer than it counts (LIST_COUNTED_UP_TO) says "more than", offers Next while a
    page follows and no last page, and its pages hold every instance once, in the order the
    exact list has; a page past the end says so and links back to the first."""
    from engine.runtime import monitoring
    monkeypatch.setattr(monitoring, "PAGE_SIZE", 2)
    exact = [listed_in_order(qa, f"sort=started&direction=asc&page={page}") for page in (1, 2, 3)]
    monkeypatch.setattr(monitoring, "LIST_COUNTED_UP_TO", 3)

    pages = [qa.get(f"/instances?sort=started&direction=asc&page={page}").text for page in (1, 2, 3)]
    assert [ids_in_order(page) for page in pages] == exact
    assert sorted(sum(exact, [])) == sorted(instances_of(council, *council))  # all six, once each
    assert "More than <strong>3</strong> processes found, page 1." in pages[0]
    assert ['rel="next"' in page for page in pages] == [True, True, False]
    assert 'aria-label="Page 4"' not in pages[2] and 'aria-label="Page 3"' in pages[1]
    past = qa.get("/instances?sort=started&direction=asc&page=4").text
    assert 'There are no processes on page 4. <a class="govuk-link" href="/instances?sort=started&amp;direction=asc">' in past
    listed_events = session.scalars(select(Event.payload).where(Event.kind == "instances.listed")
                                    .order_by(Event.seq.desc()).limit(1)).one()
    assert json.loads(listed_events)["total"] == "more than 3"
    session.rollback()

    monkeypatch.setattr(monitoring, "LIST_COUNTED_UP_TO", 6)  # exactly as many as there are: exact again
    assert "<strong>6</strong> processes found, page 1 of 3." in qa.get("/instances?sort=started&direction=asc").text


def ids_in_order(page: str) -> list[int]:
    return [int(part.split('"')[0]) for part in page.split('data-instance="')[1:]]


def listed_in_order(client, query: str) -> list[int]:
    return ids_in_order(client.get(f"/instances?{query}").text)


@pytest.mark.parametrize("sort", ["updated", "started", "reference", "status", "process", "case"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_page_is_the_same_read_either_way(qa, council, monkeypatch, sort, direction):
    """A list with few matches is read whole and sorted; one with more is read in order a page at
    a time (engine/runtime/monitoring._page_ids): both give every instance once, in the same
    order, for every sort, the instances without a case last whichever way the case sort goes."""
    from engine.runtime import monitoring
    monkeypatch.setattr(monitoring, "PAGE_SIZE", 2)
    query = f"sort={sort}&direction={direction}"
    read_whole = [listed_in_order(qa, f"{query}&page={page}") for page in (1, 2, 3)]
    monkeypatch.setattr(monitoring, "LIST_COUNTED_UP_TO", 1)
    assert [listed_in_order(qa, f"{query}&page={page}") for page in (1, 2, 3)] == read_whole
    assert sorted(sum(read_whole, [])) == sorted(instances_of(council, *council))
    if sort == "case":
        assert set(sum(read_whole, [])[3:]) == instances_of(council, "scoring", "graded_evidence", "actions_evidence")


def test_the_dashboard_numbers_link_to_the_lists_behind_them(qa, council):
    clock.set(clock.now() + timedelta(days=DAYS_UNTIL_EARLY_AUDIT_IS_OVERDUE))
    page = qa.get("/monitoring").text
    links = {}
    for part in page.split('data-count="')[1:]:
        key = part.split('"')[0]
        href = part.split('href="')[1].split('"')[0].replace("&amp;", "&")
        count = int(part.split(">")[1].split("<")[0])
        links[key] = (href, count)
    expected_instances = {"in_error": {"scoring"}, "overdue": {"early", "graded"}, "awaiting_moderation": {"graded"},
                          "open_escalating": {"graded"}, "suspended": set()}
    for key, names in expected_instances.items():
        href, count = links[key]
        assert count == len(names), key
        assert listed(qa, urlsplit(href).query) == instances_of(council, *names), key
    assert links["actions_overdue"][1] == 0 and links["actions_awaiting_verification"][1] == 0
    assert urlsplit(links["actions_overdue"][0]).path == "/tracker"
    assert "overdue task" in page

    steps = page[page.index('id="by-step"'):]
    review = steps[steps.index("Review an audit action in supervision"):]
    href = review.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(href).query) == {"process": ["case_file_audit"], "status": ["running"], "step": ["review_action"]}
    assert review.split(">")[3].split("<")[0] == "1"  # one instance waits there, with two tasks
    assert listed(qa, urlsplit(href).query) == instances_of(council, "actions")


def dashboard_links(client) -> dict[str, tuple[str, int]]:
    """Every number on the dashboard that opens the instance list: key (or step) -> (query, number)."""
    page = client.get("/monitoring").text
    links = {}
    for part in page.split('data-count="')[1:]:
        href = part.split('href="')[1].split('"')[0].replace("&amp;", "&")
        links[part.split('"')[0]] = (href, int(part.split(">")[1].split("<")[0]))
    if 'id="by-step"' in page:
        steps = page[page.index('id="by-step"'):].split("</div>")[0]
        for row in steps.split('<td class="govuk-table__cell govuk-table__cell--numeric">')[1:]:
            href = row.split('href="')[1].split('"')[0].replace("&amp;", "&")
            links[parse_qs(urlsplit(href).query)["step"][0]] = (href, int(row.split(">")[1].split("<")[0]))
    tasks = page.split('<span class="govuk-body-s"> (')[1].split(" overdue task")[0]
    return {key: (urlsplit(href).query, count) for key, (href, count) in links.items()
            if urlsplit(href).path == "/instances"} | {"overdue tasks": ("", int(tasks))}


def list_total(client, query: str) -> int:
    return int(client.get(f"/instances?{query}").text.split('id="result-count"><strong>')[1].split("<")[0])


def test_every_dashboard_number_is_its_lists_total_on_finished_instances_and_in_scope(app, qa, council, session):
    """The dashboard counts what its lists show, whatever the instance's status: an audit left
    awaiting moderation (graded Inadequate) by a terminated instance, and one by an instance
    that ended without closing it, still count as awaiting moderation and open at the escalating
    grade; a suspended instance with an overdue task counts as suspended and overdue; and a head
    of service's numbers are those of their own lists."""
    from engine.runtime.administration import suspend, terminate
    from engine.runtime.monitoring import OPEN_STATUSES
    qa_lead = user_named(session, "qa.lead")
    terminated = allocate(session, "Safeguarding and Family Support 1", "tm.leavingcare1", "psw")
    grade(session, terminated, "inadequate", actions=1)
    terminate(session, terminated.instance_id, qa_lead, "Allocated on the wrong case")
    ended = allocate(session, "Leaving Care 1", "tm.mash2", "psw")
    grade(session, ended, "inadequate", actions=1)
    # As the runtime leaves an instance whose workflow reached its end: completed, tasks closed.
    session.execute(update(HumanTask).where(HumanTask.instance_id == ended.instance_id, HumanTask.state == "ready")
                    .values(state="cancelled", completed_at=clock.now()))
    session.execute(update(ProcessInstance).where(ProcessInstance.id == ended.instance_id)
                    .values(status="completed", ended_at=clock.now()))
    suspend(session, council["early"]["instance"], qa_lead, "Waiting for the case file to be restored")
    session.commit()
    finished = {terminated.instance_id, ended.instance_id}
    assert {session.get(Audit, audit.id).status for audit in (terminated, ended)} == {"awaiting_moderation"}
    session.close()
    clock.set(clock.now() + timedelta(days=DAYS_UNTIL_EARLY_AUDIT_IS_OVERDUE))

    links = dashboard_links(qa)
    expected = {"in_error": instances_of(council, "scoring"), "suspended": instances_of(council, "early"),
                "overdue": instances_of(council, "early", "graded"),
                "awaiting_moderation": instances_of(council, "graded") | finished,
                "open_escalating": instances_of(council, "graded") | finished}
    for key, instances in expected.items():
        assert links[key][1] == len(instances) and listed(qa, links[key][0]) == instances, key
    assert "prepare_audit" not in links  # the early audit waits there, suspended: not running

    today = clock.today()
    for who in ("qa.lead", "hos.cincp", "hos.careleavers", "hos.disabled"):
        client = app.test_client()
        sign_in(client, who)
        links = dashboard_links(client)
        for key, (query, count) in links.items():
            if key != "overdue tasks":
                assert count == list_total(client, query), (who, key)
        overdue_instances = listed(client, links["overdue"][0])
        assert links["overdue tasks"][1] == session.scalar(select(func.count(HumanTask.id)).where(
            HumanTask.state == "ready", HumanTask.due_on < today, HumanTask.instance_id.in_(overdue_instances))), who
        session.rollback()
    hos_cincp = app.test_client()
    sign_in(hos_cincp, "hos.cincp")
    # Their service's terminated audit, and the early audit they moderate; not the others'.
    assert listed(hos_cincp, dashboard_links(hos_cincp)["awaiting_moderation"][0]) == {terminated.instance_id}
    assert listed(hos_cincp, dashboard_links(hos_cincp)["suspended"][0]) == instances_of(council, "early")
    assert session.scalar(select(func.count(ProcessInstance.id)).where(
        ProcessInstance.id.in_(finished), ProcessInstance.status.in_(OPEN_STATUSES))) == 0


def test_an_instance_started_about_a_case_is_seen_by_the_head_of_the_cases_service(app, council, session):
    """The head of the service whose team has the case sees an instance started about it, and
    counts it; another head of service does not."""
    from engine.runtime.models import InstanceStart
    case = session.scalar(select(Case).join(Team).where(Team.name == "Leaving Care 1").order_by(Case.id))
    instance_id = council["scoring"]["instance"]  # in error, and not an audit: seen by its start alone
    session.add(InstanceStart(instance_id=instance_id, process_key="scoring", about_kind="case", about_id=case.id,
                              about_label=case.reference, answers={}, answers_sha256="0" * 64))
    session.commit()
    session.close()
    for who, sees in (("hos.careleavers", True), ("hos.cincp", False)):
        client = app.test_client()
        sign_in(client, who)
        assert (instance_id in listed(client, "status=error")) is sees, who
        assert dashboard_links(client)["in_error"][1] == int(sees), who
        assert client.get(f"/instances/{instance_id}").status_code == (200 if sees else 403), who


def test_a_saved_filter_comes_back_and_is_yours_alone(app, qa, council, session):
    saved = qa.post("/saved-filters", data={"page": "instances", "name": "Overdue in care",
                                            "query": "overdue=yes&service=3"})
    assert saved.status_code == 302 and saved.location.endswith("/instances?overdue=yes&service=3")
    page = qa.get("/instances").text
    assert "Overdue in care" in page and 'href="/instances?overdue=yes&amp;service=3"' in page
    odd = qa.post("/saved-filters", data={"page": "instances", "name": "Odd", "query": "status=error&page=4&x=%0d%0aSet-Cookie:a"})
    assert odd.location.endswith("/instances?status=error&x=%0D%0ASet-Cookie%3Aa")  # re-encoded, never a header
    assert qa.post("/saved-filters", data={"page": "instances", "name": "  ", "query": "x=1"}).status_code == 302
    assert "Enter a name for the filter" in qa.get("/instances").text
    row = session.scalar(select(SavedFilter).where(SavedFilter.name == "Overdue in care"))
    filter_id = row.id
    assert (row.name, row.page, row.query) == ("Overdue in care", "instances", "overdue=yes&service=3")
    session.rollback()

    officer = app.test_client()
    sign_in(officer, "qa.officer1")
    assert "Overdue in care" not in officer.get("/instances").text
    assert officer.post(f"/saved-filters/{filter_id}/delete").status_code == 404
    assert qa.post(f"/saved-filters/{filter_id}/delete").status_code == 302
    assert session.scalars(select(SavedFilter.name)).all() == ["Odd"]
    kinds = session.scalars(select(Event.kind).where(Event.kind.like("filter.%")).order_by(Event.seq)).all()
    assert kinds == ["filter.saved", "filter.saved", "filter.deleted"]


def test_an_instance_page_shows_its_steps_timeline_and_data_and_records_the_view(qa, council, session):
    instance_id = council["graded"]["instance"]
    page = qa.get(f"/instances/{instance_id}")
    assert page.status_code == 200
    text = page.text
    assert council["graded"]["reference"] in text and council["graded"]["case"] in text
    assert "Acknowledge the inadequate audit" in text and "Add my reflections" in text  # the open tasks
    assert 'data-kind="audit.allocated"' in text and 'data-kind="task.completed"' in text
    assert "Unexplained bruising" not in text  # no safeguarding concern in this audit's answers
    assert "&#34;overall_grade&#34;: &#34;inadequate&#34;" in text or '"overall_grade": "inadequate"' in text
    assert 'data-kind="instance.viewed"' not in text
    assert 'data-kind="instance.viewed"' in qa.get(f"/instances/{instance_id}?reads=yes").text
    viewed = session.scalars(select(Event).where(Event.kind == "instance.viewed", Event.instance_id == instance_id)).all()
    assert len(viewed) == 2 and viewed[0].actor_id == user_named(session, "qa.lead").id


def test_the_diagram_data_marks_steps_and_the_path_taken(qa, council):
    data = qa.get(f"/instances/{council['graded']['instance']}/diagram").get_json()
    assert data["xml"].startswith("<?xml") and "bpmndi" in data["xml"]
    states = data["states"]
    assert states["grade_audit"] == "completed" and states["store_grading"] == "completed"
    assert states["acknowledge_escalation"] == "active" and states["add_reflections"] == "active"
    assert "moderate_audit" not in states and "confirm_closure" not in states
    assert ["complete_audit_tool", "store_findings"] in data["path"] and ["store_findings", "record_feedback"] in data["path"]
    assert all(states.get(source) == "completed" and target in states for source, target in data["path"])

    failed = qa.get(f"/instances/{council['scoring']['instance']}/diagram").get_json()
    assert failed["states"]["compute_band"] == "failed" and failed["states"]["record"] == "completed"
    assert "BPMNDiagram" in failed["xml"]  # published without a diagram: laid out for display


def test_a_version_page_counts_open_instances_per_step(qa, council, session):
    version_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "case_file_audit"))
    scoring_id = session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "scoring"))
    session.rollback()
    counts = qa.get(f"/instances/versions/{version_id}/diagram").get_json()["counts"]
    assert counts["prepare_audit"] == {"waiting": 1} and counts["review_action"] == {"waiting": 1}
    assert counts["acknowledge_escalation"] == {"waiting": 1} and counts["add_reflections"] == {"waiting": 1}
    page = qa.get(f"/instances/versions/{version_id}").text
    assert 'data-status="running"' in page and "Prepare the audit" in page
    assert qa.get(f"/instances/versions/{scoring_id}/diagram").get_json()["counts"] == {"compute_band": {"failed": 1}}
