"""A thematic audit's focused tool: a few Yes / Partly / No questions about its theme, written by
the commissioner, asked of each sampled case instead of the full case file audit tool.

The commission keeps the questions (ThematicAudit.focused_questions). Each sampled case is then
audited by a `focused_audit` process (processes/focused_audit) the thematic audit starts and
links to itself; the tool's form is built here from the questions and given to that instance in
its start data, and the user task shows it through its `formJsonSchemaKey` (a form from process
data, which the runtime supports for any process). The form is shaped like an area of the audit
tool, so the answers are read, stored and labelled by engine/qa/findings.py as any audit's are,
and the thematic report counts them per question with the small-number rule of
engine/qa/compliance.py.
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import clock
from engine.qa.compliance import CHOICES, Suppression, answers_as_they_stand
from engine.qa.finding_models import AuditFinding
from engine.qa.findings import ANSWERS, record_moderator_findings, record_tool_answers, tool_labels_for_schema
from engine.qa.models import Audit
from engine.runtime import events
from engine.runtime.errors import InvalidFormData
from engine.runtime.services import ServiceContext, service_operation

PROCESS_KEY = "focused_audit"
TOOL = "focused"
AREA = "focused"
ANSWER_LABELS = ("Yes", "Partly", "No", "Not applicable")
MAX_QUESTIONS = 12
QUESTION_MAX_LENGTH = 300


def commission_questions(data: dict) -> list[dict] | None:
    """The focused questions a commission wrote, keyed q1, q2, ... in its order; None when the
    commission chose the case file audit tool. Refuses a focused tool without questions."""
    if data.get("tool") != TOOL:
        return None
    written = [str(row.get("question", "")).strip() for row in data.get("focused_questions") or []]
    written = [text for text in written if text]
    if not written:
        raise InvalidFormData({"focused_questions": "Write at least one question for the focused tool"})
    if len(written) > MAX_QUESTIONS:
        raise InvalidFormData({"focused_questions": f"A focused tool asks at most {MAX_QUESTIONS} questions"})
    return [{"key": f"q{number}", "question": text} for number, text in enumerate(written, start=1)]


def focused_tool_form(theme: str, questions: list[dict]) -> dict:
    """The focused tool as a JSON Schema: one area named after the theme, one required
    Yes / Partly / No / Not applicable question per commission question, and a note."""
    properties = {question["key"]: {"type": "string", "title": question["question"], "enum": list(ANSWERS),
                                    "enumNames": list(ANSWER_LABELS)} for question in questions}
    properties["notes"] = {"type": "string", "title": "What you saw in the case file",
                           "description": "The records behind your answers, for the thematic write-up."}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "title": f"Focused tool: {theme}", "required": [AREA],
            "properties": {AREA: {"type": "object", "title": theme, "required": [q["key"] for q in questions],
                                  "properties": properties}}}


def question_shares(session: Session, audits: list[Audit], questions: list[dict], suppress: Suppression) -> list[dict]:
    """Each focused question with how many of `audits` answered Yes, Partly and No as the answers
    stand (the moderator's once checked), their shares of those where it applied (Not applicable
    counted apart), small numbers hidden by `suppress`."""
    counts: dict[tuple[str, str], int] = {}
    if audits:
        rows = session.execute(select(AuditFinding.question, AuditFinding.answer).join(
            Audit, Audit.id == AuditFinding.audit_id).where(
            AuditFinding.audit_id.in_([audit.id for audit in audits]), AuditFinding.area == AREA,
            answers_as_they_stand())).all()
        for key, answer in rows:
            counts[key, answer] = counts.get((key, answer), 0) + 1
    shares = []
    for question in questions:
        base = sum(counts.get((question["key"], choice), 0) for choice in CHOICES)
        shares.append({"key": question["key"], "question": question["question"], "base": base,
                       "not_applicable": counts.get((question["key"], "not_applicable"), 0),
                       "answers": {choice: suppress.share(counts.get((question["key"], choice), 0), base)
                                   for choice in CHOICES}})
    return shares


@service_operation("record_focused_answers")
def record_focused_answers(context: ServiceContext, data: dict, audit_id: int):
    """Keep the focused tool's answers as the audit's findings (labelled by the form it was given)."""
    session = context.session
    audit = session.get(Audit, audit_id)
    answered = record_tool_answers(session, audit, tool_labels_for_schema(data["focused_tool"]), data)
    audit.status, audit.started_at, audit.graded_at = "awaiting_moderation", audit.started_at or clock.now(), clock.now()
    events.record(session, "audit.findings_recorded", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit", audit.id),
                  payload={"audit": audit.reference, "tool": TOOL, "questions_answered": answered,
                           "notes": bool((data.get(AREA) or {}).get("notes"))})
    return answered


@service_operation("record_focused_check")
def record_focused_check(context: ServiceContext, data: dict, audit_id: int):
    """The moderator has checked the answers: they stand as the moderated findings and the audit closes."""
    session = context.session
    audit = session.get(Audit, audit_id)
    record_moderator_findings(session, audit, [])
    audit.moderated_at = audit.closed_at = clock.now()
    audit.status = "closed"
    events.record(session, "audit.moderated", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit", audit.id),
                  payload={"audit": audit.reference, "tool": TOOL, "comment": data.get("check_comment") or None})
    return True
