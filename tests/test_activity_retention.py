"""Retention of the activities: past their period, a finished thematic audit's and dip sample's
free text, the start answers kept in instance_starts and the submitted answers are blanked; a
running activity and anything within its period are left; running again changes nothing and
the trail still verifies."""
from datetime import timedelta

from sqlalchemy import select

from engine.clock import clock
from engine.qa.demo_activities import run_dip_sample_history, run_thematic_history
from engine.qa.reports import reporting_year
from engine.qa.retention import ANONYMISED, apply_retention
from engine.qa.thematic_models import DipSample, ThematicAudit, ThematicSampleCase
from engine.runtime.events import verify_chain
from engine.runtime.models import Event, InstanceStart, ProcessInstance, TaskSubmission
from engine.runtime.starting import start_process
from tests.conftest import user_named


def test_finished_activities_past_their_period_are_blanked(session):
    thematic = run_thematic_history(session, sample_size=1, seed=4, swap_reason="Demo: the family moved away.")
    dip = run_dip_sample_history(session, seed=4)
    annual = start_process(session, user_named(session, "qa.lead"), "annual_report", {
        "year": reporting_year(clock.today()), "due_on": (clock.today() + timedelta(days=20)).isoformat()})
    session.commit()
    thematic_instance, dip_instance, theme = thematic.instance_id, dip.instance_id, thematic.theme
    assert session.get(InstanceStart, thematic_instance).answers["question"] not in ("", ANONYMISED)

    assert apply_retention(session)["activities_anonymised"] == 0  # within the period: untouched
    clock.advance(timedelta(days=6 * 365 + 130))
    counts = apply_retention(session)
    session.commit()
    assert counts["activities_anonymised"] >= 2

    thematic, dip = session.get(ThematicAudit, thematic.id), session.get(DipSample, dip.id)
    assert (thematic.question, thematic.findings, thematic.learning) == (ANONYMISED,) * 3
    assert thematic.theme == theme and thematic.reference.startswith("THM-")  # references and labels stay
    reasons = session.scalars(select(ThematicSampleCase.reason).where(ThematicSampleCase.thematic_id == thematic.id))
    assert sorted(reasons) == [ANONYMISED, ANONYMISED]  # the case swapped out and the one swapped in
    assert (dip.findings, dip.learning) == (ANONYMISED, ANONYMISED)
    answers = session.get(InstanceStart, thematic_instance).answers
    assert answers["question"] == ANONYMISED and all(
        value == ANONYMISED for value in answers.values() if isinstance(value, str))
    submissions = session.scalars(select(TaskSubmission).where(TaskSubmission.instance_id.in_(
        [thematic_instance, dip_instance]))).all()
    assert submissions and all(s.anonymised_at is not None for s in submissions)
    assert ANONYMISED not in session.get(ProcessInstance, annual.id).serialized  # still running: kept
    assert session.get(InstanceStart, annual.id).answers["due_on"] != ANONYMISED
    anonymised = {e.instance_id for e in session.scalars(select(Event).where(Event.kind == "activity.anonymised"))}
    assert {thematic_instance, dip_instance} <= anonymised and annual.id not in anonymised

    assert apply_retention(session)["activities_anonymised"] == 0
    assert verify_chain(session).ok
