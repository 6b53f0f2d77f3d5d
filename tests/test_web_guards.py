"""What the web pages refuse, and that a refusal changes nothing (but keeps what was typed)."""
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import func, select

from engine.accounts import User
from engine.clock import clock
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Audit, AuditAction, Case, Team
from engine.runtime.instances import _load, complete_task
from engine.runtime.models import Event, HumanTask, ProcessInstance, TaskDraft
from tests import answers
from tests.conftest import sign_in, user_named
from tests.test_web_lifecycle import Browsers, open_tasks, posted, read


def allocated(session, case_index: int = 0) -> dict:
    """An audit allocated through the engine (the pages under test come after it)."""
    qa_lead, auditor, moderator = (user_named(session, name) for name in ("qa.lead", "tm.mash1", "hos.cincp"))
    case = session.scalars(select(Case).join(Team).where(Team.manager_id != auditor.id)
                           .order_by(Case.id).offset(case_index).limit(1)).one()
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id), qa_lead)
    session.commit()
    worker = session.get(User, audit.worker_id)
    facts = {"id": audit.id, "instance_id": audit.instance_id, "team_id": audit.team_id, "case": case.reference,
             "worker": worker.username, "worker_id": worker.id, "auditor_id": auditor.id,
             "moderator_id": moderator.id}
    session.rollback()
    return facts


def revision(session, instance_id: int) -> int:
    return read(session, lambda s: s.get(ProcessInstance, instance_id).revision)


def count(session, model, *where) -> int:
    return read(session, lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


def practitioner_elsewhere(session, team_id: int) -> str:
    return read(session, lambda s: s.scalar(select(User.username).where(
        User.team_id != team_id, User.username.like("sw.%")).order_by(User.id)))


def test_a_task_that_is_not_yours_is_refused_and_nothing_changes(app, session):
    audit = allocated(session)
    [(task_id, form_key)] = open_tasks(session, audit["instance_id"], "prepare_audit")
    before = revision(session, audit["instance_id"])
    browsers = Browsers(app)

    stranger = browsers[practitioner_elsewhere(session, audit["team_id"])]
    assert stranger.get(f"/tasks/{task_id}").status_code == 403
    assert stranger.post(f"/tasks/{task_id}", data=posted(form_key, answers.PREPARE)).status_code == 403

    worker = browsers[audit["worker"]]  # may see the audit of their own case, but this is the auditor's task
    page = worker.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and 'value="complete"' not in page.text and "This task is for" in page.text
    refused = worker.post(f"/tasks/{task_id}", data=posted(form_key, answers.PREPARE))
    assert refused.status_code == 403 and "This task is not yours." in refused.text
    assert worker.post(f"/tasks/{task_id}", data=posted(form_key, answers.PREPARE, "save")).status_code == 403

    assert revision(session, audit["instance_id"]) == before
    assert read(session, lambda s: s.get(HumanTask, task_id).state) == "ready"
    assert count(session, TaskDraft, TaskDraft.human_task_id == task_id) == 0
    assert count(session, Event, Event.kind == "task.completed") == 0


def test_a_task_not_yet_reached_cannot_be_completed(app, session):
    audit = allocated(session)

    def forge(s):
        """A projection row pointing at a task the process has not reached (grading)."""
        instance = s.get(ProcessInstance, audit["instance_id"])
        future = next(t for t in _load(s, instance, None).get_tasks() if t.task_spec.name == "grade_audit")
        row = HumanTask(instance_id=instance.id, task_uuid=str(future.id), spec_name="grade_audit",
                        title="Grade the audit and agree actions", lane="Auditor", role="team_manager",
                        assignee_id=audit["auditor_id"], form_key="grading-schema.json",
                        business_key=instance.business_key, state="ready")
        s.add(row)
        s.commit()
        return row.id
    forged = forge(session)
    session.rollback()
    before = revision(session, audit["instance_id"])
    auditor = Browsers(app)["tm.mash1"]
    response = auditor.post(f"/tasks/{forged}", data=posted("grading-schema.json", answers.grading()))
    assert response.status_code == 409 and "it has not been reached yet" in response.text
    assert revision(session, audit["instance_id"]) == before
    assert read(session, lambda s: s.get(Audit, audit["id"]).overall_grade) is None

    missing = auditor.post("/tasks/999999", data={"action": "complete"})
    assert missing.status_code == 404 and "Page not found" in missing.text


def test_a_second_submit_names_who_completed_it_and_changes_nothing(app, session):
    audit = allocated(session)
    [(task_id, form_key)] = open_tasks(session, audit["instance_id"], "prepare_audit")
    auditor = Browsers(app)["tm.mash1"]
    assert auditor.post(f"/tasks/{task_id}", data=posted(form_key, answers.PREPARE)).status_code == 302
    after_first = revision(session, audit["instance_id"])
    name = read(session, lambda s: s.get(User, audit["auditor_id"]).display_name)

    again = auditor.post(f"/tasks/{task_id}", data=posted(form_key, {**answers.PREPARE, "preparation_notes": "Again"}))
    assert again.status_code == 409
    assert f"This task was already completed by {name} on" in again.text
    assert revision(session, audit["instance_id"]) == after_first
    assert count(session, TaskDraft, TaskDraft.human_task_id == task_id) == 0
    assert count(session, Event, Event.kind == "task.completed") == 1
    saving = auditor.post(f"/tasks/{task_id}", data=posted(form_key, answers.PREPARE, "save"))
    assert saving.status_code == 409 and f"already completed by {name}" in saving.text
    page = auditor.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and f"Completed by {name}" in page.text and 'value="complete"' not in page.text


def test_invalid_and_missing_answers_are_shown_by_their_fields_and_kept_as_a_draft(app, session):
    audit = allocated(session)
    [(task_id, form_key)] = open_tasks(session, audit["instance_id"], "prepare_audit")
    before = revision(session, audit["instance_id"])
    auditor = Browsers(app)["tm.mash1"]
    typed = {"action": "complete", "meeting_date-day": "31", "meeting_date-month": "2", "meeting_date-year": "2026",
             "preparation_notes": "<script>alert('x')</script> check school attendance"}
    response = auditor.post(f"/tasks/{task_id}", data=typed)

    assert response.status_code == 422
    page = response.text
    assert "There is a problem" in page
    assert '<a href="#file_read">Select an answer for: I have read the last 12 months' in page
    assert '<a href="#meeting_date-day">Date of the audit meeting with the allocated worker must be a real date' in page
    assert 'id="meeting_date-error"' in page and 'id="file_read-error"' in page
    assert 'name="meeting_date-day" type="text" inputmode="numeric" value="31"' in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; check school attendance" in page
    assert "<script>alert" not in page
    assert revision(session, audit["instance_id"]) == before
    draft = read(session, lambda s: s.get(TaskDraft, (task_id, audit["auditor_id"])).data)
    assert draft == {"meeting_date": "2026-02-31",
                     "preparation_notes": "<script>alert('x')</script> check school attendance"}

    reopened = auditor.get(f"/tasks/{task_id}").text
    assert "check school attendance" in reopened and "Draft saved" in reopened


def test_rows_are_added_and_removed_without_javascript_and_saved_as_a_draft(app, session):
    audit = allocated(session)
    auditor = Browsers(app)["tm.mash1"]
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool()),
                       ("record_feedback", answers.FEEDBACK)):
        [(task_id, form_key)] = open_tasks(session, audit["instance_id"], spec)
        assert auditor.post(f"/tasks/{task_id}", data=posted(form_key, data)).status_code == 302
    [(task_id, form_key)] = open_tasks(session, audit["instance_id"], "grade_audit")
    assert 'name="actions.0.action"' in auditor.get(f"/tasks/{task_id}").text

    first = posted(form_key, answers.grading(actions=1), "add_row:actions")
    added = auditor.post(f"/tasks/{task_id}", data=first)
    assert added.status_code == 200 and 'name="actions.1.action"' in added.text and "Action 2" in added.text
    assert len(read(session, lambda s: s.get(TaskDraft, (task_id, audit["auditor_id"])).data["actions"])) == 2

    two = posted(form_key, answers.grading(actions=2), "remove_row:actions:0")
    removed = auditor.post(f"/tasks/{task_id}", data=two)
    assert removed.status_code == 200 and 'name="actions.1.action"' not in removed.text
    assert "Update the chronology with partner events (2)" in removed.text
    assert "Update the chronology with partner events (1)" not in removed.text

    assert auditor.post(f"/tasks/{task_id}", data={"action": "remove_row:actions:7"}).status_code == 400

    with_blank_row = {**posted(form_key, answers.grading(actions=1)), "actions.1.action": ""}
    done = auditor.post(f"/tasks/{task_id}", data=with_blank_row)
    assert done.status_code == 302  # a row left blank is not an action
    assert count(session, Event, Event.kind == "audit.graded") == 1
    assert count(session, AuditAction, AuditAction.audit_id == audit["id"]) == 1


def test_allocation_refusals_are_shown_by_the_field_and_keep_what_was_typed(app, session):
    reference, ids = read(session, lambda s: (
        s.scalar(select(Case.reference).order_by(Case.id)),
        {"worker": s.scalar(select(Case.worker_id).order_by(Case.id).limit(1)),
         "tm": user_named(s, "tm.mash1").id, "hos": user_named(s, "hos.cincp").id}))
    qa = Browsers(app)["qa.lead"]

    def allocate(**values):
        return qa.post("/audits/allocate", data={"audit_type": "random", **values})

    unknown = allocate(case_reference="CS000000", auditor_id=ids["tm"], moderator_id=ids["hos"])
    assert unknown.status_code == 422
    assert '<a href="#case_reference">There is no open case with the reference &#39;CS000000&#39;' in unknown.text
    assert 'id="case_reference-error"' in unknown.text and 'value="CS000000"' in unknown.text
    assert f'<option value="{ids["tm"]}" selected>' in unknown.text

    same = allocate(case_reference=reference, auditor_id=ids["hos"], moderator_id=ids["hos"])
    assert same.status_code == 422 and '<a href="#moderator_id">The moderator cannot be the auditor.' in same.text

    own = allocate(case_reference=reference, auditor_id=ids["worker"], moderator_id=ids["hos"])
    assert own.status_code == 422
    assert "<a href=\"#auditor_id\">The auditor cannot be the case&#39;s own allocated worker." in own.text

    blank = qa.post("/audits/allocate", data={"due_on-day": "40", "due_on-month": "1", "due_on-year": "2027"})
    assert blank.status_code == 422
    for message in ("Enter the case reference", "Choose the auditor", "Choose the moderator",
                    "Audit due date must be a real date"):
        assert message in blank.text
    assert 'name="due_on-day" type="text" inputmode="numeric" value="40"' in blank.text

    odd_type = allocate(case_reference=reference, auditor_id=ids["tm"], moderator_id=ids["hos"],
                        audit_type="whim")
    assert odd_type.status_code == 422 and "Select the type of audit" in odd_type.text
    assert count(session, Audit) == 0


def test_only_allocators_may_allocate(app, session):
    browsers = Browsers(app)
    assert browsers["tm.mash1"].get("/audits/allocate").status_code == 403
    assert ">Allocate<" not in browsers["tm.mash1"].get("/inbox").text
    assert ">Allocate<" in browsers["qa.lead"].get("/inbox").text


def test_unknown_ids_show_a_plain_not_found_page(app, session):
    client = Browsers(app)["qa.lead"]
    for path in ("/audits/424242", "/tasks/424242"):
        response = client.get(path)
        assert response.status_code == 404 and "Page not found" in response.text
        assert "Traceback" not in response.text


def test_a_practitioner_cannot_see_another_teams_audit(app, session):
    audit = allocated(session)
    browsers = Browsers(app)
    stranger = browsers[practitioner_elsewhere(session, audit["team_id"])]
    assert stranger.get(f"/audits/{audit['id']}").status_code == 403
    assert audit["case"] not in stranger.get("/audits").text
    assert count(session, Event, Event.kind == "audit.viewed") == 0

    own = browsers[audit["worker"]]
    assert audit["case"] in own.get("/audits").text
    assert own.get(f"/audits/{audit['id']}").status_code == 200
    assert count(session, Event, Event.kind == "audit.viewed") == 1


def test_viewing_a_task_is_recorded(app, session):
    audit = allocated(session)
    [(task_id, _)] = open_tasks(session, audit["instance_id"], "prepare_audit")
    client = Browsers(app)["tm.mash1"]
    assert client.get(f"/tasks/{task_id}").status_code == 200
    assert count(session, Event, Event.kind == "task.viewed", Event.subject_id == str(task_id)) == 1


def test_signed_out_people_are_sent_to_sign_in(client):
    for path in ("/inbox", "/audits", "/audits/allocate", "/tasks/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.location
    sign_in(client, "qa.lead")
    assert client.get("/inbox").status_code == 200


def test_a_role_task_is_claimed_and_released_but_a_task_the_process_assigned_stays_put(app, session):
    audit = allocated(session)
    browsers = Browsers(app)
    [(prepare, _)] = open_tasks(session, audit["instance_id"], "prepare_audit")
    refused = browsers["tm.mash1"].post(f"/tasks/{prepare}", data={"action": "release"})
    assert refused.status_code == 403 and "assigned to you by the process" in refused.text
    assert read(session, lambda s: s.get(HumanTask, prepare).assignee_id) == audit["auditor_id"]

    auditor, worker, moderator = (session.get(User, audit[key]) for key in ("auditor_id", "worker_id", "moderator_id"))
    for spec, person, data in (("prepare_audit", auditor, answers.PREPARE),
                               ("complete_audit_tool", auditor, answers.audit_tool()),
                               ("record_feedback", auditor, answers.FEEDBACK),
                               ("grade_audit", auditor, answers.grading(actions=0)),
                               ("add_reflections", worker, answers.REFLECTION),
                               ("moderate_audit", moderator, answers.MODERATION_AGREED)):
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit["instance_id"],
                                                      HumanTask.spec_name == spec, HumanTask.state == "ready"))
        complete_task(session, task.id, person, data)
        session.commit()
    session.rollback()
    [(closure, _)] = open_tasks(session, audit["instance_id"], "confirm_closure")
    qa = browsers["qa.lead"]
    page = qa.get(f"/tasks/{closure}").text
    assert 'value="claim"' in page and 'value="complete"' in page

    assert qa.post(f"/tasks/{closure}", data={"action": "claim"}).status_code == 302
    inbox = qa.get("/inbox").text
    assert inbox.index(f'href="/tasks/{closure}"') < inbox.index("Tasks your role can claim")
    assert 'value="release"' in qa.get(f"/tasks/{closure}").text
    assert qa.post(f"/tasks/{closure}", data={"action": "release"}).status_code == 302
    assert read(session, lambda s: s.get(HumanTask, closure).assignee_id) is None
    refused = browsers["tm.mash1"].post(f"/tasks/{prepare}", data={"action": "release"})
    assert refused.status_code == 409 and "already completed" in refused.text
    assert {"task.claimed", "task.released"} <= set(read(session, lambda s: s.scalars(select(Event.kind))))


def test_a_task_past_its_due_date_is_tagged_overdue_in_the_inbox(app, session):
    audit = allocated(session)
    due_on = read(session, lambda s: s.get(Audit, audit["id"]).due_on)
    auditor = Browsers(app)["tm.mash1"]
    assert "Overdue</strong>" not in auditor.get("/inbox").text
    clock.set(datetime.combine(due_on + timedelta(days=1), time(12), tzinfo=timezone.utc))
    sign_in(auditor, "tm.mash1")  # weeks later: the earlier session has expired
    inbox = auditor.get("/inbox").text
    assert inbox.count("govuk-tag--red\">Overdue</strong>") == 1 and "Prepare the audit" in inbox
