"""The six-weekly findings report and the annual QA report (framework sections 6 and 8).

Every figure is a SQL aggregate over the audit tables (audits, audit_area_grades,
audit_feedback, escalations, audit_actions, and the question-level findings through
engine/qa/compliance.py), never a workflow load, so a year of
audits reports in well under a second. An audit belongs to the cycle in which it was
allocated. Its grade is the moderated grade once moderated, else the auditor's; the
moderation section compares the two. A report can be narrowed to a service or a team.

Grading scales: grades are compared only between audits graded on the same scale
(engine/qa/grading_scale.py). A report's grade figures cover the audits on the current
scale (the newest published case file audit's); audits graded on another scale are counted
apart, by their own scale's grades (`other_scales`), and the page says so. Grades are also
reported by the ILACS judgement area each audit's cohort falls under.

Small numbers: a reader who cannot open every audit behind the report (see
engine/qa/compliance.py) sees any grade count from 1 to 4, and any share resting on fewer
than 5 audits, as "fewer than 5" (`hide_small_numbers`).

Cycles: once the QA lead runs allocation cycles (engine/qa/cycle_models.py), a cycle's
report covers the audits allocated by that cycle (`audits.cycle_id`) and its trend runs
across the cycles before it. Without them (or for audits allocated one by one), cycles
are six-weekly periods from 1 April, the start of the council's reporting year (nine a
year, the ninth shorter). The annual report's trend runs across the year's cycles.
"""
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from engine.clock import LOCAL_ZONE, clock
from engine.database import as_utc
from engine.qa import compliance
from engine.qa.cycle_models import AuditCycle
from engine.qa.grading_scale import GradingScale, current_scale, scales_in_use
from engine.qa.models import AREAS, COHORTS, AreaGrade, Audit, AuditAction, Escalation, Feedback, Service, Team
from engine.qa.complaints_log import themes_summary
from engine.qa.feedback_requests import response_summary
from engine.qa.operations import FEEDBACK_SOURCES

CYCLE_DAYS = 42
YEAR_START_MONTH = 4
TREND_CYCLES = 9
OPEN_ACTION_STATUSES = ("not_started", "in_progress")
ANSWERED_FEEDBACK = ("obtained", "declined", "unable")
INADEQUATE_ESCALATIONS = ("inadequate", "moderated_inadequate")  # escalations for the escalating grade
FEWER_THAN_5 = "fewer than 5"


@dataclass(frozen=True)
class Period:
    """Days `start` to `end`, both included, in the council's time zone; for an allocation
    cycle (`cycle_id`), the audits that cycle allocated."""
    start: date
    end: date
    label: str
    kind: str = "cycle"
    cycle_id: int | None = None

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as an instant range [from, to), for timestamp columns."""
        return (datetime.combine(self.start, time(), LOCAL_ZONE),
                datetime.combine(self.end + timedelta(days=1), time(), LOCAL_ZONE))

    @property
    def key(self) -> str:
        return f"audit_cycle:{self.cycle_id}" if self.cycle_id else f"{self.kind}:{self.start.isoformat()}"


@dataclass(frozen=True)
class Targets:
    """The council's targets: the share of audits Good or better, and the most that may be Inadequate."""
    good_or_better: float = float(os.environ.get("QA_TARGET_GOOD_OR_BETTER", 70))
    inadequate: float = float(os.environ.get("QA_TARGET_INADEQUATE", 10))


@dataclass(frozen=True)
class Scope:
    """Which audits a report covers beyond its period: a service, a team, or the council; and
    which activity they came from (`audit_type`: random, thematic or dip sample), or all."""
    service_id: int | None = None
    team_id: int | None = None
    extra: object = field(default=None, compare=False)
    audit_type: str | None = None

    def clause(self):
        clauses = [true()]
        if self.service_id:
            clauses.append(Audit.service_id == self.service_id)
        if self.team_id:
            clauses.append(Audit.team_id == self.team_id)
        if self.audit_type:
            clauses.append(Audit.audit_type == self.audit_type)
        return and_(*clauses)


def reporting_year(day: date) -> int:
    """The calendar year in which the reporting year holding `day` began."""
    return day.year if day.month >= YEAR_START_MONTH else day.year - 1


def cycles_of_year(year: int) -> list[Period]:
    """The six-weekly cycles of the reporting year that begins on 1 April `year`."""
    first, last = date(year, YEAR_START_MONTH, 1), date(year + 1, YEAR_START_MONTH, 1) - timedelta(days=1)
    periods, start, number = [], first, 1
    while start <= last:
        end = min(start + timedelta(days=CYCLE_DAYS - 1), last)
        periods.append(Period(start, end, f"{_year_label(year)} cycle {number}"))
        start, number = end + timedelta(days=1), number + 1
    return periods


def cycle_containing(day: date) -> Period:
    return next(p for p in cycles_of_year(reporting_year(day)) if p.start <= day <= p.end)


def year_period(year: int) -> Period:
    cycles = cycles_of_year(year)
    return Period(cycles[0].start, cycles[-1].end, f"Reporting year {_year_label(year)}", kind="year")


def allocation_cycles(session: Session) -> list[Period]:
    """The allocation cycles that have been drawn, oldest first, as report periods labelled with
    their reporting year ("2025/26 cycle 2 (13 October 2025)"), so charts read in order."""
    return [Period(cycle.starts_on, cycle.closes_on or cycle.starts_on + timedelta(days=CYCLE_DAYS - 1),
                   f"{_year_label(reporting_year(cycle.starts_on))} cycle {cycle.number} ({_day(cycle.starts_on)})",
                   kind="audit_cycle", cycle_id=cycle.id)
            for cycle in session.scalars(select(AuditCycle).where(AuditCycle.status != "scheduled")
                                         .order_by(AuditCycle.number))]


def parse_period(session: Session, key: str) -> Period:
    """The period a `Period.key` names; ValueError if it names none."""
    kind, _, value = key.partition(":")
    if kind == "audit_cycle":
        found = [p for p in allocation_cycles(session) if str(p.cycle_id) == value]
        if found:
            return found[0]
        raise ValueError(f"'{key}' is not a reporting period")
    day = date.fromisoformat(value)
    if kind == "year" and day.month == YEAR_START_MONTH and day.day == 1:
        return year_period(day.year)
    if kind == "cycle":
        period = cycle_containing(day)
        if period.start == day:
            return period
    raise ValueError(f"'{key}' is not a reporting period")


def trend_periods(session: Session, period: Period) -> list[Period]:
    """The cycles a report's trend runs across: the year's cycles for an annual report,
    the cycle and the eight before it for a six-weekly one. Allocation cycles are used
    where the council runs them."""
    drawn = allocation_cycles(session)
    if period.kind == "year":
        in_year = [p for p in drawn if period.start <= p.start <= period.end]
        return in_year or cycles_of_year(period.start.year)
    if period.cycle_id:
        cycles = drawn
    else:
        cycles = cycles_of_year(reporting_year(period.start) - 1) + cycles_of_year(reporting_year(period.start))
    index = next(i for i, p in enumerate(cycles) if p.key == period.key)
    return cycles[max(0, index - TREND_CYCLES + 1): index + 1]


def final_grade():
    """The audit's grade as it stands: the moderator's once moderated, else the auditor's."""
    return func.coalesce(Audit.moderated_grade, Audit.overall_grade)


def build_report(session: Session, period: Period, scope: Scope = Scope(), targets: Targets = Targets(),
                 as_of: date | None = None) -> dict:
    """Every measure of the six-weekly or annual report for `period`, within `scope`.

    `scope.extra` (a clause on Audit) limits the per-audit lists, such as the
    Inadequate audits, to those the reader may see; the counts cover the whole scope.
    Grade figures cover the audits graded on the current scale; `other_scales` counts the rest."""
    as_of = as_of or clock.today()
    where = and_(audits_in(period), scope.clause())
    scale = current_scale(session)
    on_scale = and_(where, Audit.grading_scale == scale.signature)
    names = _names(session)
    graded = _grades(session, on_scale, scale)
    report = {
        "period": period, "scope": scope, "targets": targets, "as_of": as_of,
        "scope_label": _scope_label(names, scope), "scale": scale,
        "other_scales": _other_scales(session, where, scale),
        "completion": _completion(session, where, as_of, names),
        "grades": graded,
        "shares": _shares(graded["overall"], targets, scale),
        "by_dimension": {
            "service": _by_dimension(session, on_scale, Audit.service_id, names["services"], scale),
            "team": _by_dimension(session, on_scale, Audit.team_id, names["teams"], scale),
            "cohort": _by_dimension(session, on_scale, Audit.cohort, COHORTS, scale),
            "judgement_area": _by_dimension(session, on_scale, Audit.judgement_area, scale.judgement_areas, scale,
                                            order=list(scale.judgement_areas)),
        },
        "areas": _areas(session, on_scale, scale),
        "heat_map": _heat_map(session, on_scale, names["teams"], scale),
        "moderation": _moderation(session, on_scale, scale),
        "actions": _actions(session, where, as_of),
        "inadequate": _inadequate(session, on_scale, scope.extra, names["teams"], scale),
        "feedback": _feedback(session, where),
        "feedback_links": response_summary(session, select(Audit.id).where(where)),
        "complaints_themes": themes_summary(session, period.start, period.end, scope.service_id, scope.team_id),
        "trend": [{"period": p, **_shares(_grades(session, and_(audits_in(p), scope.clause(),
                                                               Audit.grading_scale == scale.signature),
                                                          scale)["overall"], targets, scale)}
                  for p in trend_periods(session, period)],
    }
    report["themes"] = _themes(report["areas"])
    suppress = compliance.suppression_for(session, where, scope.extra)
    dimensions = {"service": (Audit.service_id, names["services"]), "team": (Audit.team_id, names["teams"]),
                  "cohort": (Audit.cohort, COHORTS)}
    report["small_numbers_hidden"] = suppress.applies
    report["compliance"] = compliance.compliance(
        session, where, suppress, [(p.label, and_(audits_in(p), scope.clause())) for p in trend_periods(session, period)],
        dimensions)
    report["impact"] = compliance.impact(session, where, suppress, dimensions)
    return hide_small_numbers(report) if suppress.applies else report


def hide_small_numbers(report: dict) -> dict:
    """The report as a reader who cannot open every audit behind it sees it: in the grade
    tables, a count from 1 to 4 and any share resting on fewer than 5 audits read "fewer
    than 5" (as the findings sections do: engine/qa/compliance.py). Charts draw such cells blank."""
    def row(found: dict, total_key: str = "total") -> dict:
        small = 0 < (found.get(total_key) or 0) < compliance.SMALL_NUMBER
        shares = {key: FEWER_THAN_5 if small and found.get(key) is not None else found.get(key)
                  for key in ("good_or_better", "below_good", "inadequate") if key in found}
        return {**found, **shares, "counts": _counts(found["counts"]), "small": small}

    hidden = {**report, "grades": {**report["grades"], "overall": _counts(report["grades"]["overall"])},
              "shares": row(report["shares"], "graded"),
              "by_dimension": {name: [row(r) for r in rows] for name, rows in report["by_dimension"].items()},
              "areas": [row(area) for area in report["areas"]],
              "trend": [row(t, "graded") for t in report["trend"]],
              "heat_map": {**report["heat_map"], "teams": [
                  {**team, "cells": [None if cell is None else row({**cell, "counts": {}}) for cell in team["cells"]]}
                  for team in report["heat_map"]["teams"]]},
              "moderation": {**report["moderation"], "matrix": {
                  grade: _counts(cells) for grade, cells in report["moderation"]["matrix"].items()}},
              "inadequate": {**report["inadequate"], "count": _counts({"n": report["inadequate"]["count"]})["n"]},
              "other_scales": {**report["other_scales"], "scales": [
                  {**entry, "counts": _counts(entry["counts"])} for entry in report["other_scales"]["scales"]]}}
    hidden["themes"] = {name: [area for area in areas if area["total"] >= compliance.SMALL_NUMBER]
                        for name, areas in report["themes"].items()}
    return hidden


def _counts(counts: dict) -> dict:
    return {key: FEWER_THAN_5 if 0 < count < compliance.SMALL_NUMBER else count for key, count in counts.items()}


def audits_in(period: Period):
    """The audits a period covers: those its allocation cycle drew, else those allocated in its days."""
    if period.cycle_id:
        return Audit.cycle_id == period.cycle_id
    start, end = period.bounds()
    return and_(Audit.allocated_at >= start, Audit.allocated_at < end)


def _names(session: Session) -> dict:
    return {"teams": dict(session.execute(select(Team.id, Team.name)).all()),
            "services": dict(session.execute(select(Service.id, Service.name)).all()),
            "team_service": dict(session.execute(select(Team.id, Team.service_id)).all())}


def _scope_label(names: dict, scope: Scope) -> str:
    if scope.team_id:
        return names["teams"].get(scope.team_id, "Unknown team")
    if scope.service_id:
        return names["services"].get(scope.service_id, "Unknown service")
    return "All services"


def _rate(part: int, whole: int) -> float | None:
    """A percentage to one decimal place, or None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


def _completion(session: Session, where, as_of: date, names: dict) -> dict:
    graded = Audit.graded_at.is_not(None)
    on_time = and_(graded, func.date(Audit.graded_at) <= Audit.due_on)
    overdue = and_(Audit.graded_at.is_(None), Audit.due_on < as_of)
    rows = session.execute(select(
        Audit.team_id, func.count(), func.count(Audit.graded_at),
        func.sum(case((on_time, 1), else_=0)), func.sum(case((overdue, 1), else_=0)),
        func.count(Audit.moderated_at)).where(where).group_by(Audit.team_id)).all()
    teams = sorted(({"team": names["teams"][team_id], "allocated": allocated, "completed": completed,
                     "on_time": on_time_count, "overdue": overdue_count, "moderated": moderated,
                     "rate": _rate(completed, allocated)}
                    for team_id, allocated, completed, on_time_count, overdue_count, moderated in rows),
                   key=lambda row: row["team"])
    totals = {key: sum(row[key] for row in teams) for key in ("allocated", "completed", "on_time", "overdue", "moderated")}
    return {"teams": teams, "totals": {**totals, "rate": _rate(totals["completed"], totals["allocated"]),
                                       "on_time_rate": _rate(totals["on_time"], totals["completed"])}}


def _grades(session: Session, where, scale: GradingScale) -> dict:
    counts = dict(session.execute(select(final_grade(), func.count()).where(where, final_grade().is_not(None))
                                  .group_by(final_grade())).all())
    overall = {grade: counts.get(grade, 0) for grade in scale.keys}
    return {"overall": overall, "total": sum(overall.values())}


def _other_scales(session: Session, where, scale: GradingScale) -> dict:
    """Graded audits on scales other than `scale`, counted by their own scale's grades."""
    rows = session.execute(select(Audit.grading_scale, final_grade(), func.count())
                           .where(where, final_grade().is_not(None), Audit.grading_scale != scale.signature)
                           .group_by(Audit.grading_scale, final_grade())).all()
    known = scales_in_use(session) if rows else {}
    found: dict = {}
    for signature, grade, count in rows:
        other = known.get(signature)
        entry = found.setdefault(signature, {
            "name": other.name if other else "A scale no longer published",
            "grades": other.labels if other else {},
            "counts": {key: 0 for key in (other.keys if other else ())}})
        entry["counts"][grade] = entry["counts"].get(grade, 0) + count
        entry["grades"].setdefault(grade, grade)
    scales = sorted(found.values(), key=lambda entry: entry["name"])
    for entry in scales:
        entry["total"] = sum(entry["counts"].values())
    return {"total": sum(entry["total"] for entry in scales), "scales": scales}


def _shares(overall: dict, targets: Targets, scale: GradingScale) -> dict:
    total = sum(overall.values())
    good = _rate(sum(overall[g] for g in scale.good_or_better), total)
    inadequate = _rate(sum(overall[g] for g in scale.escalating), total)
    return {"graded": total, "counts": overall, "good_or_better": good, "inadequate": inadequate,
            "meets_good_target": None if good is None else good >= targets.good_or_better,
            "meets_inadequate_target": None if inadequate is None else inadequate <= targets.inadequate}


def _by_dimension(session: Session, where, column, labels: dict, scale: GradingScale,
                  order: list | None = None) -> list[dict]:
    """Grade counts for each value of `column`, by label or in `order` (the judgement areas' own)."""
    rows = session.execute(select(column, final_grade(), func.count()).where(where, final_grade().is_not(None))
                           .group_by(column, final_grade())).all()
    table: dict = {}
    for key, grade, count in rows:
        table.setdefault(key, {g: 0 for g in scale.keys})[grade] = count
    result = [{"key": key, "label": labels.get(key, key or "Not recorded"), "counts": counts,
               "total": sum(counts.values()),
               "good_or_better": _rate(sum(counts[g] for g in scale.good_or_better), sum(counts.values()))}
              for key, counts in table.items()]
    if order is not None:
        return sorted(result, key=lambda row: order.index(row["key"]) if row["key"] in order else len(order))
    return sorted(result, key=lambda row: str(row["label"]))


def _final_area_grades():
    """Area grades as they stand: the moderator's rows once moderated, else the auditor's."""
    return or_(AreaGrade.stage == "moderator", and_(AreaGrade.stage == "auditor", Audit.moderated_at.is_(None)))


def _areas(session: Session, where, scale: GradingScale) -> list[dict]:
    rows = session.execute(select(AreaGrade.area, AreaGrade.grade, func.count())
                           .join(Audit, Audit.id == AreaGrade.audit_id)
                           .where(where, _final_area_grades()).group_by(AreaGrade.area, AreaGrade.grade)).all()
    actions = dict(session.execute(select(AuditAction.area, func.count()).join(Audit, Audit.id == AuditAction.audit_id)
                                   .where(where).group_by(AuditAction.area)).all())
    table = {area: {g: 0 for g in scale.keys} for area in AREAS}
    for area, grade, count in rows:
        table[area][grade] = count
    result = []
    for area, counts in table.items():
        total = sum(counts.values())
        result.append({"area": area, "label": AREAS[area], "counts": counts, "total": total,
                       "good_or_better": _rate(sum(counts[g] for g in scale.good_or_better), total),
                       "below_good": _rate(sum(counts[g] for g in scale.below_good), total),
                       "actions": actions.get(area, 0)})
    return result


def _heat_map(session: Session, where, team_names: dict, scale: GradingScale) -> dict:
    """The share Good or better for each area in each team: rows are teams, columns areas."""
    good = case((AreaGrade.grade.in_(scale.good_or_better), 1), else_=0)
    rows = session.execute(select(Audit.team_id, AreaGrade.area, func.count(), func.sum(good))
                           .join(Audit, Audit.id == AreaGrade.audit_id).where(where, _final_area_grades())
                           .group_by(Audit.team_id, AreaGrade.area)).all()
    cells: dict = {}
    for team_id, area, total, good_count in rows:
        cells.setdefault(team_names[team_id], {})[area] = {"total": total, "good_or_better": _rate(good_count, total)}
    return {"areas": list(AREAS), "area_labels": list(AREAS.values()),
            "teams": [{"team": team, "cells": [cells[team].get(area) for area in AREAS]} for team in sorted(cells)]}


def _moderation(session: Session, where, scale: GradingScale) -> dict:
    moderated = Audit.moderated_at.is_not(None)
    outcome = dict(session.execute(select(Audit.moderation_outcome, func.count()).where(where, moderated)
                                   .group_by(Audit.moderation_outcome)).all())
    pairs = session.execute(select(Audit.overall_grade, Audit.moderated_grade, func.count()).where(where, moderated)
                            .group_by(Audit.overall_grade, Audit.moderated_grade)).all()
    matrix = {auditor: {moderator: 0 for moderator in scale.keys} for auditor in scale.keys}
    upgrades = downgrades = 0
    for auditor, moderator, count in pairs:
        matrix[auditor][moderator] = count
        rank_change = scale.keys.index(auditor) - scale.keys.index(moderator)
        upgrades += count if rank_change > 0 else 0
        downgrades += count if rank_change < 0 else 0
    total = sum(outcome.values())
    return {"moderated": total, "agreed": outcome.get("agreed", 0), "disagreed": outcome.get("disagreed", 0),
            "agreement_rate": _rate(outcome.get("agreed", 0), total), "upgrades": upgrades,
            "downgrades": downgrades, "same_overall_grade": sum(matrix[g][g] for g in scale.keys),
            "matrix": matrix}


def _actions(session: Session, where, as_of: date) -> dict:
    due = func.coalesce(AuditAction.revised_due_on, AuditAction.due_on)
    completed = AuditAction.status == "completed"
    open_ = AuditAction.status.in_(OPEN_ACTION_STATUSES)
    row = session.execute(select(
        func.count(), func.sum(case((completed, 1), else_=0)),
        func.sum(case((and_(completed, AuditAction.completed_on <= due), 1), else_=0)),
        func.sum(case((open_, 1), else_=0)), func.sum(case((and_(open_, due < as_of), 1), else_=0)),
        func.sum(case((AuditAction.status == "cancelled", 1), else_=0)))
        .join(Audit, Audit.id == AuditAction.audit_id).where(where)).one()
    total, done, on_time, still_open, overdue, cancelled = (value or 0 for value in row)
    # An action is never closed before it was agreed (the tracker and the supervision review
    # refuse such dates); a row recorded so before those checks counts as closed that day.
    days = [max(0, (completed_on - _local_date(graded_at)).days) for completed_on, graded_at in session.execute(
        select(AuditAction.completed_on, Audit.graded_at).join(Audit, Audit.id == AuditAction.audit_id)
        .where(where, completed, AuditAction.completed_on.is_not(None)))]
    return {"total": total, "completed": done, "completed_on_time": on_time, "open": still_open,
            "overdue": overdue, "cancelled": cancelled, "on_time_rate": _rate(on_time, done),
            "median_days_to_close": median(days) if days else None}


def _inadequate(session: Session, where, visible, team_names: dict, scale: GradingScale) -> dict:
    """Audits given the escalating grade (Inadequate) by the auditor or the moderator, and how
    fast the head of service knew."""
    inadequate = or_(Audit.overall_grade.in_(scale.escalating), Audit.moderated_grade.in_(scale.escalating))
    count = session.scalar(select(func.count()).select_from(Audit).where(where, inadequate))
    rows = session.execute(
        select(Audit.id, Audit.reference, Audit.team_id, Audit.overall_grade, Audit.moderated_grade,
               Audit.graded_at, Audit.moderated_at, Escalation.reason, Escalation.notified_at,
               Escalation.acknowledged_at, Escalation.due_on)
        .join(Escalation, and_(Escalation.audit_id == Audit.id, Escalation.reason.in_(INADEQUATE_ESCALATIONS)),
              isouter=True)
        .where(where, inadequate).order_by(Audit.allocated_at, Audit.id)).all()
    hours, listed, acknowledged_on_time = [], {}, 0
    for row in rows:
        graded_at = row.moderated_at if row.reason == "moderated_inadequate" else row.graded_at
        waited = (as_utc(row.notified_at) - as_utc(graded_at)).total_seconds() / 3600 if row.notified_at else None
        if waited is not None:
            hours.append(waited)
            acknowledged_on_time += bool(row.acknowledged_at and _local_date(row.acknowledged_at) <= row.due_on)
        listed.setdefault(row.id, {"id": row.id, "reference": row.reference, "team": team_names[row.team_id],
                                   "grade": row.overall_grade, "moderated_grade": row.moderated_grade,
                                   "notified_at": row.notified_at, "acknowledged_at": row.acknowledged_at,
                                   "hours_to_notify": None if waited is None else round(waited, 1)})
    if visible is not None:
        allowed = set(session.scalars(select(Audit.id).where(Audit.id.in_(listed), visible)))
        listed = {key: row for key, row in listed.items() if key in allowed}
    return {"count": count, "escalated": len(hours), "acknowledged_on_time": acknowledged_on_time,
            "median_hours_to_notify": round(median(hours), 1) if hours else None,
            "longest_hours_to_notify": round(max(hours), 1) if hours else None, "audits": list(listed.values())}


def _feedback(session: Session, where) -> list[dict]:
    rows = session.execute(select(Feedback.source, Feedback.status, func.count())
                           .join(Audit, Audit.id == Feedback.audit_id).where(where)
                           .group_by(Feedback.source, Feedback.status)).all()
    table = {source: {} for source in FEEDBACK_SOURCES}
    for source, status, count in rows:
        table.setdefault(source, {})[status] = count
    result = []
    for source, counts in table.items():
        asked = sum(counts.get(status, 0) for status in ANSWERED_FEEDBACK)
        result.append({"source": source, "obtained": counts.get("obtained", 0), "declined": counts.get("declined", 0),
                       "unable": counts.get("unable", 0), "not_appropriate": counts.get("not_appropriate", 0),
                       "asked": asked, "response_rate": _rate(counts.get("obtained", 0), asked)})
    return result


def _themes(areas: list[dict]) -> dict:
    """Recurring strengths (areas most often Good or better) and areas for development
    (most often below Good, then most actions), each with how many audits show it."""
    rated = [a for a in areas if a["total"]]
    strengths = sorted((a for a in rated if a["good_or_better"] >= 50), key=lambda a: (-a["good_or_better"], a["label"]))
    development = sorted((a for a in rated if a["below_good"] > 0 or a["actions"]),
                         key=lambda a: (-a["below_good"], -a["actions"], a["label"]))
    return {"strengths": strengths, "development": development}


def _local_date(moment: datetime) -> date:
    return as_utc(moment).astimezone(LOCAL_ZONE).date()


def _day(value: date) -> str:
    return value.strftime("%-d %B %Y")


def _year_label(year: int) -> str:
    return f"{year}/{str(year + 1)[-2:]}"


REPORT_ROLES = ("qa_lead", "qa_officer", "principal_social_worker", "assistant_director", "director",
                "head_of_service")


def can_see_reports(user) -> bool:
    """The QA team, the principal social worker, senior leaders and heads of service read reports."""
    return user.has_role(*REPORT_ROLES)


def default_service_for(session: Session, user) -> int | None:
    """A head of service starts from their own service; everyone else from the whole council."""
    if user.has_role("qa_lead", "qa_officer", "principal_social_worker", "assistant_director", "director"):
        return None
    return session.scalar(select(Service.id).where(Service.head_of_service_id == user.id).order_by(Service.id))


def period_choices(session: Session, today: date) -> list[Period]:
    """The periods offered for a report: the allocation cycles drawn (newest first), then this
    and last reporting year with their six-weekly periods so far."""
    this_year = reporting_year(today)
    choices = list(reversed(allocation_cycles(session)))
    for year in (this_year, this_year - 1):
        choices.append(year_period(year))
        choices += [p for p in reversed(cycles_of_year(year)) if p.start <= today]
    return choices
