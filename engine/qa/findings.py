"""What the auditor found, as data: writing each question's answer and evidence from the
audit tool, the moderator's view beside it, and reading both back with human labels.

The questions are whatever the audit tool of the audit's own process version asked: a
Yes / Partly / No / N/A property inside an area is a question, its title is its label,
its `enumNames` label its answers. A cohort's own section (asked only when its condition
holds) is an area like the six, so only the audits that were asked it have its rows. Nothing here lists questions in Python, so a new form
version with new questions is stored and shown without a code change.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.qa.finding_models import AuditEvidence, AuditFinding
from engine.qa.models import AREAS, Audit
from engine.runtime.forms import all_properties, applicable_schema, with_context
from engine.runtime.models import HumanTask, ProcessInstance, ProcessVersion
from engine.runtime.registry import built_model_for

AUDIT_TOOL_FORM = "audit_tool-schema.json"
ANSWERS = ("yes", "partly", "no", "not_applicable")
IMPACTS = {"improved": "Improved", "no_change": "Not changed", "worse": "Got worse"}
# A published version never changes, so its labels are read once per content hash.
_LABELS_BY_HASH: dict[str, "ToolLabels"] = {}


@dataclass(frozen=True)
class Question:
    """A Yes / Partly / No / N/A question (`choice`) or a number the auditor counts (`count`)."""
    area: str
    key: str
    label: str
    answer_labels: dict[str, str]
    kind: str = "choice"


@dataclass(frozen=True)
class ToolLabels:
    """The labels one version of the audit tool gives its areas, questions and answers."""
    areas: dict[str, str]
    questions: tuple[Question, ...]
    record_types: dict[str, str]
    impacts: dict[str, str]
    schema: dict = field(default_factory=dict, repr=False, compare=False)

    def question(self, area: str, key: str) -> Question | None:
        return next((q for q in self.questions if q.area == area and q.key == key), None)

    def areas_asked(self, task_data: dict) -> list[str]:
        """The areas this tool asks about a case whose process data is `task_data` (the six,
        and the section of its cohort): the form's own conditions decide, not a list here."""
        asked = applicable_schema(self.schema, with_context(self.schema, {}, task_data))["properties"]
        return [area for area in self.areas if area in asked]


def tool_labels_for_schema(schema: dict) -> ToolLabels:
    """Read the areas, questions and answer labels out of an audit tool's JSON Schema."""
    areas, questions, record_types = {}, [], {}
    impacts = dict(IMPACTS)
    for area, node in all_properties(schema).items():   # a cohort's own section sits in a condition's branch
        if node.get("type") != "object":
            continue
        if area == "impact":
            impacts = _labels(node.get("properties", {}).get("change_for_child", {})) or impacts
            continue
        areas[area] = node.get("title", AREAS.get(area, area))
        for key, question in node.get("properties", {}).items():
            if question.get("type") == "string" and set(question.get("enum", ())) == set(ANSWERS):
                questions.append(Question(area, key, question.get("title", key), _labels(question)))
            elif question.get("type") == "integer":
                questions.append(Question(area, key, question.get("title", key), {}, kind="count"))
            elif question.get("type") == "array":
                record_types.update(_labels(question.get("items", {}).get("properties", {}).get("record_type", {})))
    return ToolLabels(areas, tuple(questions), record_types, impacts, schema)


def tool_labels(session: Session, process_version_id: int) -> ToolLabels:
    """The labels of the audit tool published in `process_version_id`."""
    version = session.get(ProcessVersion, process_version_id)
    labels = _LABELS_BY_HASH.get(version.content_hash)
    if labels is None:
        schema = built_model_for(version).forms.get(AUDIT_TOOL_FORM) or {}
        labels = _LABELS_BY_HASH[version.content_hash] = tool_labels_for_schema(schema)
    return labels


def record_auditor_findings(session: Session, audit: Audit, data: dict) -> int:
    """Write the audit tool's answers, evidence and impact for `audit`; returns the answers written.

    Called once, after the audit tool is completed; the answers come from the task data it left.
    Rows are written with one executemany per table (not an INSERT per question)."""
    version_id = _version_id(session, audit)
    labels = tool_labels(session, version_id)
    base = {"audit_id": audit.id, "process_version_id": version_id}
    findings = _answer_rows(labels, data, base)
    evidence_rows = []
    for area in labels.areas:
        evidence = (data.get(area) or {}).get("evidence")
        if isinstance(evidence, str) and evidence.strip():   # audit tools before evidence had its own fields
            evidence_rows.append({**base, "area": area, "question": None, "record_type": None,
                                  "record_date": None, "link": None, "comment": evidence.strip()})
        for item in evidence if isinstance(evidence, list) else ():
            evidence_rows.append({**base, "area": area, "question": item.get("question"),
                                  "record_type": item.get("record_type"), "record_date": _date(item.get("record_date")),
                                  "link": item.get("link") or None, "comment": item.get("comment") or None})
    _insert_all(session, AuditFinding, findings)
    _insert_all(session, AuditEvidence, evidence_rows)
    impact = data.get("impact") or {}
    change = impact.get("change_for_child") or (data.get("planning") or {}).get("change_for_child")
    audit.impact, audit.impact_reason = change, impact.get("reason") or None
    return len(findings)


def record_tool_answers(session: Session, audit: Audit, labels: ToolLabels, data: dict) -> int:
    """Write the answers of a tool other than the audit tool (a thematic audit's focused tool,
    whose questions its commission wrote) as the auditor's findings; returns the answers written."""
    rows = _answer_rows(labels, data, {"audit_id": audit.id, "process_version_id": _version_id(session, audit)})
    _insert_all(session, AuditFinding, rows)
    return len(rows)


def _answer_rows(labels: ToolLabels, data: dict, base: dict) -> list[dict]:
    return [{**base, "stage": "auditor", "area": question.area, "question": question.key,
             "answer": str(answer), "comment": None}
            for question in labels.questions
            if (answer := (data.get(question.area) or {}).get(question.key)) is not None]


def has_findings(session: Session, audit: Audit) -> bool:
    return session.scalar(select(AuditFinding.id).where(AuditFinding.audit_id == audit.id).limit(1)) is not None


def record_moderator_findings(session: Session, audit: Audit, changes: list[dict]) -> list[str]:
    """Keep the auditor's answers and write the moderator's beside them: the auditor's answer
    where the moderator changed nothing, theirs with their reason where they did.
    Returns the `area.question` keys the moderator changed."""
    changed = {item["question"]: item for item in changes or ()}
    rows = []
    for finding in session.scalars(select(AuditFinding).where(
            AuditFinding.audit_id == audit.id, AuditFinding.stage == "auditor").order_by(AuditFinding.id)).all():
        change = changed.get(f"{finding.area}.{finding.question}")
        rows.append({"audit_id": audit.id, "process_version_id": finding.process_version_id, "stage": "moderator",
                     "area": finding.area, "question": finding.question,
                     "answer": change["answer"] if change else finding.answer,
                     "comment": change["comment"] if change else None})
    _insert_all(session, AuditFinding, rows)
    return sorted(key for key, item in changed.items())


def _insert_all(session: Session, model, rows: list[dict]) -> None:
    """One executemany for many rows (the ORM would send an INSERT per object to learn each id)."""
    if rows:
        session.execute(insert(model), rows)


def findings_by_area(session: Session, audit: Audit) -> list[dict]:
    """Each area's questions with the auditor's answer, the moderator's (if moderated) and the
    evidence cited, all labelled from the audit's own form version."""
    rows = session.scalars(select(AuditFinding).where(AuditFinding.audit_id == audit.id)
                           .order_by(AuditFinding.id)).all()
    evidence = session.scalars(select(AuditEvidence).where(AuditEvidence.audit_id == audit.id,
                                                           AuditEvidence.contributor_id.is_(None))
                               .order_by(AuditEvidence.id)).all()
    if not rows and not evidence:
        return []
    labels = tool_labels(session, (rows or evidence)[0].process_version_id)
    if not labels.areas:  # not the audit tool: the form its process gave the audit's task (a focused tool)
        given = session.scalar(select(HumanTask.form_schema).where(
            HumanTask.instance_id == audit.instance_id, HumanTask.form_schema.is_not(None)).limit(1))
        labels = tool_labels_for_schema(given or {})
    return arrange_findings(labels, rows, evidence)


def arrange_findings(labels: ToolLabels, rows: list[AuditFinding], evidence: list[AuditEvidence]) -> list[dict]:
    """One audit's finding and the auditor's evidence rows grouped by area in the form's order,
    with labels (evidence a practitioner contributed is left to engine/qa/contributions.py)."""
    answers = {(r.stage, r.area, r.question): r for r in rows}
    evidence = [item for item in evidence if item.contributor_id is None]  # practitioners' own: engine/qa/contributions.py
    areas = []
    for area, area_label in labels.areas.items():
        questions = []
        for question in (q for q in labels.questions if q.area == area):
            given, moderated = answers.get(("auditor", area, question.key)), answers.get(("moderator", area, question.key))
            if given is None:
                continue
            questions.append({
                "key": question.key, "label": question.label, "answer": given.answer,
                "answer_label": question.answer_labels.get(given.answer, given.answer),
                "moderated_answer": moderated.answer if moderated else None,
                "moderated_answer_label": question.answer_labels.get(moderated.answer, moderated.answer) if moderated else None,
                "moderator_comment": moderated.comment if moderated else None,
                "changed": moderated is not None and moderated.answer != given.answer,
                "evidence": [_evidence(item, labels) for item in evidence if item.area == area and item.question == question.key]})
        general = [_evidence(item, labels) for item in evidence if item.area == area and item.question is None]
        if questions or general:
            areas.append({"area": area, "label": area_label, "questions": questions, "evidence": general})
    return areas


def evidence_text(items: list[dict]) -> str:
    """Evidence cited, as one line per record: 'Case note, 12 Oct 2026: what it shows (link)'."""
    lines = []
    for item in items:
        when = f", {item['record_date'].strftime('%-d %b %Y')}" if item["record_date"] else ""
        comment = f": {item['comment']}" if item["comment"] else ""
        link = f" ({item['link']})" if item["link"] else ""
        lines.append(f"{item['record_type_label'] or 'Record'}{when}{comment}{link}")
    return "\n".join(lines)


def impact_label(value: str | None) -> str | None:
    return IMPACTS.get(value, value) if value else None


def _evidence(item: AuditEvidence, labels: ToolLabels) -> dict:
    return {"record_type": item.record_type,
            "record_type_label": labels.record_types.get(item.record_type, item.record_type) if item.record_type else None,
            "record_date": item.record_date, "link": item.link, "comment": item.comment}


def _version_id(session: Session, audit: Audit) -> int:
    return session.scalar(select(ProcessInstance.process_version_id).where(ProcessInstance.id == audit.instance_id))


def _labels(field: dict) -> dict[str, str]:
    return dict(zip(field.get("enum", ()), field.get("enumNames", field.get("enum", ()))))


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None
