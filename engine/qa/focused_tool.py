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

The moderator's check is a form built from the auditor's answers once they are in: for each
question the moderator agrees, or disagrees and gives their own answer and why. Both views
are kept (the moderator's findings beside the auditor's, engine/qa/findings.py), and the
report's shares count the moderator's answer where there is one.
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
CHECK = "moderator_check"
VIEWS = {"agree": "Agree with the auditor", "disagree": "Disagree"}
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


def focused_check_form(tool_form: dict, answers: dict) -> dict:
    """The moderator's check as a JSON Schema, from the tool the auditor was given and their
    `answers`: per question, agree or disagree (required), and, read only on disagreeing, the
    moderator's own answer and why."""
    area = tool_form["properties"][AREA]
    labels = dict(zip(ANSWERS, ANSWER_LABELS))
    properties = {}
    for number, (key, field) in enumerate(_questions(area), start=1):
        properties[f"{key}_view"] = {"type": "string", "title": f"{number}. {field['title']}",
                                     "description": f"The auditor answered: {labels[answers[key]]}.",
                                     "enum": list(VIEWS), "enumNames": list(VIEWS.values())}
        properties[f"{key}_answer"] = {"type": "string", "title": f"Your answer to question {number}, if you disagree",
                                       "enum": list(ANSWERS), "enumNames": list(ANSWER_LABELS)}
        properties[f"{key}_reason"] = {"type": "string", "title": f"Why you disagree on question {number}",
                                       "description": "Read only when you disagree."}
    notes = answers.get("notes") or "No notes."
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "title": "Check the focused audit's answers", "required": [CHECK],
            "properties": {CHECK: {"type": "object", "title": area["title"], "description":
                                   f"The auditor's notes: {notes} Agree with each answer, or disagree and give "
                                   "your own answer and why: both are kept, and the thematic report counts yours.",
                                   "required": [f"{key}_view" for key, _ in _questions(area)],
                                   "properties": properties},
                           "check_comment": {"type": "string", "title": "Comment for the thematic write-up"}}}


def moderator_changes(data: dict) -> list[dict]:
    """The answers the moderator changed, as engine/qa/findings.py keeps them (`question` as
    `focused.q1`, `answer`, `comment` the reason); refuses a disagreement without a different
    answer or without a reason, naming each field."""
    check, auditor = data.get(CHECK) or {}, data[AREA]
    changes, errors = [], {}
    for key, _ in _questions(data["focused_tool"]["properties"][AREA]):
        if check.get(f"{key}_view") != "disagree":
            continue
        answer, reason = check.get(f"{key}_answer"), str(check.get(f"{key}_reason") or "").strip()
        if answer not in ANSWERS or answer == auditor[key]:
            errors[f"{CHECK}.{key}_answer"] = "You disagree: choose an answer other than the auditor's"
        if not reason:
            errors[f"{CHECK}.{key}_reason"] = "You disagree: say why"
        changes.append({"question": f"{AREA}.{key}", "answer": answer, "comment": reason})
    if errors:
        raise InvalidFormData(errors)
    return changes


def _questions(area: dict) -> list[tuple[str, dict]]:
    """The questions of a focused tool's area, in order, without its notes."""
    return [(key, field) for key, field in area["properties"].items() if key != "notes"]


def moderator_disagreements(session: Session, audits: list[Audit], questions: list[dict]) -> list[dict]:
    """Where a moderator disagreed with the auditor, both views: per audit (in `audits` order) and
    question, the auditor's answer, the moderator's and why, labelled for the report."""
    if not audits:
        return []
    rows = session.scalars(select(AuditFinding).where(
        AuditFinding.audit_id.in_([audit.id for audit in audits]), AuditFinding.area == AREA)).all()
    answers = {(row.audit_id, row.stage, row.question): row for row in rows}
    labels, texts = dict(zip(ANSWERS, ANSWER_LABELS)), {q["key"]: q["question"] for q in questions}
    views = []
    for audit in audits:
        for question in questions:
            auditor = answers.get((audit.id, "auditor", question["key"]))
            moderator = answers.get((audit.id, "moderator", question["key"]))
            if auditor and moderator and moderator.answer != auditor.answer:
                views.append({"audit": audit.reference, "case": audit.case.reference, "key": question["key"],
                              "question": texts[question["key"]], "auditor": labels[auditor.answer],
                              "moderator": labels[moderator.answer], "reason": moderator.comment})
    return views


@service_operation("record_focused_answers")
def record_focused_answers(context: ServiceContext, data: dict, audit_id: int):
    """Keep the focused tool's answers as the audit's findings (labelled by the form it was given),
    and return the moderator's check form, which shows them."""
    session = context.session
    audit = session.get(Audit, audit_id)
    answered = record_tool_answers(session, audit, tool_labels_for_schema(data["focused_tool"]), data)
    audit.status, audit.started_at, audit.graded_at = "awaiting_moderation", audit.started_at or clock.now(), clock.now()
    events.record(session, "audit.findings_recorded", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit", audit.id),
                  payload={"audit": audit.reference, "tool": TOOL, "questions_answered": answered,
                           "notes": bool((data.get(AREA) or {}).get("notes"))})
    return focused_check_form(data["focused_tool"], data[AREA])


@service_operation("record_focused_check")
def record_focused_check(context: ServiceContext, data: dict, audit_id: int):
    """The moderator has checked the answers: the auditor's stand where the moderator agreed, the
    moderator's with their reason where they disagreed, and the audit closes."""
    session = context.session
    audit = session.get(Audit, audit_id)
    changed = record_moderator_findings(session, audit, moderator_changes(data))
    audit.moderated_at = audit.closed_at = clock.now()
    audit.status = "closed"
    events.record(session, "audit.moderated", actor_id=context.actor_id, instance_id=context.instance_id,
                  subject=("audit", audit.id),
                  payload={"audit": audit.reference, "tool": TOOL, "changed": changed,
                           "comment": data.get("check_comment") or None})
    return True
