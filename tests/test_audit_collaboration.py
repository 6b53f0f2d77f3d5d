"""The collaborative audit, walked over HTTP: the allocated worker and an independent reviewing
officer the auditor adds give their evidence while the auditor completes the audit tool; the
auditor, the moderator, the audit page and the audit PDF show it, attributed; the reviewing
officer is offered as an action owner, owns an action and its review in supervision reaches
them; people who are not on the audit are refused, and the auditor cannot add themselves."""
import io
import json
import zipfile
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import func, select

from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.qa.contribution_models import AuditParticipant
from engine.qa.finding_models import AuditEvidence
from engine.qa.models import Audit, AuditAction
from engine.qa.trail_export import ExportFilters, request_export, run_export
from engine.runtime.models import Event, HumanTask
from tests import answers
from tests.conftest import user_named
from tests.test_findings_web import text_of
from tests.test_web_lifecycle import (Browsers, allocate_through_the_page, case_outside_team_of, do_task, open_tasks,
                                      people_of, posted, read)

REASON = "Chairs the child's looked after reviews and knows the plan"


def worker_evidence(today) -> dict:
    return {"child_voice": {"evidence": [{"record_type": "direct_work",
                                          "record_date": (today - timedelta(days=9)).isoformat(),
                                          "link": "https://cms.example.org/case/direct-work-7",
                                          "comment": "Three houses exercise at school"}],
                            "comment": "She chose where we met each time."},
            "planning": {"comment": "The plan changed after she asked to stay at her school."},
            "difference_for_child": "Her attendance is up and she says she feels listened to."}


def officer_evidence(today) -> dict:
    return {"planning": {"evidence": [{"record_type": "review", "record_date": (today - timedelta(days=20)).isoformat(),
                                       "comment": "Review minutes: contingency agreed"}]},
            "difference_for_child": "Her views led the last review."}


def contribution_task(session, username: str) -> int | None:
    """The open evidence task assigned to `username`, if any."""
    return read(session, lambda s: s.scalar(select(HumanTask.id).where(
        HumanTask.spec_name == "add_contribution", HumanTask.state == "ready",
        HumanTask.assignee_id == select(User.id).where(User.username == username).scalar_subquery())))


def contribute(session, browsers, username: str, data: dict) -> str:
    """`username` finds their evidence task in their inbox and completes it; returns the task page."""
    task_id = contribution_task(session, username)
    assert task_id is not None, f"{username} has no evidence task"
    browser = browsers[username]
    assert f'href="/tasks/{task_id}"' in browser.get("/inbox").text
    page = browser.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and 'name="action" value="complete"' in page.text
    response = browser.post(f"/tasks/{task_id}", data=posted("worker_contribution-schema.json", data))
    assert response.status_code == 302 and response.location.endswith("/inbox"), response.text
    return page.text


def test_the_worker_and_an_added_reviewing_officer_contribute_and_the_officer_owns_an_action(app, session, database_url,
                                                                                           tmp_path, monkeypatch):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1"))
    other_audit = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1", skip=1))
    who = people_of(session, audit_id)
    auditor = browsers[who["auditor"]]
    ids = read(session, lambda s: {name: s.scalar(select(User.id).where(User.username == name))
                                   for name in ("iro1", "iro2", who["auditor"], who["moderator"], "sw.mash1.1")})
    names = read(session, lambda s: {name: s.get(User, ids[name]).display_name for name in ids})

    # The auditor opens the page from the audit record or their task, and may add neither themselves nor the moderator.
    assert f"/audits/{audit_id}/practitioners" in auditor.get(f"/audits/{audit_id}").text
    prepare_id, _ = open_tasks(session, read(session, lambda s: s.get(Audit, audit_id).instance_id), "prepare_audit")[0]
    assert "Add the other practitioners on the case" in auditor.get(f"/tasks/{prepare_id}").text
    assert "Add the other practitioners on the case" not in browsers[who["worker"]].get(f"/tasks/{prepare_id}").text
    page = auditor.get(f"/audits/{audit_id}/practitioners")
    assert page.status_code == 200 and names["iro1"] in page.text
    assert f'<option value="{ids[who["auditor"]]}"' not in page.text  # not offered
    for person, part in ((who["auditor"], "auditor"), (who["moderator"], "moderator")):
        refused = auditor.post(f"/audits/{audit_id}/practitioners",
                               data={"user_id": ids[person], "case_role": "practitioner", "reason": REASON})
        assert refused.status_code == 400
        assert f"is this audit's {part}: they judge the practice, so they cannot also contribute to it" in text_of(refused.text)
    refused = auditor.post(f"/audits/{audit_id}/practitioners", data={"user_id": ids["iro1"], "case_role": "", "reason": "x"})
    assert refused.status_code == 400 and "Choose their role on the case" in refused.text
    assert "Say why they are being added" in refused.text
    assert read(session, lambda s: s.scalar(select(func.count()).select_from(AuditParticipant))) == 0

    # The worker's team manager cannot change the practitioners; the auditor adds the reviewing officer.
    assert browsers[who["team_manager"]].get(f"/audits/{audit_id}/practitioners").status_code == 403
    added = auditor.post(f"/audits/{audit_id}/practitioners",
                         data={"user_id": ids["iro1"], "case_role": "reviewing_officer", "reason": REASON})
    assert added.status_code == 302
    listed = text_of(auditor.get(f"/audits/{audit_id}/practitioners").text)
    assert f"{names['iro1']}: Independent reviewing officer" in listed and REASON in listed
    assert "When the auditor begins the audit tool" in listed
    added_event = read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(
        Event.kind == "audit.participant_added"))))
    assert added_event["user_id"] == ids["iro1"] and added_event["reason"] == REASON

    # The added officer sees this audit and no other; an unrelated practitioner sees neither.
    assert browsers["iro1"].get(f"/audits/{audit_id}").status_code == 200
    assert browsers["iro1"].get(f"/audits/{other_audit}").status_code == 403
    assert browsers["iro2"].get(f"/audits/{audit_id}").status_code == 403
    assert browsers["sw.mash1.1"].get(f"/audits/{audit_id}").status_code == 403

    # Beginning the audit asks the worker and the officer for their evidence.
    assert contribution_task(session, who["worker"]) is None
    do_task(session, browsers, audit_id, "prepare_audit", who["auditor"], answers.PREPARE)
    today = clock.today()
    worker_task = contribution_task(session, who["worker"])
    assert browsers["iro2"].get(f"/tasks/{worker_task}").status_code == 403
    task_page = text_of(contribute(session, browsers, who["worker"], worker_evidence(today)))
    assert "Add your evidence to the audit tool" in task_page and "the audit is done with you, not to you" in task_page
    contribute(session, browsers, "iro1", officer_evidence(today))
    assert browsers["iro2"].get(f"/tasks/{worker_task}").status_code == 403
    assert "Three houses exercise at school" in auditor.get(f"/tasks/{worker_task}").text  # the auditor may read it

    def stored(s):
        rows = s.scalars(select(AuditEvidence).where(AuditEvidence.audit_id == audit_id).order_by(AuditEvidence.id)).all()
        return [(r.contributor_id, r.area, r.record_type, r.link, r.comment) for r in rows]
    worker_id = read(session, lambda s: s.get(Audit, audit_id).worker_id)
    assert read(session, stored) == [
        (worker_id, "child_voice", "direct_work", "https://cms.example.org/case/direct-work-7", "Three houses exercise at school"),
        (worker_id, "child_voice", None, None, "She chose where we met each time."),
        (worker_id, "planning", None, None, "The plan changed after she asked to stay at her school."),
        (worker_id, "difference_for_child", None, None, "Her attendance is up and she says she feels listened to."),
        (ids["iro1"], "planning", "review", None, "Review minutes: contingency agreed"),
        (ids["iro1"], "difference_for_child", None, None, "Her views led the last review.")]

    # The auditor sees both in the audit tool, attributed, before completing it.
    instance_id = read(session, lambda s: s.get(Audit, audit_id).instance_id)
    tool_id, _ = open_tasks(session, instance_id, "complete_audit_tool")[0]
    tool_page = text_of(auditor.get(f"/tasks/{tool_id}").text)
    worked = (today - timedelta(days=9)).strftime("%-d %B %Y")
    worker_name = read(session, lambda s: s.get(User, worker_id).display_name)
    assert "Evidence from the practitioners on the case" in tool_page
    assert (f"{worker_name} (Allocated worker) What difference the work has made for the child Her attendance is up "
            f"and she says she feels listened to. The child's voice Direct work, {worked}: Three houses exercise at school"
            in tool_page)
    assert f"{names['iro1']} (Independent reviewing officer)" in tool_page
    for spec, data in (("complete_audit_tool", answers.audit_tool("good")), ("record_feedback", answers.FEEDBACK)):
        do_task(session, browsers, audit_id, spec, who["auditor"], data)

    # The grading form offers the officer as an action owner; one action is theirs.
    grading_id, _ = open_tasks(session, instance_id, "grade_audit")[0]
    grading_page = auditor.get(f"/tasks/{grading_id}").text
    assert f'value="participant_{ids["iro1"]}"' in grading_page
    assert f"{names['iro1']} (Independent reviewing officer)" in grading_page
    assert "Her views led the last review." in grading_page
    grading = answers.grading("good", actions=2)
    grading["actions"][1]["owner"] = f"participant_{ids['iro1']}"
    grading["actions"][1]["action"] = "Bring the next review forward to test the contingency plan"
    do_task(session, browsers, audit_id, "grade_audit", who["auditor"], grading)
    assert read(session, lambda s: [(a.owner_id, a.owner_role) for a in s.scalars(
        select(AuditAction).where(AuditAction.audit_id == audit_id).order_by(AuditAction.id))]) == [
        (worker_id, "worker"), (ids["iro1"], "reviewing_officer")]
    # Too late to change who is on the audit once it is graded.
    late = auditor.post(f"/audits/{audit_id}/practitioners",
                        data={"user_id": ids["iro2"], "case_role": "reviewing_officer", "reason": REASON})
    assert late.status_code == 400 and "this audit has been graded" in late.text

    do_task(session, browsers, audit_id, "add_reflections", who["worker"], answers.REFLECTION)
    moderation_page = text_of(do_task(session, browsers, audit_id, "moderate_audit", who["moderator"],
                                      answers.MODERATION_AGREED).text)
    assert f"{worker_name} (Allocated worker)" in moderation_page
    assert f"Direct work, {worked}: Three houses exercise at school" in moderation_page
    assert "Her views led the last review." in moderation_page

    # Each action's review reaches whoever supervises its owner: the officer's reaches them.
    reviews = read(session, lambda s: {t.assignee_id: t.id for t in s.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.spec_name == "review_action", HumanTask.state == "ready"))})
    team_manager_id = read(session, lambda s: s.get(Audit, audit_id).team_manager_id)
    assert set(reviews) == {team_manager_id, ids["iro1"]}
    officer = browsers["iro1"]
    review_page = text_of(officer.get(f"/tasks/{reviews[ids['iro1']]}").text)
    assert "Bring the next review forward to test the contingency plan" in review_page
    assert f"Owner {names['iro1']} (Reviewing officer)" in review_page
    response = officer.post(f"/tasks/{reviews[ids['iro1']]}",
                            data=posted("action_review-schema.json", answers.action_review()))
    assert response.status_code == 302, response.text
    tracker = text_of(officer.get("/tracker").text)
    assert "Bring the next review forward" in tracker and f"{names['iro1']} Reviewing officer" in tracker
    do_task(session, browsers, audit_id, "review_action", who["team_manager"], answers.action_review())
    qa = browsers["qa.lead"]
    closure_id, _ = open_tasks(session, instance_id, "confirm_closure")[0]
    assert qa.post(f"/tasks/{closure_id}", data={"action": "claim"}).status_code == 302
    do_task(session, browsers, audit_id, "confirm_closure", "qa.lead", answers.CLOSURE)

    audit_page = text_of(browsers[who["worker"]].get(f"/audits/{audit_id}").text)
    assert "Closed" in audit_page and f"Independent reviewing officer {names['iro1']}" in audit_page
    assert f"{names['iro1']} (Independent reviewing officer) What difference the work has made for the child " \
           "Her views led the last review." in audit_page
    assert (f"Audit participant added Reason: {REASON} Practitioner: {names['iro1']} "
            "Role on the case: Independent reviewing officer") in audit_page

    # The audit's PDF, read back, holds both practitioners' evidence with human labels.
    monkeypatch.setenv("QA_EXPORT_DIR", str(tmp_path / "exports"))
    export = request_export(session, user_named(session, "director"),
                            ExportFilters(today - timedelta(days=1), today))
    session.commit()
    export_id = export.id
    reference = read(session, lambda s: s.get(Audit, audit_id).reference)
    session.close()
    done = run_export(make_session_factory(database_url), export_id, tmp_path / "exports")
    archive = zipfile.ZipFile(tmp_path / "exports" / done.file_name)
    pdf = " ".join(" ".join(page.extract_text() for page in
                            PdfReader(io.BytesIO(archive.read(f"audits/{reference}.pdf"))).pages).split())
    assert "Evidence from the practitioners on the case" in pdf
    assert f"Direct work, {(today - timedelta(days=9)).strftime('%-d %b %Y')}: Three houses exercise at school" in pdf
    assert "She chose where we met each time." in pdf and "Her views led the last review." in pdf
    assert "(Allocated worker)" in pdf and "(Independent reviewing officer)" in pdf
    assert "direct_work" not in pdf


def test_a_practitioner_added_after_the_audit_began_is_asked_at_once_and_removal_withdraws_the_task(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1"))
    who = people_of(session, audit_id)
    do_task(session, browsers, audit_id, "prepare_audit", who["auditor"], answers.PREPARE)
    qa = browsers["qa.lead"]
    iro2 = read(session, lambda s: user_named(s, "iro2").id)
    assert qa.post(f"/audits/{audit_id}/practitioners",
                   data={"user_id": iro2, "case_role": "complex_safeguarding", "reason": REASON}).status_code == 302
    task_id = contribution_task(session, "iro2")
    assert task_id is not None and f'href="/tasks/{task_id}"' in browsers["iro2"].get("/inbox").text
    participant = read(session, lambda s: s.scalar(select(AuditParticipant.id)))
    refused = qa.post(f"/audits/{audit_id}/practitioners/{participant}/remove", data={"reason": ""})
    assert refused.status_code == 400 and "Say why they are being removed" in refused.text
    assert qa.post(f"/audits/{audit_id}/practitioners/{participant}/remove",
                   data={"reason": "Not involved with this child after all"}).status_code == 302
    assert read(session, lambda s: s.get(HumanTask, task_id).state) == "cancelled"
    assert browsers["iro2"].get(f"/audits/{audit_id}").status_code == 403
    removed = read(session, lambda s: json.loads(s.scalar(select(Event.payload).where(
        Event.kind == "audit.participant_removed"))))
    assert removed["reason"] == "Not involved with this child after all" and removed["task_withdrawn"] is True
    listed = text_of(qa.get(f"/audits/{audit_id}/practitioners").text)
    assert "Removed" in listed and "Not involved with this child after all" in listed


def test_a_record_dated_in_the_future_is_refused_and_nothing_is_stored(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1"))
    who = people_of(session, audit_id)
    do_task(session, browsers, audit_id, "prepare_audit", who["auditor"], answers.PREPARE)
    task_id = contribution_task(session, who["worker"])
    data = worker_evidence(clock.today() + timedelta(days=20))
    response = browsers[who["worker"]].post(f"/tasks/{task_id}", data=posted("worker_contribution-schema.json", data))
    assert response.status_code == 422 and "The date of the record cannot be in the future" in response.text
    assert read(session, lambda s: s.scalar(select(func.count()).select_from(AuditEvidence))) == 0
    assert read(session, lambda s: s.get(HumanTask, task_id).state) == "ready"
