"""The master audit actions tracker over HTTP: filters, updates with evidence, the QA
lead's verification, XLSX and CSV exports, and the end-of-cycle distribution.

The `council` of tests/test_monitoring.py gives three actions: the Inadequate audit's
A1 (Disabled Children; owner the case's worker) and the Good audit's A1 (worker) and
A2 (team manager) in Front Door and Assessment, all due in January 2027.
"""
import csv
import io
import json
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.notification_models import Notification, OutboxEmail
from engine.qa.models import Audit, AuditAction, Service
from engine.runtime.models import Event
from tests.conftest import sign_in
from tests.test_monitoring import council  # noqa: F401  (the fixture)
from tests.test_web_lifecycle import read


@pytest.fixture
def actions(council, session):  # noqa: F811
    """Each action by a short name, with what the tests need to know of it."""
    def query(s):
        known = {}
        for name in ("graded", "actions"):
            audit = s.get(Audit, council[name]["id"])
            for action in s.scalars(select(AuditAction).where(AuditAction.audit_id == audit.id).order_by(AuditAction.ref)):
                owner = s.get(User, action.owner_id)
                known[f"{name}.{action.ref}"] = {
                    "id": action.id, "audit": audit.reference, "service": audit.service_id, "team": audit.team_id,
                    "owner": owner.id, "owner_login": owner.username, "hos": s.get(Service, audit.service_id).head_of_service_id}
        return known
    return read(session, query)


def browser(app, username):
    client = app.test_client()
    sign_in(client, username)
    return client


def rows(client, query: str = "") -> set[int]:
    page = client.get(f"/tracker?{query}")
    assert page.status_code == 200, page.text
    return {int(part.split('"')[0]) for part in page.text.split('data-action="')[1:]}


def ids(actions, *names) -> set[int]:
    return {actions[name]["id"] for name in names}


def complete(client, action_id: int, evidence: str = "Chronology updated 04/01/2027", on: date | None = None):
    on = on or clock.today()
    return client.post(f"/tracker/actions/{action_id}", data={
        "action": "update", "status": "completed", "evidence": evidence,
        "completed_on-day": on.day, "completed_on-month": on.month, "completed_on-year": on.year})


def test_every_filter_of_the_tracker(app, actions, council):  # noqa: F811
    qa = browser(app, "qa.lead")
    everything = set(ids(actions, *actions))
    assert len(everything) == 3 and rows(qa) == everything
    worker = actions["actions.A1"]["owner"]
    cases = {
        f"service={actions['graded.A1']['service']}": {"graded.A1"},
        f"team={actions['actions.A1']['team']}": {"actions.A1", "actions.A2"},
        f"owner={worker}": {"actions.A1"},
        f"q={actions['graded.A1']['audit']}": {"graded.A1"},
        f"q={council['actions']['case']}": {"actions.A1", "actions.A2"},
        "status=not_started": {"graded.A1", "actions.A1", "actions.A2"},
        "status=completed": set(),
        "overdue=yes": set(),
        "verification=awaiting": set(),
    }
    for query, expected in cases.items():
        assert rows(qa, query) == ids(actions, *expected), query
    clock.set(clock.now().replace(year=2027, month=1, day=20))
    sign_in(qa, "qa.lead")  # months later: the earlier session has expired
    assert rows(qa, "overdue=yes") == everything
    assert 'govuk-tag--red">Overdue' in qa.get("/tracker").text
    assert rows(qa, f"overdue=yes&service={actions['graded.A1']['service']}") == ids(actions, "graded.A1")
    bad = qa.get("/tracker?status=lost&team=x")
    assert bad.status_code == 200 and "There is no status" in bad.text and "Team must be chosen" in bad.text


def test_people_see_the_actions_of_the_audits_they_may_see(app, actions):
    assert rows(browser(app, "hos.disabled")) == ids(actions, "graded.A1")
    assert rows(browser(app, "hos.frontdoor")) == ids(actions, "actions.A1", "actions.A2")
    # The case's worker sees their audit's actions, their own and their manager's.
    assert rows(browser(app, actions["actions.A1"]["owner_login"])) == ids(actions, "actions.A1", "actions.A2")
    assert rows(browser(app, "cr.manager")) == ids(actions, *actions)
    assert rows(browser(app, "tm.mash2")) == set()
    assert rows(browser(app, "iro1")) == set()  # a reviewing officer sees the actions they own: none here
    hidden = browser(app, "hos.disabled").get(f"/tracker/actions/{actions['actions.A1']['id']}")
    assert hidden.status_code == 404


def test_an_owner_updates_with_evidence_and_the_trail_keeps_before_and_after(app, actions, session):
    action = actions["actions.A1"]
    owner = browser(app, action["owner_login"])
    no_evidence = owner.post(f"/tracker/actions/{action['id']}", data={"action": "update", "status": "completed"})
    assert no_evidence.status_code == 422 and "Enter the evidence" in no_evidence.text
    future = complete(owner, action["id"], on=clock.today() + timedelta(days=2))
    assert future.status_code == 422 and "cannot be in the future" in future.text
    nonsense = owner.post(f"/tracker/actions/{action['id']}", data={"action": "update", "status": "completed",
                                                                   "evidence": "x", "completed_on-day": "40",
                                                                   "completed_on-month": "1", "completed_on-year": "2027"})
    assert nonsense.status_code == 422 and "must be a real date" in nonsense.text
    assert read(session, lambda s: s.get(AuditAction, action["id"]).status) == "not_started"

    other_owner = browser(app, actions["actions.A2"]["owner_login"])
    assert other_owner.post(f"/tracker/actions/{action['id']}", data={"action": "update", "status": "in_progress"}
                            ).status_code == 403  # sees it (their team), may not change it
    assert complete(owner, action["id"]).status_code == 302
    stored = read(session, lambda s: (s.get(AuditAction, action["id"]).status, s.get(AuditAction, action["id"]).evidence,
                                      s.get(AuditAction, action["id"]).completed_on))
    assert stored == ("completed", "Chronology updated 04/01/2027", clock.today())
    payload = read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(Event.kind == "action.updated"))))
    assert payload["action"] == "A1" and payload["before"]["status"] == "not_started"
    assert payload["after"] == {"status": "completed", "evidence": "Chronology updated 04/01/2027",
                                "completed_on": clock.today().isoformat(), "verified_by_id": None}


def test_the_qa_lead_verifies_completed_actions_only(app, actions, session):
    action = actions["graded.A1"]
    qa = browser(app, "qa.lead")
    refused = qa.post(f"/tracker/actions/{action['id']}", data={"action": "verify"})
    assert refused.status_code == 422 and "Only a completed or cancelled action can be verified" in refused.text
    assert complete(browser(app, "qa.officer1"), action["id"]).status_code == 302  # the QA team may update any
    assert rows(qa, "verification=awaiting") == ids(actions, "graded.A1")
    manager = browser(app, "hos.disabled")
    assert manager.post(f"/tracker/actions/{action['id']}", data={"action": "verify"}).status_code == 403
    assert qa.post(f"/tracker/actions/{action['id']}", data={"action": "verify"}).status_code == 302
    lead = read(session, lambda s: s.scalar(select(User.id).where(User.username == "qa.lead")))
    assert read(session, lambda s: s.get(AuditAction, action["id"]).verified_by_id) == lead
    assert rows(qa, "verification=verified") == ids(actions, "graded.A1")
    assert rows(qa, "verification=awaiting") == set()
    verified = read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(Event.kind == "action.verified"))))
    assert verified["before"]["verified_by_id"] is None and verified["after"]["verified_by_id"] == lead

    # Taking a verified action back from completed drops the verification.
    assert qa.post(f"/tracker/actions/{action['id']}", data={"action": "update", "status": "in_progress",
                                                            "evidence": "Reopened: chronology incomplete"}).status_code == 302
    assert read(session, lambda s: s.get(AuditAction, action["id"]).verified_by_id) is None


def test_exports_in_csv_and_xlsx(app, actions, session):
    trick = actions["actions.A2"]["id"]
    def formula(s):
        s.get(AuditAction, trick).description = '=HYPERLINK("http://example.invalid","click")'
        s.commit()
    read(session, formula)
    qa = browser(app, "qa.lead")
    response = qa.get(f"/tracker/export.csv?service={actions['actions.A1']['service']}")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [(row["Reference"], row["Ref"]) for row in table] == [(actions["actions.A1"]["audit"], "A1"),
                                                             (actions["actions.A1"]["audit"], "A2")]
    assert table[1]["Action"].startswith("'=HYPERLINK")  # never run as a formula
    assert table[0]["Status"] == "Not started" and table[0]["Due"] == "2027-01-11"

    book = load_workbook(io.BytesIO(qa.get("/tracker/export.xlsx").data))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    assert header[:9] == ["Source activity", "Reference", "Case reference", "Service", "Team", "Agency", "Area", "Ref",
                          "Action"]
    assert sheet.max_row == 4
    formulas = [cell for row in sheet.iter_rows(min_row=2) for cell in row if str(cell.value).startswith("=")]
    assert formulas and all(cell.data_type == "s" for cell in formulas)
    exported = read(session, lambda s: [json.loads(p) for p in s.scalars(
        select(Event.payload).where(Event.kind == "tracker.exported").order_by(Event.seq))])
    assert [(e["format"], e["rows"]) for e in exported] == [("csv", 2), ("xlsx", 3)]
    assert exported[0]["filters"] == {"service": actions["actions.A1"]["service"]}


def test_distribution_sends_each_head_of_service_their_actions_and_the_managers_all(app, actions, session, monkeypatch):
    monkeypatch.setenv("QA_SMTP_HOST", "127.0.0.1")  # email on, so the XLSX goes into the outbox
    assert browser(app, "qa.officer1").post("/tracker/distribute").status_code == 403
    qa = browser(app, "qa.lead")
    assert "has not been distributed yet" in qa.get("/tracker/distribute").text
    sent = qa.post("/tracker/distribute", data={"cycle": ""})
    assert sent.status_code == 302
    assert "Tracker for all cycles sent to 3 people (3 actions)" in qa.get("/tracker/distribute").text

    def delivered(s):
        result = {}
        for note in s.scalars(select(Notification).where(Notification.kind == "actions_tracker")):
            email = s.scalar(select(OutboxEmail).where(OutboxEmail.notification_id == note.id))
            [attachment] = email.attachments
            sheet = load_workbook(io.BytesIO(attachment.content)).active
            result[note.recipient_id] = {"refs": sorted((row[1], row[7]) for row in sheet.iter_rows(min_row=2, values_only=True)),
                                         "link": note.link, "file": attachment.filename, "subject": note.subject}
        return result
    got = read(session, delivered)
    manager = read(session, lambda s: s.scalar(select(User.id).where(User.username == "cr.manager")))
    graded, front_door = actions["graded.A1"], actions["actions.A1"]
    assert got[graded["hos"]]["refs"] == [(graded["audit"], "A1")]
    assert got[front_door["hos"]]["refs"] == [(front_door["audit"], "A1"), (front_door["audit"], "A2")]
    assert len(got[manager]["refs"]) == 3 and set(got) == {graded["hos"], front_door["hos"], manager}
    assert got[graded["hos"]]["link"].endswith(f"/tracker?service={graded['service']}")
    assert got[manager]["file"] == "audit-actions-all-cycles.xlsx"
    recorded = read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(Event.kind == "tracker.distributed"))))
    assert recorded["rows"] == 3 and {(r["user_id"], r["rows"]) for r in recorded["recipients"]} == {
        (graded["hos"], 1), (front_door["hos"], 2), (manager, 3)}
    # In the app: the head of service finds it in their notifications and opens the tracker from it.
    head = browser(app, "hos.disabled")
    assert "Audit actions tracker: all cycles" in head.get("/notifications").text
    assert rows(head, f"service={graded['service']}") == ids(actions, "graded.A1")


def test_distribution_of_a_cycle_with_no_actions_is_refused_and_sends_nothing(app, actions, session):
    from engine.qa.cycle_models import AuditCycle
    def empty_cycle(s):
        cycle = AuditCycle(number=3, status="closed", starts_on=clock.today(), cadence_weeks=6,
                           sample_basis="per_team", sample_size=1)
        s.add(cycle)
        s.commit()
        return cycle.id
    cycle_id = read(session, empty_cycle)
    qa = browser(app, "qa.lead")
    refused = qa.post("/tracker/distribute", data={"cycle": str(cycle_id)})
    assert refused.status_code == 422 and "There are no actions to distribute" in refused.text
    assert qa.post("/tracker/distribute", data={"cycle": "nine"}).status_code == 422
    assert read(session, lambda s: s.scalar(select(Notification.id).where(Notification.kind == "actions_tracker"))) is None


def test_the_reason_an_action_is_not_completed_reaches_the_tracker_its_exports_and_copies(app, actions, session,
                                                                                            monkeypatch):
    monkeypatch.setenv("QA_SMTP_HOST", "127.0.0.1")
    action = actions["actions.A1"]
    owner = browser(app, action["owner_login"])
    refused = owner.post(f"/tracker/actions/{action['id']}", data={"action": "update", "status": "cancelled",
                                                                   "evidence": "", "not_completed_reason": " "})
    assert refused.status_code == 422 and "Enter why the action was cancelled" in refused.text
    assert read(session, lambda s: s.get(AuditAction, action["id"]).status) == "not_started"
    reason = "The family moved out of area; the receiving council holds the plan now."
    saved = owner.post(f"/tracker/actions/{action['id']}", data={"action": "update", "status": "in_progress",
                                                                 "evidence": "", "not_completed_reason": reason})
    assert saved.status_code == 302
    assert read(session, lambda s: s.get(AuditAction, action["id"]).not_completed_reason) == reason
    qa = browser(app, "qa.lead")
    assert f"Not completed: {reason}" in qa.get(f"/tracker?q={action['audit']}").text
    sheet = load_workbook(io.BytesIO(qa.get("/tracker/export.xlsx").data)).active
    header = [cell.value for cell in sheet[1]]
    column = header.index("Reason not completed")
    by_ref = {(row[1], row[7]): row[column] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert by_ref[(action["audit"], "A1")] == reason and by_ref[(action["audit"], "A2")] in (None, "")
    table = list(csv.DictReader(io.StringIO(qa.get("/tracker/export.csv").data.decode("utf-8-sig"))))
    assert [row["Reason not completed"] for row in table if row["Ref"] == "A1" and row["Reference"] == action["audit"]] == [reason]
    assert qa.post("/tracker/distribute", data={"cycle": ""}).status_code == 302

    def copy_for_head_of_service(s):
        note = s.scalar(select(Notification).where(Notification.kind == "actions_tracker",
                                                   Notification.recipient_id == action["hos"]))
        [attachment] = s.scalar(select(OutboxEmail).where(OutboxEmail.notification_id == note.id)).attachments
        copy = load_workbook(io.BytesIO(attachment.content)).active
        return [row[column] for row in copy.iter_rows(min_row=2, values_only=True) if row[7] == "A1"]
    assert read(session, copy_for_head_of_service) == [reason]
    done = complete(owner, action["id"])
    assert done.status_code == 302
    assert read(session, lambda s: s.get(AuditAction, action["id"]).not_completed_reason) is None


def test_a_completion_date_before_the_action_was_agreed_is_refused(app, actions, session):
    action = actions["actions.A1"]
    graded = read(session, lambda s: s.get(Audit, s.get(AuditAction, action["id"]).audit_id).graded_at.date())
    owner = browser(app, action["owner_login"])
    refused = complete(owner, action["id"], on=graded - timedelta(days=1))
    assert refused.status_code == 422 and "cannot be before the action was agreed" in refused.text
    assert "cannot be in the future" in complete(owner, action["id"], on=clock.today() + timedelta(days=1)).text
    assert read(session, lambda s: s.get(AuditAction, action["id"]).status) == "not_started"
