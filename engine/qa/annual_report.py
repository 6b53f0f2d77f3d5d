"""The annual QA report (QA framework section 6): once a year the QA lead assembles it from
the year's case file audits (grades, completion, moderation, feedback), thematic audits, dip
samples, practice weeks, the practitioner survey, compliments and complaints and the
participation of children and young people, writes its sections, and the director signs it
off for publication. These are the service operations processes/annual_report calls, who may
read a report (the QA team and senior leaders; heads of service once it is published), and
the scheduler job that starts the report by itself once a year (QA_ANNUAL_REPORT_MONTH).
"""
import json
import os

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import User
from engine.clock import clock
from engine.qa import reports
from engine.qa.access import SEE_EVERY_AUDIT
from engine.qa.complaints_log import themes_summary
from engine.qa.participation import BoardPeriod, records as participation_records
from engine.qa.scheduled_starts import start_once
from engine.qa.staff_survey import staffing_pressure
from engine.qa.thematic_models import AnnualReport, DipSample, ThematicAudit
from engine.runtime import events
from engine.qa.working_days import add_working_days
from engine.runtime.errors import InvalidFormData
from engine.runtime.models import Event, ProcessInstance
from engine.runtime.services import ServiceContext, service_operation
from engine.runtime.timers import ScheduledJob

SECTIONS = {"introduction": "Introduction", "audit_findings": "What the case file audits tell us",
            "thematic_learning": "Learning from thematic audits and dip samples",
            "practice_week": "Practice week", "feedback": "What children, families and professionals told us",
            "priorities": "Priorities for the year ahead"}


SECTIONS_WORKING_DAYS = 20  # the QA lead writes the sections within four weeks of the report starting
SIGN_OFF_WORKING_DAYS = 10  # the director signs it off within two weeks of it being written


def may_read_annual_report(user: User, report: AnnualReport) -> bool:
    return user.has_role(*SEE_EVERY_AUDIT) or (report.status == "published" and user.has_role("head_of_service"))


def year_figures(session: Session, year: int) -> dict:
    """The year's measures from every activity, as the report and its PDF show them."""
    period = reports.year_period(year)
    audits = reports.build_report(session, period)
    start, end = period.bounds()
    thematic = session.scalars(select(ThematicAudit).where(ThematicAudit.published_at >= start,
                                                           ThematicAudit.published_at < end)).all()
    dips = session.execute(select(func.count(DipSample.id), func.coalesce(func.sum(DipSample.concerns), 0))
                           .where(DipSample.completed_at >= start, DipSample.completed_at < end)).one()
    weeks = [json.loads(payload) for payload in session.scalars(select(Event.payload).where(
        Event.kind == "practice_week.closed", Event.occurred_at >= start, Event.occurred_at < end))]
    return {
        "period": period.label,
        "audits": {"allocated": audits["completion"]["totals"]["allocated"],
                   "completed": audits["completion"]["totals"]["completed"],
                   "completion_rate": audits["completion"]["totals"]["rate"],
                   "graded": audits["grades"]["total"], "shares": audits["shares"],
                   "moderated": audits["completion"]["totals"]["moderated"]},
        "feedback": [{"source": row["source"], "obtained": row["obtained"], "asked": row["asked"]}
                     for row in audits["feedback"]],
        "thematic": [{"reference": row.reference, "theme": row.theme, "audits": len(row.sample)} for row in thematic],
        "dip_samples": {"completed": dips[0], "concerns": int(dips[1])},
        "practice_weeks": {"held": len(weeks), "observations": sum(week["observations"] for week in weeks)},
        "survey": _survey_rounds(session, period),
        "complaints": [{key: row[key] for key in ("label", "compliments", "complaints", "upheld")}
                       for row in themes_summary(session, period.start, period.end)],
        "participation": _participation(session, period),
    }


def _survey_rounds(session: Session, period) -> list[dict]:
    """The practitioner survey's rounds of the year; a round with fewer than 5 answers shows
    its count only (staff_survey withholds its measures)."""
    return [{"period_start": row["round"].period_start.isoformat(), "responses": row["responses"],
             "withheld": row["withheld"], **{key: row.get(key) for key in (
                 "wellbeing_average", "caseload_unmanageable", "supervision_irregular")}}
            for row in staffing_pressure(session) if period.start <= row["round"].period_start <= period.end]


def _participation(session: Session, period) -> dict:
    """How many sessions the participation team held with children and young people, and how many took part."""
    kept = participation_records(session, BoardPeriod(period.start, period.end))
    return {"sessions": len(kept), "participants": sum(record.participants for record in kept)}


@service_operation("assemble_annual_report")
def assemble_annual_report(context: ServiceContext, data: dict):
    """Open the year's report with its figures; one report per reporting year."""
    session = context.session
    year = data["year"]
    if session.scalar(select(AnnualReport.id).where(AnnualReport.year == year)) is not None:
        raise InvalidFormData({"year": f"There is already an annual QA report for {year}"})
    instance = session.get(ProcessInstance, context.instance_id)
    report = AnnualReport(reference=instance.business_key, instance_id=instance.id, year=year,
                          figures=_plain(year_figures(session, year)), sections={})
    session.add(report)
    session.flush()
    events.record(session, "annual_report.assembled", actor_id=context.actor_id, instance_id=instance.id,
                  subject=("annual_report", report.id), payload={"year": year})
    return {"id": report.id, "reference": report.reference}


@service_operation("record_annual_report_sections")
def record_annual_report_sections(context: ServiceContext, data: dict, report_id: int):
    """Keep the written sections; the director's sign-off is due SIGN_OFF_WORKING_DAYS later
    (the diagram's reminder, overdue and escalation timers count from that date)."""
    report = context.session.get(AnnualReport, report_id)
    report.sections = {key: data[key] for key in SECTIONS if data.get(key)}
    report.status = "awaiting_sign_off"
    events.record(context.session, "annual_report.written", actor_id=context.actor_id, instance_id=report.instance_id,
                  subject=("annual_report", report.id), payload={"sections": sorted(report.sections)})
    return {"sign_off_due": add_working_days(clock.today(), SIGN_OFF_WORKING_DAYS).isoformat()}


@service_operation("record_annual_report_sign_off")
def record_annual_report_sign_off(context: ServiceContext, data: dict, report_id: int):
    """The director approves (the report is published) or returns it to the QA lead."""
    report = context.session.get(AnnualReport, report_id)
    report.sign_off_comments = data.get("sign_off_comments", "")
    if data["sign_off_decision"] == "approve":
        report.status, report.signed_off_by_id = "published", context.actor_id
        report.signed_off_at = report.published_at = clock.now()
    else:
        report.status = "returned"
    events.record(context.session, f"annual_report.{report.status}", actor_id=context.actor_id,
                  instance_id=report.instance_id, subject=("annual_report", report.id), payload={"year": report.year})
    return {"published": report.status == "published"}


def _plain(value):
    """Figures as JSON-plain data (rates may be None)."""
    return json.loads(json.dumps(value, default=str))


def report_month() -> int:
    """The month (1-12) in which the annual report starts by itself: QA_ANNUAL_REPORT_MONTH, April by default."""
    return int(os.environ.get("QA_ANNUAL_REPORT_MONTH", 4))


def run_scheduled(session_factory: sessionmaker) -> dict | None:
    """The timer start: in the configured month, start the annual report of the reporting year
    that has ended, for the QA lead, once. Claiming the year takes the trail's lock first, so
    several schedulers start it once; an existing report (started by hand too) is left alone."""
    today = clock.today()
    if today.month != report_month():
        return None
    year = reports.reporting_year(today.replace(day=1)) - 1
    return start_once(
        session_factory, "annual_report",
        already_started=lambda session: session.scalar(
            select(AnnualReport.id).where(AnnualReport.year == year)) is not None,
        claim=("annual_report.scheduled", ("annual_report_year", str(year)), {"year": year}),
        answers={"year": year, "due_on": add_working_days(today, SECTIONS_WORKING_DAYS).isoformat()},
        what=f"the annual QA report for {year}")


SCHEDULED_JOBS = [ScheduledJob("annual_report", 3600, run_scheduled)]
