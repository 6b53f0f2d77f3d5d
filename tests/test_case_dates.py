"""Dates a person enters in the case file audit happened on a real day for this child: each
dated form refuses a date before the case was opened, or in the future, with a message
against the field, and nothing changes (issue 11, small defects). The report's median days
to close an action is never negative."""
from datetime import timedelta

from sqlalchemy import func, select

from engine.clock import clock
from engine.qa import reports
from engine.qa.finding_models import AuditFinding
from engine.qa.models import AreaGrade, Audit, AuditAction, Case, Feedback
from tests import answers
from tests.test_reports import cycle_one, history  # noqa: F401  (fixture)
from tests.test_web_lifecycle import (Browsers, allocate_through_the_page, case_outside_team_of, do_task, open_tasks,
                                      people_of, posted, read)


def opened_on(session, audit_id):
    return read(session, lambda s: s.get(Case, s.get(Audit, audit_id).case_id).opened_on)


def refused(session, browsers, audit_id, spec_name, username, data):
    """Post `data` to the open task; it must be refused (422) and stay open. Returns the page."""
    instance_id = read(session, lambda s: s.get(Audit, audit_id).instance_id)
    [(task_id, form_key)] = open_tasks(session, instance_id, spec_name)
    response = browsers[username].post(f"/tasks/{task_id}", data=posted(form_key, data))
    assert response.status_code == 422, response.status_code
    assert open_tasks(session, instance_id, spec_name) == [(task_id, form_key)]
    return response.text


def count(session, model, audit_id):
    return read(session, lambda s: s.scalar(select(func.count()).select_from(model).where(model.audit_id == audit_id)))


def test_each_dated_form_refuses_a_date_before_the_case_was_opened_or_in_the_future(app, session):
    browsers = Browsers(app)
    audit_id = allocate_through_the_page(session, browsers, case_outside_team_of(session, "tm.mash1"))
    who = people_of(session, audit_id)
    opened = opened_on(session, audit_id)
    before, opened_text = (opened - timedelta(days=1)).isoformat(), opened.strftime("%-d %B %Y")
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    status = lambda: read(session, lambda s: s.get(Audit, audit_id).status)  # noqa: E731

    page = refused(session, browsers, audit_id, "prepare_audit", who["auditor"], dict(answers.PREPARE, meeting_date=before))
    assert ("The date of the audit meeting with the allocated worker cannot be before the case was opened "
            f"({opened_text})") in page
    page = refused(session, browsers, audit_id, "prepare_audit", who["auditor"],
                   dict(answers.PREPARE, meeting_date=tomorrow))
    assert "The date of the audit meeting with the allocated worker cannot be in the future" in page
    assert status() == "allocated"
    do_task(session, browsers, audit_id, "prepare_audit", who["auditor"], answers.PREPARE)

    tool = answers.audit_tool()
    tool["chronology"] = dict(tool["chronology"], last_entry_date=before)
    tool["child_voice"]["evidence"][0] = dict(tool["child_voice"]["evidence"][0], record_date=tomorrow)
    page = refused(session, browsers, audit_id, "complete_audit_tool", who["auditor"], tool)
    assert f"The date of the last chronology entry cannot be before the case was opened ({opened_text})" in page
    assert "The date of the record cannot be in the future" in page
    assert count(session, AuditFinding, audit_id) == 0
    do_task(session, browsers, audit_id, "complete_audit_tool", who["auditor"], answers.audit_tool())

    feedback = dict(answers.FEEDBACK, child=dict(answers.FEEDBACK["child"], feedback_date=before))
    page = refused(session, browsers, audit_id, "record_feedback", who["auditor"], feedback)
    assert f"The date of feedback cannot be before the case was opened ({opened_text})" in page
    do_task(session, browsers, audit_id, "record_feedback", who["auditor"], answers.FEEDBACK)
    do_task(session, browsers, audit_id, "grade_audit", who["auditor"], answers.grading("good", actions=1))
    assert count(session, Feedback, audit_id) == 3
    do_task(session, browsers, audit_id, "add_reflections", who["worker"], answers.REFLECTION)

    do_task(session, browsers, audit_id, "moderate_audit", who["moderator"], answers.moderation_disagreed())
    page = refused(session, browsers, audit_id, "reflective_discussion", who["moderator"],
                   dict(answers.DISCUSSION, discussion_date=before))
    assert f"The date of the discussion cannot be before the case was opened ({opened_text})" in page
    assert read(session, lambda s: s.get(Audit, audit_id).moderation_outcome) is None
    assert read(session, lambda s: s.scalar(select(func.count()).select_from(AreaGrade).where(
        AreaGrade.audit_id == audit_id, AreaGrade.stage == "moderator"))) == 0
    do_task(session, browsers, audit_id, "reflective_discussion", who["moderator"], answers.DISCUSSION)
    assert read(session, lambda s: s.get(Audit, audit_id).discussion_date.isoformat()) == \
        answers.DISCUSSION["discussion_date"]

    # A supervision review may not precede the day the action was agreed, later than the case's opening.
    review = answers.action_review()
    review["action_review"] = dict(review["action_review"], supervision_date=before)
    page = refused(session, browsers, audit_id, "review_action", who["team_manager"], review)
    assert "The date of supervision cannot be before the action was agreed" in page
    assert read(session, lambda s: s.scalars(select(AuditAction.reviewed_in_supervision_on).where(
        AuditAction.audit_id == audit_id)).all()) == [None]


def test_the_median_days_to_close_is_never_negative(history):
    session, period = history, cycle_one()
    assert reports.build_report(session, period)["actions"]["median_days_to_close"] == 20
    for action in session.scalars(select(AuditAction).where(AuditAction.completed_on.is_not(None))):
        action.completed_on = action.completed_on - timedelta(days=60)  # recorded before it was agreed
    session.flush()
    assert reports.build_report(session, period)["actions"]["median_days_to_close"] == 0
