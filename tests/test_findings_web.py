"""The findings are seen where they matter: the grading and moderation pages show each area's
answers, evidence and rationale beside the grade; the audit page shows them to the
practitioner whose case it is, with the form's own labels and never raw values."""
import html
import re
from datetime import date, timedelta

from sqlalchemy import func, select

from engine.clock import clock
from engine.qa.finding_models import AuditFinding
from engine.qa.models import Audit
from tests import answers
from tests.conftest import user_named
from tests.test_engine_lifecycle import _case_outside
from tests.test_web_lifecycle import (Browsers, allocate_through_the_page, case_outside_team_of, do_task, open_tasks,
                                      people_of, posted, read)


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_moderator_sees_each_answer_and_its_evidence_beside_the_grade(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1"))
    who = people_of(session, audit_id)
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool("good")),
                       ("record_feedback", answers.FEEDBACK)):
        do_task(session, browsers, audit_id, spec, who["auditor"], data)
    grading_page = text_of(do_task(session, browsers, audit_id, "grade_audit", who["auditor"],
                                   answers.grading("good", actions=1)).text)
    assert "What has changed for the child Improved" in grading_page
    assert "School attendance up from 60% to 92% since the plan began." in grading_page
    do_task(session, browsers, audit_id, "add_reflections", who["worker"], answers.REFLECTION)

    page = do_task(session, browsers, audit_id, "moderate_audit", who["moderator"], answers.moderation_disagreed())
    seen = text_of(page.text)
    assert "What the auditor found" in seen
    assert ("Quality of planning Auditor's grade Good Auditor's rationale Evidence supports good for planning"
            in seen)
    assert ("Is there evidence that the child's views changed the assessment, plan or decisions? Partly"
            in seen)
    assert ("Was the child seen in line with the plan or statutory frequency, and seen alone where appropriate? Yes "
            f"Case note, {date.fromisoformat(answers.days_ago(12)):%-d %B %Y}: Case note showing seen in line with plan"
            in seen)
    assert 'href="https://cms.example.org/case/child_voice"' in page.text
    assert "not_applicable" not in seen and "case_note" not in seen

    do_task(session, browsers, audit_id, "reflective_discussion", who["moderator"], answers.DISCUSSION)
    audit_page = browsers[who["worker"]].get(f"/audits/{audit_id}")
    shown = text_of(audit_page.text)
    assert "Is there a current plan" in shown and "Moderator's answer" in shown
    assert "Partly Changed No contingency if the school placement breaks down." in shown
    assert "What has changed for the child Improved" in shown
    assert "not_applicable" not in shown and "no_change" not in shown


def test_the_single_allocation_looks_up_the_register_and_warns_of_an_audit_in_the_last_12_months(app, session):
    browsers = Browsers(app)
    reference = case_outside_team_of(session, "tm.mash1")
    qa = browsers["qa.lead"]
    found = text_of(qa.get(f"/audits/allocate?find={reference[:-1].lower()}").text)
    assert f"Choose {reference}" in found
    audit_id = allocate_through_the_page(session, browsers, reference)

    def close_it(s):
        audit = s.get(Audit, audit_id)
        audit.status, audit.allocated_at = "closed", clock.now() - timedelta(days=100)
        s.commit()
        return audit.allocated_at
    allocated = read(session, close_it)
    when = allocated.strftime("%-d %B %Y")
    listed = text_of(qa.get(f"/audits/allocate?find={reference}").text)
    assert f"Choose {reference} " in listed and "AUD-" in listed and f"allocated {when}" in listed
    chosen = qa.get(f"/audits/allocate?case_reference={reference}")
    assert f'value="{reference}"' in chosen.text
    assert f"Case {reference} was audited in the last 12 months" in text_of(chosen.text)
    ids = read(session, lambda s: (s.get(Audit, audit_id).auditor_id, s.get(Audit, audit_id).moderator_id))
    form = {"case_reference": reference, "auditor_id": ids[0], "moderator_id": ids[1], "audit_type": "random"}
    refused = qa.post("/audits/allocate", data=form)
    assert refused.status_code == 422 and "Confirm to audit it again" in text_of(refused.text)
    assert read(session, lambda s: s.scalar(select(func.count()).select_from(Audit))) == 1
    allowed = qa.post("/audits/allocate", data={**form, "confirm_recent": "yes"})
    assert allowed.status_code == 302
    assert read(session, lambda s: s.scalar(select(func.count()).select_from(Audit))) == 2


def test_moderator_choices_name_the_service_a_head_of_service_leads(app, session):
    qa = Browsers(app)["qa.lead"]
    page = text_of(qa.get("/audits/allocate").text)
    assert "(Head of service, Children in Care)" in page and "(Head of service)" not in page


def test_the_moderator_answers_a_child_in_care_question_differently_beside_the_auditors_answer(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, read(
        session, lambda s: _case_outside(s, user_named(s, "tm.mash1"), "child_in_care").reference))
    who = people_of(session, audit_id)
    for spec, data in (("prepare_audit", answers.PREPARE), ("complete_audit_tool", answers.audit_tool("good")),
                       ("record_feedback", answers.FEEDBACK), ("grade_audit", answers.grading("good", actions=1))):
        do_task(session, browsers, audit_id, spec, who["auditor"], data)
    do_task(session, browsers, audit_id, "add_reflections", who["worker"], answers.REFLECTION)

    instance_id = read(session, lambda s: s.get(Audit, audit_id).instance_id)
    (task_id, form_key), = open_tasks(session, instance_id, "moderate_audit")
    moderator = browsers[who["moderator"]]
    page = moderator.get(f"/tasks/{task_id}").text
    assert "Children in care: answers you would give differently" in page
    assert 'value="children_in_care.permanence"' in page and "care_leavers.pathway_plan" not in page
    permanence = {"question": "children_in_care.permanence", "answer": "no",
                  "comment": "No permanence plan was agreed at the second review."}
    wrong_cohort = posted(form_key, {**answers.moderation_disagreed(), "cohort_answer_changes": [
        {**permanence, "question": "care_leavers.pathway_plan"}]})
    wrong_cohort["cohort_answer_changes.0.question"] = "care_leavers.pathway_plan"  # not offered: sent by hand
    refused = moderator.post(f"/tasks/{task_id}", data=wrong_cohort)
    assert refused.status_code == 422 and "Select an answer for: Question" in text_of(refused.text)
    assert read(session, lambda s: s.scalar(select(func.count()).select_from(AuditFinding).where(
        AuditFinding.audit_id == audit_id, AuditFinding.stage == "moderator"))) == 0
    do_task(session, browsers, audit_id, "moderate_audit", who["moderator"],
            {**answers.moderation_disagreed(), "cohort_answer_changes": [permanence]})
    do_task(session, browsers, audit_id, "reflective_discussion", who["moderator"], answers.DISCUSSION)

    stored = read(session, lambda s: {(r.stage, r.answer, r.comment) for r in s.scalars(select(AuditFinding).where(
        AuditFinding.audit_id == audit_id, AuditFinding.area == "children_in_care",
        AuditFinding.question == "permanence"))})
    assert stored == {("auditor", "partly", None), ("moderator", "no", permanence["comment"])}
    shown = text_of(browsers[who["worker"]].get(f"/audits/{audit_id}").text)
    assert ("Is there a permanence plan, agreed by the second looked-after review, progressing without drift? Partly"
            in shown)
    assert f"No Changed {permanence['comment']}" in shown
