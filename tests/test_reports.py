"""Report figures against values worked out by hand from a small, fully stated history.

Eight audits are written by the direct generator (engine.qa.demo_history): six in
cycle 1 of 2025/26 (1 April to 12 May 2025) and two in cycle 2. Every expected
number below was computed by hand from the plans, not by running the code.
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engine.qa import reports
from engine.qa.access import audit_scope
from engine.qa.cycle_models import AuditCycle
from engine.qa.finding_models import AuditEvidence, AuditFinding
from engine.qa.demo_history import ActionPlan, AuditPlan, run_demo_history, write_history
from engine.qa.models import AREAS, Audit, Service, Team
from engine.runtime.events import verify_chain
from engine.runtime.models import Event, ProcessInstance
from tests.conftest import user_named

AS_OF = date(2025, 7, 1)
ALL_OBTAINED = {"child": "obtained", "family": "obtained", "professionals": "obtained"}
NOT_GOOD = {area: "requires_improvement" for area in AREAS if area != "child_voice"}

PLANS = [
    # A1: Good, moderator agrees, on time.
    AuditPlan("MASH 1", date(2025, 4, 2), "good", graded_after_days=10, moderated_grade="good",
              feedback=ALL_OBTAINED),
    # A2: RI upgraded to Good (planning raised to Good); one action on time, one late.
    AuditPlan("MASH 1", date(2025, 4, 3), "requires_improvement", area_grades={"child_voice": "good", **NOT_GOOD},
              moderated_grade="good", moderated_area_grades={"planning": "good"},
              feedback={"child": "declined", "family": "obtained", "professionals": "not_appropriate"},
              actions=[ActionPlan("planning", 30, 20), ActionPlan("chronology", 30, 40)]),
    # A3: Inadequate, agreed; head of service told 2 hours after grading; one action open and overdue.
    AuditPlan("Children in Care 1", date(2025, 4, 4), "inadequate", moderated_grade="inadequate",
              feedback={"child": "unable", "family": "obtained", "professionals": "obtained"},
              actions=[ActionPlan("child_voice", 20)], escalation_hours=2),
    # A4: Good downgraded to RI (assessment lowered); graded late; one action on time.
    AuditPlan("Children in Care 1", date(2025, 4, 7), "good", graded_after_days=25,
              moderated_grade="requires_improvement", moderated_area_grades={"assessment": "requires_improvement"},
              feedback=ALL_OBTAINED, actions=[ActionPlan("assessment", 30, 10)]),
    # A5: never graded, now overdue.
    AuditPlan("Children in Care 1", date(2025, 4, 8), None),
    # A6: Outstanding, not moderated yet.
    AuditPlan("MASH 1", date(2025, 4, 9), "outstanding", feedback=ALL_OBTAINED),
    # Cycle 2: one Inadequate, one Good.
    AuditPlan("MASH 1", date(2025, 5, 14), "inadequate", moderated_grade="inadequate", escalation_hours=5),
    AuditPlan("MASH 1", date(2025, 5, 15), "good", moderated_grade="good"),
]


@pytest.fixture
def history(session):
    write_history(session, PLANS)
    session.flush()
    return session


def cycle_one():
    return reports.cycles_of_year(2025)[0]


def test_cycles_run_six_weekly_from_april(session):
    cycles = reports.cycles_of_year(2025)
    assert len(cycles) == 9
    assert (cycles[0].start, cycles[0].end) == (date(2025, 4, 1), date(2025, 5, 12))
    assert (cycles[1].start, cycles[1].end) == (date(2025, 5, 13), date(2025, 6, 23))
    assert (cycles[8].start, cycles[8].end) == (date(2026, 3, 3), date(2026, 3, 31))
    assert reports.parse_period(session, cycles[3].key) == cycles[3]
    assert reports.parse_period(session, "year:2025-04-01").end == date(2026, 3, 31)
    with pytest.raises(ValueError):
        reports.parse_period(session, "cycle:2025-04-02")
    assert [p.label for p in reports.trend_periods(session, cycles[1])][-2:] == ["2025/26 cycle 1", "2025/26 cycle 2"]
    assert len(reports.trend_periods(session, cycles[1])) == 9


def test_six_weekly_report_for_the_council(history):
    report = reports.build_report(history, cycle_one(), as_of=AS_OF)

    completion = report["completion"]
    assert completion["totals"] == {"allocated": 6, "completed": 5, "on_time": 4, "overdue": 1, "moderated": 4,
                                    "rate": 83.3, "on_time_rate": 80.0}
    assert [(t["team"], t["allocated"], t["completed"], t["on_time"], t["overdue"], t["rate"]) for t in completion["teams"]] == [
        ("Children in Care 1", 3, 2, 1, 1, 66.7), ("MASH 1", 3, 3, 3, 0, 100.0)]

    assert report["grades"]["overall"] == {"outstanding": 1, "good": 2, "requires_improvement": 1, "inadequate": 1}
    shares = report["shares"]
    assert (shares["good_or_better"], shares["inadequate"]) == (60.0, 20.0)
    assert (shares["meets_good_target"], shares["meets_inadequate_target"]) == (False, False)

    services = {row["label"]: (row["counts"], row["good_or_better"]) for row in report["by_dimension"]["service"]}
    assert services == {
        "Front Door and Assessment": ({"outstanding": 1, "good": 2, "requires_improvement": 0, "inadequate": 0}, 100.0),
        "Children in Care": ({"outstanding": 0, "good": 0, "requires_improvement": 1, "inadequate": 1}, 0.0)}
    cohorts = {row["key"]: row["total"] for row in report["by_dimension"]["cohort"]}
    assert cohorts == {"assessment": 3, "child_in_care": 2}

    areas = {row["area"]: (row["counts"]["outstanding"], row["counts"]["good"], row["counts"]["requires_improvement"],
                           row["counts"]["inadequate"], row["good_or_better"], row["actions"]) for row in report["areas"]}
    assert areas == {
        "child_voice": (1, 3, 0, 1, 80.0, 1), "assessment": (1, 1, 2, 1, 40.0, 1),
        "planning": (1, 3, 0, 1, 80.0, 1), "chronology": (1, 2, 1, 1, 60.0, 1),
        "management_oversight": (1, 2, 1, 1, 60.0, 0), "parent_carer_engagement": (1, 2, 1, 1, 60.0, 0)}
    assert [a["area"] for a in report["themes"]["strengths"]] == [
        "planning", "child_voice", "management_oversight", "parent_carer_engagement", "chronology"]
    assert [a["area"] for a in report["themes"]["development"]] == [
        "assessment", "chronology", "management_oversight", "parent_carer_engagement", "planning", "child_voice"]

    moderation = report["moderation"]
    assert {k: moderation[k] for k in ("moderated", "agreed", "agreement_rate", "upgrades", "downgrades",
                                       "same_overall_grade")} == {
        "moderated": 4, "agreed": 2, "agreement_rate": 50.0, "upgrades": 1, "downgrades": 1, "same_overall_grade": 2}
    assert moderation["matrix"]["requires_improvement"]["good"] == 1
    assert moderation["matrix"]["good"]["requires_improvement"] == 1
    assert moderation["matrix"]["good"]["good"] == 1 and moderation["matrix"]["inadequate"]["inadequate"] == 1
    assert sum(sum(row.values()) for row in moderation["matrix"].values()) == 4

    assert report["actions"] == {"total": 4, "completed": 3, "completed_on_time": 2, "open": 1, "overdue": 1,
                                 "cancelled": 0, "on_time_rate": 66.7, "median_days_to_close": 20}

    inadequate = report["inadequate"]
    assert (inadequate["count"], inadequate["escalated"], inadequate["acknowledged_on_time"]) == (1, 1, 1)
    assert inadequate["median_hours_to_notify"] == 2.0
    assert [a["team"] for a in inadequate["audits"]] == ["Children in Care 1"]

    feedback = {row["source"]: (row["obtained"], row["asked"], row["response_rate"]) for row in report["feedback"]}
    assert feedback == {"child": (3, 5, 60.0), "family": (5, 5, 100.0), "professionals": (4, 4, 100.0)}

    heat = {row["team"]: row["cells"] for row in report["heat_map"]["teams"]}
    assessment = report["heat_map"]["areas"].index("assessment")
    assert heat["MASH 1"][assessment] == {"total": 3, "good_or_better": 66.7}  # A1 Good, A2 RI, A6 Outstanding
    assert heat["Children in Care 1"][assessment] == {"total": 2, "good_or_better": 0.0}


def test_annual_report_trend_across_cycles(history):
    report = reports.build_report(history, reports.year_period(2025), as_of=AS_OF,
                                  targets=reports.Targets(good_or_better=55, inadequate=25))
    assert report["grades"]["overall"] == {"outstanding": 1, "good": 3, "requires_improvement": 1, "inadequate": 2}
    trend = report["trend"]
    assert len(trend) == 9
    assert [(t["graded"], t["good_or_better"], t["inadequate"]) for t in trend[:3]] == [
        (5, 60.0, 20.0), (2, 50.0, 50.0), (0, None, None)]
    assert [(t["meets_good_target"], t["meets_inadequate_target"]) for t in trend[:3]] == [
        (True, True), (False, False), (None, None)]
    assert report["inadequate"]["count"] == 2
    assert report["inadequate"]["median_hours_to_notify"] == 3.5  # 2 and 5 hours


def test_a_report_narrowed_to_a_service_or_a_team(history):
    front_door = history.scalar(select(Service.id).where(Service.name == "Front Door and Assessment"))
    report = reports.build_report(history, cycle_one(), reports.Scope(service_id=front_door), as_of=AS_OF)
    assert report["scope_label"] == "Front Door and Assessment"
    assert report["completion"]["totals"]["allocated"] == 3
    assert report["grades"]["overall"] == {"outstanding": 1, "good": 2, "requires_improvement": 0, "inadequate": 0}
    assert (report["moderation"]["agreement_rate"], report["moderation"]["upgrades"]) == (50.0, 1)
    assert report["inadequate"]["count"] == 0

    team = history.scalar(select(Team.id).where(Team.name == "Children in Care 1"))
    report = reports.build_report(history, cycle_one(), reports.Scope(team_id=team), as_of=AS_OF)
    assert report["scope_label"] == "Children in Care 1"
    assert report["completion"]["totals"] == {"allocated": 3, "completed": 2, "on_time": 1, "overdue": 1,
                                              "moderated": 2, "rate": 66.7, "on_time_rate": 50.0}
    assert report["actions"]["total"] == 2 and report["actions"]["median_days_to_close"] == 10


def test_the_list_of_inadequate_audits_keeps_to_what_the_reader_may_see(history):
    outsider = user_named(history, "hos.frontdoor")
    report = reports.build_report(history, cycle_one(), reports.Scope(extra=audit_scope(outsider)), as_of=AS_OF)
    # One Inadequate audit the reader cannot open: a count under 5, shown as such (the small-number rule).
    assert report["inadequate"]["count"] == "fewer than 5" and report["inadequate"]["audits"] == []
    insider = user_named(history, "hos.cic")
    report = reports.build_report(history, cycle_one(), reports.Scope(extra=audit_scope(insider)), as_of=AS_OF)
    assert [a["grade"] for a in report["inadequate"]["audits"]] == ["inadequate"]


def test_allocation_cycles_are_reported_by_the_audits_they_drew(session):
    """Once the QA lead runs allocation cycles, a cycle's report is its own audits, whenever allocated."""
    first, second = (AuditCycle(number=n, status="closed", starts_on=start, closes_on=start + timedelta(days=41),
                                cadence_weeks=6, sample_basis="per_team", sample_size=1)
                     for n, start in ((1, date(2025, 9, 1)), (2, date(2025, 10, 13))))
    session.add_all([first, second, AuditCycle(number=3, status="scheduled", starts_on=date(2025, 11, 24),
                                               cadence_weeks=6, sample_basis="per_team", sample_size=1)])
    session.flush()
    write_history(session, [
        AuditPlan("MASH 1", date(2025, 9, 2), "good", moderated_grade="good", cycle_id=first.id),
        AuditPlan("MASH 1", date(2025, 10, 20), "inadequate", moderated_grade="inadequate", cycle_id=first.id),
        AuditPlan("MASH 1", date(2025, 10, 14), "good", cycle_id=second.id),
        AuditPlan("MASH 1", date(2025, 9, 3), "requires_improvement")])  # allocated by hand, in no cycle
    periods = reports.allocation_cycles(session)
    assert [p.label for p in periods] == ["2025/26 cycle 1 (1 September 2025)", "2025/26 cycle 2 (13 October 2025)"]
    assert reports.parse_period(session, periods[1].key) == periods[1]
    report = reports.build_report(session, periods[0], as_of=AS_OF)
    assert report["grades"]["overall"] == {"outstanding": 0, "good": 1, "requires_improvement": 0, "inadequate": 1}
    assert [(t["period"].label, t["graded"]) for t in reports.build_report(session, periods[1])["trend"]] == [
        ("2025/26 cycle 1 (1 September 2025)", 2), ("2025/26 cycle 2 (13 October 2025)", 1)]
    annual = reports.build_report(session, reports.year_period(2025))
    assert [t["graded"] for t in annual["trend"]] == [2, 1]
    assert annual["grades"]["total"] == 4  # the year counts every audit allocated in it
    assert [p.key for p in reports.period_choices(session, date(2025, 12, 1))[:2]] == [periods[1].key, periods[0].key]


def test_the_demo_history_runs_the_real_process_and_reports_on_it(session):
    """The demo's past cycles are walked through the live case file audit process, task by task."""
    ids = run_demo_history(session, cycles=2, audits_per_cycle=2, seed=5)
    session.commit()
    audits = [session.get(Audit, i) for i in ids]
    assert len(audits) == 4 and {a.status for a in audits} == {"closed"}
    assert all(a.instance_id and session.get(ProcessInstance, a.instance_id).status == "completed" for a in audits)
    assert all(a.allocated_at.date() < date.today() - timedelta(days=40) for a in audits)
    kinds = set(session.scalars(select(Event.kind).where(Event.instance_id.in_([a.instance_id for a in audits]))))
    assert {"task.completed", "audit.graded", "audit.moderated", "audit.closed"} <= kinds
    findings = session.scalars(select(AuditFinding).where(AuditFinding.audit_id.in_(ids),
                                                          AuditFinding.stage == "auditor")).all()
    assert len(findings) == 4 * 26 and {a.impact for a in audits} <= {"improved", "no_change", "worse"}
    assert session.scalar(select(func.count(AuditEvidence.id)).where(AuditEvidence.audit_id.in_(ids))) == 4 * 6
    graded = {}
    for audit in audits:
        period = reports.cycle_containing(audit.allocated_at.date())
        graded[period.key] = reports.build_report(session, period)["grades"]["total"]
    assert sum(graded.values()) == 4
    assert verify_chain(session).ok
