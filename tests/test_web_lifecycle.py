"""Whole audits walked through the web pages, signed in as each real person in turn.

Each person uses their own browser (test client): they find the task in their inbox,
open it, and post the form exactly as the page names its fields. The tests then
check the audit record, the trackers and the verified audit trail in the database.
"""
import json

from sqlalchemy import func, select

from engine.accounts import User
from engine.qa.models import AreaGrade, Audit, AuditAction, Case, Escalation, Reflection, Team
from engine.runtime.events import verify_chain
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.registry import FORMS_DIR
from tests import answers
from tests.conftest import sign_in
from webapp.form_rendering import as_posted_form


def read(session, query):
    """Run `query(session)` and end the read at once: SQLite takes the write lock when a
    transaction begins, and the app under test must be free to write."""
    try:
        return query(session)
    finally:
        session.rollback()


class Browsers:
    """One signed-in test client per person, made on first use."""

    def __init__(self, app):
        self.app, self.clients = app, {}

    def __getitem__(self, username: str):
        if username not in self.clients:
            self.clients[username] = self.app.test_client()
            sign_in(self.clients[username], username)
        return self.clients[username]


def username_of(session, user_id: int) -> str:
    return read(session, lambda s: s.get(User, user_id).username)


def people_of(session, audit_id: int) -> dict[str, str]:
    """The usernames of everyone the audit names, by their part in it."""
    def query(s):
        audit = s.get(Audit, audit_id)
        return {part: s.get(User, getattr(audit, f"{part}_id")).username
                for part in ("auditor", "moderator", "worker", "team_manager", "head_of_service")}
    return read(session, query)


def open_tasks(session, instance_id: int, spec_name: str) -> list[tuple[int, str]]:
    """(id, form file) of the READY tasks of one kind in an instance."""
    return read(session, lambda s: [(t.id, t.form_key) for t in s.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.spec_name == spec_name,
                                HumanTask.state == "ready").order_by(HumanTask.id))])


def posted(form_key: str, data: dict, action: str = "complete") -> dict:
    schema = json.loads((FORMS_DIR / form_key).read_text())
    return {**as_posted_form(schema, data), "action": action}


def case_outside_team_of(session, username: str, skip: int = 0) -> str:
    """A case reference from a team the user does not manage."""
    def query(s):
        manager = s.scalar(select(User).where(User.username == username))
        return s.scalars(select(Case.reference).join(Team).where(Team.manager_id != manager.id)
                         .order_by(Case.id).offset(skip).limit(1)).one()
    return read(session, query)


def allocate_through_the_page(session, browsers, case_reference: str, auditor="tm.mash1", moderator="hos.cincp") -> int:
    """The QA lead allocates on the allocation page; returns the new audit's id."""
    ids = read(session, lambda s: {name: s.scalar(select(User.id).where(User.username == name))
                                   for name in (auditor, moderator)})
    qa = browsers["qa.lead"]
    page = qa.get("/audits/allocate")
    assert page.status_code == 200 and f'value="{ids[auditor]}"' in page.text
    response = qa.post("/audits/allocate", data={
        "case_reference": case_reference.lower(), "auditor_id": ids[auditor], "moderator_id": ids[moderator],
        "audit_type": "random", "due_on-day": "", "due_on-month": "", "due_on-year": ""})
    assert response.status_code == 302, response.text
    audit_id = int(response.location.rsplit("/", 1)[1])
    audit_page = qa.get(response.location)
    def from_the_case_record(s):
        case = s.scalar(select(Case).where(Case.reference == case_reference))
        return s.get(User, case.worker_id).display_name, s.get(User, case.team.manager_id).display_name
    worker, manager = read(session, from_the_case_record)
    assert audit_page.status_code == 200 and "allocated" in audit_page.text
    assert worker in audit_page.text and manager in audit_page.text  # from the case record
    return audit_id


def do_task(session, browsers, audit_id: int, spec_name: str, username: str, data: dict, *, index: int = 0):
    """`username` finds the task in their inbox, opens it and completes it. Returns the task page."""
    instance_id = read(session, lambda s: s.get(Audit, audit_id).instance_id)
    tasks = open_tasks(session, instance_id, spec_name)
    assert tasks, f"{spec_name} is not open"
    task_id, form_key = tasks[index]
    browser = browsers[username]
    assert f'href="/tasks/{task_id}"' in browser.get("/inbox").text, f"{spec_name} is not in {username}'s inbox"
    page = browser.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and 'name="action" value="complete"' in page.text
    response = browser.post(f"/tasks/{task_id}", data=posted(form_key, data))
    assert response.status_code == 302 and response.location.endswith("/inbox"), response.text
    assert "Task completed" in browser.get("/inbox").text
    return page


def event_kinds(session, instance_id: int, audit_id: int) -> set[str]:
    return set(read(session, lambda s: s.scalars(select(Event.kind).where(
        (Event.instance_id == instance_id) | ((Event.subject_type == "audit") & (Event.subject_id == str(audit_id)))))))


def grade_and_reflect(session, browsers, audit_id, who, grade="good", actions=2, reflection=answers.REFLECTION):
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool(grade)),
                       ("record_feedback", answers.FEEDBACK),
                       ("grade_audit", answers.grading(grade, actions=actions))):
        do_task(session, browsers, audit_id, spec, who["auditor"], data)
    do_task(session, browsers, audit_id, "add_reflections", who["worker"], reflection)


def test_a_good_audit_from_allocation_to_closure_by_the_qa_lead(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1"))
    who = people_of(session, audit_id)
    assert who["auditor"] == "tm.mash1" and who["moderator"] == "hos.cincp"
    grade_and_reflect(session, browsers, audit_id, who)
    instance_id = read(session, lambda s: s.get(Audit, audit_id).instance_id)
    assert open_tasks(session, instance_id, "acknowledge_escalation") == []

    moderation_page = do_task(session, browsers, audit_id, "moderate_audit", who["moderator"], answers.MODERATION_AGREED)
    assert "Evidence supports good for planning" in moderation_page.text  # the auditor's rationale, by area

    for _ in range(2):
        review_page = do_task(session, browsers, audit_id, "review_action", who["team_manager"], answers.action_review())
        assert "The action to review" in review_page.text and "Update the chronology with partner events" in review_page.text

    closure_id, _ = open_tasks(session, instance_id, "confirm_closure")[0]
    qa = browsers["qa.lead"]
    inbox = qa.get("/inbox").text
    assert inbox.index(f'href="/tasks/{closure_id}"') > inbox.index("Tasks your role can claim")
    claimed = qa.post(f"/tasks/{closure_id}", data={"action": "claim"})
    assert claimed.status_code == 302
    assert read(session, lambda s: s.get(HumanTask, closure_id).assignee_id) is not None
    do_task(session, browsers, audit_id, "confirm_closure", "qa.lead", answers.CLOSURE)

    page = qa.get(f"/audits/{audit_id}")
    assert page.status_code == 200 and 'govuk-tag--green">Closed</strong>' in page.text and "Audit closed" in page.text
    assert "Audit graded" in page.text and "Action reviewed" in page.text

    def outcome(s):
        audit = s.get(Audit, audit_id)
        qa_lead_id = s.scalar(select(User.id).where(User.username == "qa.lead"))
        actions = s.scalars(select(AuditAction).where(AuditAction.audit_id == audit_id).order_by(AuditAction.id)).all()
        return {"status": audit.status, "grade": audit.overall_grade, "moderated": audit.moderated_grade,
                "outcome": audit.moderation_outcome, "closure": audit.closure_outcome,
                "grades": s.scalar(select(func.count(AreaGrade.id)).where(AreaGrade.audit_id == audit_id)),
                "actions": [(a.ref, a.status, a.verified_by_id == qa_lead_id) for a in actions],
                "reflection": s.get(Reflection, audit_id).agrees_with_grade,
                "instance": s.get(ProcessInstance, audit.instance_id).status,
                "chain": verify_chain(s).ok}
    assert read(session, outcome) == {
        "status": "closed", "grade": "good", "moderated": "good", "outcome": "agreed", "closure": "all_completed",
        "grades": 12, "actions": [("A1", "completed", True), ("A2", "completed", True)], "reflection": True,
        "instance": "completed", "chain": True}
    assert {"audit.allocated", "instance.started", "task.viewed", "task.completed", "audit.started", "audit.graded",
            "audit.reflection_added", "audit.moderated", "action.reviewed", "task.claimed", "audit.closed",
            "instance.completed", "audit.viewed"} <= event_kinds(session, instance_id, audit_id)
    assert "audit.escalated" not in event_kinds(session, instance_id, audit_id)


def test_an_inadequate_audit_reaches_the_head_of_service_at_once(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1"))
    who = people_of(session, audit_id)
    instance_id = read(session, lambda s: s.get(Audit, audit_id).instance_id)
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool("inadequate")),
                       ("record_feedback", answers.FEEDBACK),
                       ("grade_audit", answers.grading("inadequate", actions=1))):
        do_task(session, browsers, audit_id, spec, who["auditor"], data)

    [(escalation_task, _)] = open_tasks(session, instance_id, "acknowledge_escalation")
    head = browsers[who["head_of_service"]]
    inbox = head.get("/inbox").text
    assert f'href="/tasks/{escalation_task}"' in inbox and "Acknowledge the inadequate audit" in inbox
    page = head.get(f"/tasks/{escalation_task}").text
    assert "Inadequate" in page and "The case needs immediate attention" in page
    assert open_tasks(session, instance_id, "add_reflections")  # in parallel with the escalation
    do_task(session, browsers, audit_id, "acknowledge_escalation", who["head_of_service"], answers.ACKNOWLEDGEMENT)
    assert open_tasks(session, instance_id, "moderate_audit") == []  # waits for the practitioner

    disagreeing = {**answers.REFLECTION, "agrees_with_grade": False,
                   "disagreement_reason": "The plan was working; the chronology was the gap."}
    do_task(session, browsers, audit_id, "add_reflections", who["worker"], disagreeing)
    assert open_tasks(session, instance_id, "moderate_audit")

    def outcome(s):
        escalation = s.scalar(select(Escalation).where(Escalation.audit_id == audit_id))
        return {"reason": escalation.reason, "acknowledged": escalation.acknowledged_at is not None,
                "immediate": escalation.immediate_actions, "status": s.get(Audit, audit_id).status,
                "agrees": s.get(Reflection, audit_id).agrees_with_grade,
                "actions": [a.status for a in s.scalars(select(AuditAction).where(AuditAction.audit_id == audit_id))],
                "chain": verify_chain(s).ok}
    assert read(session, outcome) == {"reason": "inadequate", "acknowledged": True,
                                      "immediate": answers.ACKNOWLEDGEMENT["immediate_actions"],
                                      "status": "awaiting_moderation", "agrees": False,
                                      "actions": ["not_started"], "chain": True}
    record = browsers["qa.lead"].get(f"/audits/{audit_id}").text
    assert "Escalations to the head of service" in record and answers.ACKNOWLEDGEMENT["immediate_actions"] in record
    assert "The plan was working; the chronology was the gap." in record
    assert {"audit.escalated", "audit.escalation_acknowledged", "audit.reflection_added"} <= \
        event_kinds(session, instance_id, audit_id)


def test_a_moderator_who_disagrees_keeps_both_grades_and_records_the_discussion(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1"))
    who = people_of(session, audit_id)
    instance_id = read(session, lambda s: s.get(Audit, audit_id).instance_id)
    grade_and_reflect(session, browsers, audit_id, who, actions=0)

    moderation_page = do_task(session, browsers, audit_id, "moderate_audit", who["moderator"],
                              answers.moderation_disagreed("requires_improvement"))
    assert "Grades by area" in moderation_page.text and "Evidence supports good for child_voice" in moderation_page.text
    assert open_tasks(session, instance_id, "reflective_discussion")
    do_task(session, browsers, audit_id, "reflective_discussion", who["moderator"], answers.DISCUSSION)
    do_task(session, browsers, audit_id, "confirm_closure", "qa.lead", answers.CLOSURE)

    def outcome(s):
        audit = s.get(Audit, audit_id)
        grades = {(g.area, g.stage): g.grade for g in s.scalars(select(AreaGrade).where(AreaGrade.audit_id == audit_id))}
        moderated = s.scalar(select(Event.payload).where(Event.kind == "audit.moderated",
                                                         Event.subject_id == str(audit_id)))
        return {"overall": audit.overall_grade, "moderated": audit.moderated_grade,
                "outcome": audit.moderation_outcome, "discussion": audit.discussion_date.isoformat(),
                "planning": (grades[("planning", "auditor")], grades[("planning", "moderator")]),
                "voice": (grades[("child_voice", "auditor")], grades[("child_voice", "moderator")]),
                "event": {k: json.loads(moderated)[k] for k in ("grade_before", "grade_after", "outcome")},
                "status": audit.status, "chain": verify_chain(s).ok}
    assert read(session, outcome) == {
        "overall": "good", "moderated": "requires_improvement", "outcome": "disagreed",
        "discussion": answers.DISCUSSION["discussion_date"],
        "planning": ("good", "requires_improvement"), "voice": ("good", "good"),
        "event": {"grade_before": "good", "grade_after": "requires_improvement", "outcome": "disagreed"},
        "status": "closed", "chain": True}

    record = browsers["qa.lead"].get(f"/audits/{audit_id}").text
    planning_row = record[record.index("Quality of planning</th>"):]
    planning_row = planning_row[:planning_row.index("</tr>")]
    assert "Good" in planning_row and "Requires improvement to be good" in planning_row and "Changed" in planning_row
    assert "Disagreed" in record and answers.DISCUSSION["discussion_summary"] in record
    assert "Grade before moderation: Good" in record and "Grade after moderation: Requires improvement to be good" in record
