"""The inbox for real workloads: filters, sort, search and a count per tab, on the page and
over the API, read from the task projection in a fixed number of SQL statements."""
import re
from datetime import datetime, time, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import event, select, update

from engine.clock import clock
from engine.migrations import alembic_config, upgrade
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Audit, Case, Team
from engine.runtime.instances import complete_task
from engine.runtime.models import HumanTask
from tests import answers
from tests.conftest import user_named
from tests.test_api import bearer, token_for
from tests.test_web_lifecycle import Browsers, read
from webapp.extensions import db

AUDITOR, MODERATOR = "tm.mash1", "hos.cincp"


def allocate_three(session) -> list[dict]:
    """Three audits for the same auditor, from three teams, due in 3, 10 and 20 days."""
    qa_lead, auditor, moderator = (user_named(session, name) for name in ("qa.lead", AUDITOR, MODERATOR))
    cases, seen_teams = [], set()
    for case in session.scalars(select(Case).join(Team).where(Team.manager_id != auditor.id, Case.status == "open",
                                                              Case.worker_id.is_not(None)).order_by(Case.id)):
        if case.team_id not in seen_teams:
            seen_teams.add(case.team_id)
            cases.append(case)
        if len(cases) == 3:
            break
    made = []
    for case, days in zip(cases, (3, 10, 20)):
        audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id,
                                                          due_on=clock.today() + timedelta(days=days)), qa_lead)
        session.flush()
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id))
        made.append({"audit": audit.reference, "case": case.reference, "team_id": audit.team_id,
                     "task": task.id, "task_team": task.team_id, "due_on": audit.due_on})
    session.commit()
    return made


@pytest.fixture
def three(session):
    return allocate_three(session)


def task_links(page: str, tab: str) -> set[int]:
    """The task ids linked from one tab's panel of the inbox page."""
    panel = page.split(f'id="tab-{tab}"')[1].split('class="govuk-tabs__panel')[0]
    return {int(number) for number in re.findall(r'href="/tasks/(\d+)"', panel)}


def test_a_new_task_carries_the_team_of_the_audit_it_is_about(three):
    assert [made["task_team"] for made in three] == [made["team_id"] for made in three]
    assert len({made["team_id"] for made in three}) == 3


def test_each_tab_shows_its_count_and_the_search_finds_a_case_or_an_audit(app, session, three):
    auditor = Browsers(app)[AUDITOR]
    page = auditor.get("/inbox").text
    assert "Assigned to you (3)" in page and "Completed (0)" in page
    assert task_links(page, "assigned") == {made["task"] for made in three}

    by_case = auditor.get("/inbox", query_string={"q": three[1]["case"].lower()}).text
    assert task_links(by_case, "assigned") == {three[1]["task"]} and "Assigned to you (1)" in by_case
    by_audit = auditor.get("/inbox", query_string={"q": three[2]["audit"][-5:]}).text
    assert task_links(by_audit, "assigned") == {three[2]["task"]}
    nothing = auditor.get("/inbox", query_string={"q": "NO-SUCH-REF"}).text
    assert "No task here matches these filters." in nothing and "Assigned to you (0)" in nothing


def test_the_filters_narrow_every_tab_and_the_completed_tab_counts_too(app, session, three):
    done = read(session, lambda s: s.get(HumanTask, three[0]["task"]))
    complete_task(session, done.id, user_named(session, AUDITOR), answers.PREPARE)
    session.commit()
    auditor = Browsers(app)[AUDITOR]
    page = auditor.get("/inbox").text
    assert "Completed (1)" in page and three[0]["case"] in page.split('id="tab-completed"')[1]

    by_team = auditor.get("/inbox", query_string={"team": three[1]["team_id"]}).text
    assert task_links(by_team, "assigned") == {three[1]["task"]} and "Completed (0)" in by_team
    by_task = auditor.get("/inbox", query_string={"task": "prepare_audit", "process": "case_file_audit"}).text
    assert task_links(by_task, "assigned") == {three[1]["task"], three[2]["task"]}
    assert task_links(by_task, "completed") == {three[0]["task"]}
    assert "Assigned to you (0)" in auditor.get("/inbox", query_string={"process": "audit_cycle"}).text


def test_due_filters_and_sorting(app, session, three):
    clock.set(datetime.combine(three[0]["due_on"] + timedelta(days=1), time(12), tzinfo=timezone.utc))
    auditor = Browsers(app)[AUDITOR]
    overdue = auditor.get("/inbox", query_string={"due": "overdue"}).text
    assert task_links(overdue, "assigned") == {three[0]["task"]} and "Overdue</strong>" in overdue
    soon = auditor.get("/inbox", query_string={"due": "week"}).text
    assert task_links(soon, "assigned") == {three[1]["task"]}

    newest_first = auditor.get("/inbox", query_string={"sort": "due", "direction": "desc"}).text
    order = [int(n) for n in re.findall(r'href="/tasks/(\d+)"', newest_first.split('id="tab-assigned"')[1])]
    assert order == [three[2]["task"], three[1]["task"], three[0]["task"]]


def test_bad_filter_values_are_named_and_the_inbox_still_lists(app, three):
    auditor = Browsers(app)[AUDITOR]
    response = auditor.get("/inbox", query_string={"team": "abc", "due": "someday", "sort": "colour"})
    assert response.status_code == 200
    page = response.text
    assert "There is a problem" in page and "Team must be chosen from the list" in page
    assert "There is no due &#39;someday&#39;" in page and "There is no sort &#39;colour&#39;" in page
    assert task_links(page, "assigned") == {made["task"] for made in three}


def test_the_api_takes_the_same_filters_and_counts(app, three):
    client = app.test_client()
    token = token_for(client, AUDITOR)
    listing = client.get("/api/v1/tasks", headers=bearer(token)).get_json()
    assert listing["counts"] == {"assigned": 3, "claimable": 0, "completed": 0}
    assert {task["id"] for task in listing["assigned"]} == {made["task"] for made in three}
    assert all(task["team_id"] in {made["team_id"] for made in three} for task in listing["assigned"])

    narrowed = client.get("/api/v1/tasks", query_string={"q": three[1]["case"], "team": three[1]["team_id"]},
                          headers=bearer(token)).get_json()
    assert [task["id"] for task in narrowed["assigned"]] == [three[1]["task"]]
    assert narrowed["counts"]["assigned"] == 1

    paged = client.get("/api/v1/tasks", query_string={"per_page": 2, "page": 2, "sort": "due"},
                       headers=bearer(token)).get_json()
    assert [task["id"] for task in paged["assigned"]] == [three[2]["task"]]
    assert (paged["page"], paged["pages"], paged["counts"]["assigned"]) == (2, 2, 3)


def test_the_api_refuses_bad_filter_values_field_by_field(app, three):
    client = app.test_client()
    response = client.get("/api/v1/tasks", query_string={"team": "abc", "due": "someday", "page": 0,
                                                         "tab": "drafts", "per_page": 1000},
                          headers=bearer(token_for(client, AUDITOR)))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"team", "due", "page", "tab", "per_page"} <= {key.split(".")[-1] for key in errors}


def count_inbox_statements(app, client, username: str, path: str) -> int:
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731  (before_cursor_execute's statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def give_tasks(session, template: HumanTask, username: str, how_many: int) -> None:
    """`how_many` open tasks like `template` in `username`'s projection rows (the inbox reads nothing else)."""
    person = user_named(session, username)
    for number in range(how_many):
        session.add(HumanTask(instance_id=template.instance_id, task_uuid=f"bulk-{username}-{number}", spec_name="prepare_audit",
                              title=f"Bulk task {number}", lane="Auditor", role="team_manager", assignee_id=person.id,
                              business_key=f"AUD-BULK-{number:05d}", subject=f"CS-BULK-{number}",
                              team_id=template.team_id, due_on=clock.today() + timedelta(days=number % 9)))
    session.commit()


@pytest.mark.parametrize("path", ["/inbox", "/inbox?q=bulk&sort=subject&direction=desc",
                                  "/api/v1/tasks", "/api/v1/tasks?due=week&page=2&per_page=10"])
def test_listing_costs_the_same_statements_for_5_and_50_tasks(app, session, three, path):
    template = session.get(HumanTask, three[0]["task"])
    give_tasks(session, template, "tm.cic1", 5)
    give_tasks(session, template, "tm.safeguarding1", 50)
    counts = []
    for username in ("tm.cic1", "tm.safeguarding1"):
        client = Browsers(app)[username]
        if path.startswith("/api"):
            client.environ_base["HTTP_AUTHORIZATION"] = bearer(token_for(client, username))["Authorization"]
        client.get(path)  # the first request parses the models once, as any server does
        counts.append(count_inbox_statements(app, client, username, path))
    assert counts[0] == counts[1], counts


def test_the_migration_fills_the_team_of_tasks_already_open(database_url, session, three):
    session.execute(update(HumanTask).values(team_id=None))
    session.commit()
    session.close()
    session.bind.dispose()
    command.downgrade(alembic_config(database_url), "0008")
    upgrade(database_url)
    teams = dict(session.execute(select(HumanTask.id, HumanTask.team_id)).all())
    audits = dict(session.execute(select(Audit.reference, Audit.team_id)).all())
    assert [teams[made["task"]] for made in three] == [audits[made["audit"]] for made in three]


def test_an_audit_started_before_team_key_gives_its_later_tasks_the_team_the_migration_set(session, monkeypatch):
    from engine.qa import allocation
    started_without_team = allocation.start_instance

    def old_start(session, key, data, **kwargs):  # what allocation passed before the team was in the data
        return started_without_team(session, key, {k: v for k, v in data.items() if k != "team_id"}, **kwargs)

    monkeypatch.setattr(allocation, "start_instance", old_start)
    [made, *_] = allocate_three(session)
    assert made["task_team"] is None
    session.execute(update(HumanTask).where(HumanTask.id == made["task"]).values(team_id=made["team_id"]))
    complete_task(session, made["task"], user_named(session, AUDITOR), answers.PREPARE)
    session.commit()
    instance_id = session.get(HumanTask, made["task"]).instance_id
    later = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                    HumanTask.state == "ready")).all()
    assert later and {task.team_id for task in later} == {made["team_id"]}
