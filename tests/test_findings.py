"""Findings as data: the audit tool's answers and evidence land in domain rows, the
moderator's view beside the auditor's, labelled from the audit's own form version,
and retention blanks what people wrote in them."""
import json
from datetime import date, timedelta

import pytest

from sqlalchemy import select

from engine.clock import clock
from engine.notification_models import Notification
from engine.qa.finding_models import AuditEvidence, AuditFinding
from engine.qa.findings import findings_by_area
from engine.qa.models import Audit
from engine.qa.retention import ANONYMISED, apply_retention
from engine.runtime.errors import InvalidFormData
from engine.runtime.events import verify_chain
from engine.runtime.models import Event, ProcessInstance
from tests import answers
from tests.test_engine_lifecycle import _allocate, _do


def graded_audit(session, tool=None):
    audit = _allocate(session)
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    _do(session, audit, "complete_audit_tool", audit.auditor_id, tool or answers.audit_tool())
    _do(session, audit, "record_feedback", audit.auditor_id, answers.FEEDBACK)
    _do(session, audit, "grade_audit", audit.auditor_id, answers.grading("good", actions=0))
    return audit


def test_each_question_answer_and_its_evidence_are_stored_with_the_form_version(session):
    tool = answers.audit_tool()
    tool["chronology"]["used_in_analysis"] = "no"
    audit = graded_audit(session, tool)
    version_id = session.get(ProcessInstance, audit.instance_id).process_version_id
    rows = session.scalars(select(AuditFinding).where(AuditFinding.audit_id == audit.id)).all()
    assert len(rows) == 26 and {r.stage for r in rows} == {"auditor"}
    assert {r.process_version_id for r in rows} == {version_id}
    answers_given = {(r.area, r.question): r.answer for r in rows}
    assert answers_given[("chronology", "used_in_analysis")] == "no"
    assert answers_given[("child_voice", "views_changed_decisions")] == "partly"
    assert answers_given[("planning", "permanence_planning")] == "not_applicable"
    assert answers_given[("management_oversight", "social_workers_in_12_months")] == "2"
    evidence = session.scalars(select(AuditEvidence).where(AuditEvidence.audit_id == audit.id,
                                                           AuditEvidence.area == "chronology")).one()
    assert (evidence.question, evidence.record_type, evidence.record_date, evidence.link) == \
        ("on_file", "case_note", date.fromisoformat(answers.days_ago(12)), "https://cms.example.org/case/chronology")
    session.refresh(audit)
    assert audit.impact == "improved" and audit.impact_reason.startswith("School attendance up")
    graded = session.scalar(select(Event).where(Event.kind == "audit.findings_recorded",
                                                Event.instance_id == audit.instance_id))
    assert json.loads(graded.payload)["questions_answered"] == 26
    assert json.loads(graded.payload)["impact"] == "improved"


def test_the_moderators_answers_are_kept_beside_the_auditors(session):
    audit = graded_audit(session)
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    _do(session, audit, "moderate_audit", audit.moderator_id, answers.moderation_disagreed())
    _do(session, audit, "reflective_discussion", audit.moderator_id, answers.DISCUSSION)
    by_stage = {(r.stage, r.area, r.question): r for r in session.scalars(
        select(AuditFinding).where(AuditFinding.audit_id == audit.id))}
    assert len(by_stage) == 52
    assert by_stage[("auditor", "planning", "smart_plan")].answer == "yes"
    changed = by_stage[("moderator", "planning", "smart_plan")]
    assert changed.answer == "partly" and changed.comment.startswith("No contingency")
    assert by_stage[("moderator", "planning", "flows_from_assessment")].answer == "yes"
    areas = {a["area"]: a for a in findings_by_area(session, session.get(Audit, audit.id))}
    smart = next(q for q in areas["planning"]["questions"] if q["key"] == "smart_plan")
    assert smart["label"].startswith("Is there a current plan") and smart["answer_label"] == "Yes"
    assert smart["moderated_answer_label"] == "Partly" and smart["changed"]
    seen = areas["child_voice"]["questions"][0]
    assert seen["evidence"][0]["record_type_label"] == "Case note"
    assert seen["evidence"][0]["comment"] == "Case note showing seen in line with plan"
    told = session.scalars(select(Notification).where(Notification.kind == "moderation_disagreed")).all()
    assert [n.recipient_id for n in told] == [audit.auditor_id]
    assert "moderated your grade Good to Requires improvement to be good and changed 1 answer." in told[0].text
    moderated = session.scalar(select(Event).where(Event.kind == "audit.moderated", Event.instance_id == audit.instance_id))
    assert json.loads(moderated.payload)["answers_changed"] == ["planning.smart_plan"]


def test_an_audit_tool_without_an_impact_reason_is_refused(session):
    audit = _allocate(session)
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    tool = answers.audit_tool()
    tool["impact"] = {"change_for_child": "worse"}
    with pytest.raises(InvalidFormData) as refused:
        _do(session, audit, "complete_audit_tool", audit.auditor_id, tool)
    assert refused.value.errors == {"impact.reason": "Enter what tells you so?"}
    tool["child_voice"]["evidence"][0]["link"] = "not a link"
    tool["impact"]["reason"] = "Missed school since the move."
    with pytest.raises(InvalidFormData) as refused:
        _do(session, audit, "complete_audit_tool", audit.auditor_id, tool)
    assert refused.value.errors["child_voice.evidence.0.link"].endswith("A web address starting https://")


def test_retention_blanks_evidence_and_comments_and_keeps_the_answers(session):
    audit = graded_audit(session)
    _do(session, audit, "add_reflections", audit.worker_id, answers.REFLECTION)
    _do(session, audit, "moderate_audit", audit.moderator_id, answers.moderation_disagreed())
    _do(session, audit, "reflective_discussion", audit.moderator_id, answers.DISCUSSION)
    audit = session.get(Audit, audit.id)
    audit.status, audit.closed_at = "closed", clock.now() - timedelta(days=7 * 365)
    session.commit()
    assert apply_retention(session)["audits_anonymised"] == 1
    session.commit()
    evidence = session.scalars(select(AuditEvidence).where(AuditEvidence.audit_id == audit.id)).all()
    assert evidence and {(e.comment, e.link) for e in evidence} == {(ANONYMISED, ANONYMISED)}
    assert {e.record_type for e in evidence} == {"case_note"}
    changed = session.scalar(select(AuditFinding).where(AuditFinding.audit_id == audit.id,
                                                        AuditFinding.stage == "moderator",
                                                        AuditFinding.question == "smart_plan"))
    assert changed.comment == ANONYMISED and changed.answer == "partly"
    assert session.get(Audit, audit.id).impact_reason == ANONYMISED
    assert session.get(Audit, audit.id).impact == "improved"
    assert verify_chain(session).ok


def test_the_findings_of_an_audit_tool_are_written_with_one_statement_per_table(session):
    """26 answers and their evidence: a count of INSERTs, not a time, so a query per answer fails here."""
    from tests.test_statement_counts import counted
    audit = _allocate(session)
    _do(session, audit, "prepare_audit", audit.auditor_id, answers.PREPARE)
    with counted(session) as statements:
        _do(session, audit, "complete_audit_tool", audit.auditor_id, answers.audit_tool())
    inserts = [s.split("(")[0].split()[-1] for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert inserts.count("audit_findings") == 1 and inserts.count("audit_evidence") == 1
    assert len(session.scalars(select(AuditFinding).where(AuditFinding.audit_id == audit.id)).all()) == 26
