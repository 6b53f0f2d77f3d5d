"""The demo's history of the multi-agency audit and the annual QA report runs through their real
processes and leaves what a person would find: an agreed multi-agency audit whose actions are in
the tracker, owned by the invited partner, and last reporting year's annual report, published."""
from sqlalchemy import select

from engine.accounts import User
from engine.clock import clock
from engine.qa.demo_activities import run_annual_report_history, run_multi_agency_history
from engine.qa.models import AuditAction
from engine.qa.thematic_models import AnnualReport
from engine.runtime.models import ProcessInstance


def test_the_demo_multi_agency_audit_is_agreed_and_its_actions_tracked(session):
    instance_id = run_multi_agency_history(session)
    session.commit()
    assert session.get(ProcessInstance, instance_id).status == "completed"
    actions = session.scalars(select(AuditAction).where(AuditAction.instance_id == instance_id)
                              .order_by(AuditAction.agency)).all()
    assert [(a.agency, a.description) for a in actions] == [
        ("council", "Demo: add health to the core group"), ("health", "Demo: share missed appointments weekly")]
    health_owner = session.get(User, next(a.owner_id for a in actions if a.agency == "health"))
    assert health_owner.username == "partner.health"


def test_the_demo_annual_report_is_last_reporting_years_and_published(session):
    instance_id = run_annual_report_history(session)
    session.commit()
    report = session.scalar(select(AnnualReport).where(AnnualReport.instance_id == instance_id))
    today = clock.today()
    assert report.year == (today.year if today.month >= 4 else today.year - 1) - 1
    assert report.status == "published"
    assert report.sections["priorities"] == "Demo: SMART plans and supervision at the expected frequency."
    assert session.scalar(select(User.username).where(User.id == report.signed_off_by_id)) == "director"
