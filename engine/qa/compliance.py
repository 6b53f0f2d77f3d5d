"""Compliance and practice measures from the audits' question-level findings, and the
impact for the child, for the six-weekly and annual reports.

For each Yes / Partly / No question: how many audits answered each way and the share of
those where it applied (N/A is counted but left out of the shares; a cohort's own question
counts only the audits that were asked it, and is left out where none was), overall, by service,
team and cohort, with the trend across the report's cycles. An answer as it stands is the
moderator's once the audit is moderated, else the auditor's (as for grades). Questions are
matched across form versions by their area and key, and labelled by the newest version
that asked them, so a report spanning a form change still adds up.

Small numbers: a viewer who cannot open every audit behind a report sees any figure
resting on fewer than `SMALL_NUMBER` audits as "fewer than 5", never as a percentage
(`Suppression`); the QA team, who can open them all, see the figures.
"""
from dataclasses import dataclass
from statistics import median

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.qa.finding_models import AuditFinding
from engine.qa.findings import IMPACTS, tool_labels
from engine.qa.models import Audit

SMALL_NUMBER = 5
CHOICES = ("yes", "partly", "no")
# The headline measures of the six-weekly and annual reports: (label, area, question).
HEADLINES = (
    ("Children seen in line with the plan, and alone where appropriate", "child_voice", "seen_in_line_with_plan"),
    ("The child's views changed decisions", "child_voice", "views_changed_decisions"),
    ("Plan SMART and current", "planning", "smart_plan"),
    ("Chronology on file", "chronology", "on_file"),
    ("Supervision at policy frequency", "management_oversight", "supervision_frequency"),
)
WORKER_CHANGES = ("management_oversight", "social_workers_in_12_months")


@dataclass(frozen=True)
class Suppression:
    """Whether figures resting on few audits are hidden from this viewer."""
    applies: bool

    def share(self, part: int, whole: int) -> dict:
        """A cell: its count, base and share, or marked as hidden when the base is small."""
        hidden = self.applies and 0 < whole < SMALL_NUMBER
        return {"count": None if hidden else part, "base": whole, "hidden": hidden,
                "share": None if hidden or not whole else round(100 * part / whole, 1)}


def suppression_for(session: Session, where, visible) -> Suppression:
    """Hide small numbers unless the viewer (`visible`, a clause on Audit; None: no limit)
    may open every audit the report covers."""
    if visible is None:
        return Suppression(False)
    total = session.scalar(select(func.count()).select_from(Audit).where(where))
    seen = session.scalar(select(func.count()).select_from(Audit).where(where, visible))
    return Suppression(seen < total)


def answers_as_they_stand():
    """The moderator's answers once an audit is moderated, else the auditor's."""
    return or_(AuditFinding.stage == "moderator",
               and_(AuditFinding.stage == "auditor", Audit.moderated_at.is_(None)))


def compliance(session: Session, where, suppress: Suppression, trend: list[tuple[str, object]],
               dimensions: dict) -> dict:
    """Every question's answers overall, the headline measures by each of `dimensions`
    (name -> (column, labels)), worker changes, and each question's share answering Yes
    across `trend` ((label, where) pairs)."""
    counts = _counts(session, where, ())
    labels = _question_labels(session, where)
    questions = []
    # A question no audit in scope was asked (another cohort's own question) is no 0% row.
    asked = {question: label for question, label in labels.items() if counts.get(question)}
    for (area, key), label in asked.items():
        answered = counts.get((area, key), {})
        base = sum(answered.get(choice, 0) for choice in CHOICES)
        questions.append({"area": area, "area_label": label[0], "key": key, "label": label[1],
                          "not_applicable": answered.get("not_applicable", 0), "base": base,
                          "answers": {choice: suppress.share(answered.get(choice, 0), base) for choice in CHOICES}})
    trend_rows = []
    for period_label, period_where in trend:
        yes = _counts(session, period_where, ())
        trend_rows.append({"label": period_label, "yes": {
            (area, key): suppress.share(yes.get((area, key), {}).get("yes", 0),
                                        sum(yes.get((area, key), {}).get(c, 0) for c in CHOICES))
            for area, key in asked}})
    for question in questions:
        question["trend"] = [row["yes"][(question["area"], question["key"])] for row in trend_rows]
    return {"questions": questions, "trend_labels": [label for label, _ in trend],
            "headlines": _headlines(session, where, suppress, counts, labels, dimensions),
            "worker_changes": _worker_changes(session, where, suppress)}


def impact(session: Session, where, suppress: Suppression, dimensions: dict) -> dict:
    """What has changed for the child, overall and by each of `dimensions` (name -> (column, labels))."""
    def table(column, names):
        rows = session.execute(select(column, Audit.impact, func.count())
                               .where(where, Audit.impact.is_not(None)).group_by(column, Audit.impact)).all()
        grouped: dict = {}
        for key, value, count in rows:
            grouped.setdefault(key, {})[value] = count
        return sorted(({"label": names.get(key, key), "base": sum(values.values()),
                        "cells": {value: suppress.share(values.get(value, 0), sum(values.values())) for value in IMPACTS}}
                       for key, values in grouped.items()), key=lambda row: str(row["label"]))
    overall = dict(session.execute(select(Audit.impact, func.count()).where(where, Audit.impact.is_not(None))
                                   .group_by(Audit.impact)).all())
    base = sum(overall.values())
    return {"labels": IMPACTS, "base": base,
            "overall": {value: suppress.share(overall.get(value, 0), base) for value in IMPACTS},
            "by": {name: table(column, names) for name, (column, names) in dimensions.items()}}


def _counts(session: Session, where, group_by: tuple) -> dict:
    rows = session.execute(select(*group_by, AuditFinding.area, AuditFinding.question, AuditFinding.answer, func.count())
                           .join(Audit, Audit.id == AuditFinding.audit_id)
                           .where(where, answers_as_they_stand())
                           .group_by(*group_by, AuditFinding.area, AuditFinding.question, AuditFinding.answer)).all()
    table: dict = {}
    for *groups, area, key, answer, count in rows:
        table.setdefault((*groups, area, key), {})[answer] = count
    return table


def _question_labels(session: Session, where) -> dict[tuple[str, str], tuple[str, str]]:
    """(area, key) -> (area label, question label) for every choice question answered in scope,
    labelled by the newest form version that asked it, in that form's order."""
    versions = session.scalars(select(AuditFinding.process_version_id).join(Audit, Audit.id == AuditFinding.audit_id)
                               .where(where).distinct().order_by(AuditFinding.process_version_id.desc())).all()
    labels: dict = {}
    for version_id in versions:
        tool = tool_labels(session, version_id)
        for question in tool.questions:
            if question.kind == "choice":
                labels.setdefault((question.area, question.key), (tool.areas[question.area], question.label))
    return labels


def _headlines(session: Session, where, suppress: Suppression, counts: dict, labels: dict, dimensions: dict) -> dict:
    measures = [(label, area, key) for label, area, key in HEADLINES if (area, key) in labels]
    def cell(answered: dict) -> dict:
        return suppress.share(answered.get("yes", 0), sum(answered.get(c, 0) for c in CHOICES))
    by = {}
    for name, (column, names) in dimensions.items():
        grouped = _counts(session, where, (column,))
        groups = {group for group, *_ in grouped}
        by[name] = sorted(({"label": names.get(group, group),
                            "cells": [cell(grouped.get((group, area, key), {})) for _, area, key in measures]}
                           for group in groups), key=lambda row: str(row["label"]))
    return {"measures": [label for label, _, _ in measures],
            "overall": [cell(counts.get((area, key), {})) for _, area, key in measures], "by": by}


def _worker_changes(session: Session, where, suppress: Suppression) -> dict:
    """Social workers the child has had in 12 months: the median, and the share with three or more."""
    area, key = WORKER_CHANGES
    values = [int(v) for v in session.scalars(
        select(AuditFinding.answer).join(Audit, Audit.id == AuditFinding.audit_id)
        .where(where, answers_as_they_stand(), AuditFinding.area == area, AuditFinding.question == key))
        if v.isdigit()]
    hidden = suppress.share(0, len(values))["hidden"]
    return {"base": len(values), "hidden": hidden,
            "median": None if hidden or not values else median(values),
            "three_or_more": suppress.share(sum(v >= 3 for v in values), len(values))}
