"""A cycle through the web pages: import the register, start, review, confirm, and the tracker.

The QA lead uses their own browser (test client) for every step; the tracker is then
read on the page and in its XLSX and CSV exports, and by people who see only part of it.
"""
import csv
import io
import re
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.accounts import User
from engine.clock import clock
from engine.database import make_session_factory
from engine.qa import cycles
from engine.qa.cycle_models import AuditCycle, CycleAllocation
from engine.qa.models import Audit, Case, GRADES, Team
from engine.runtime.instances import complete_task
from engine.runtime.models import Event, HumanTask
from engine.runtime.timers import fire_due_timers
from tests import answers
from tests.conftest import sign_in, user_named
from tests.test_web_lifecycle import read

NEW_CASES = ("case_reference,cohort,team,worker,opened_on,age_band\n"
             "WEB0001,Child in need,MASH 1,sw.mash1.1,2026-10-01,5-9\n"
             "WEB0002,Child protection,MASH 1,sw.mash1.2,2026-10-02,10-15\n")


@pytest.fixture(autouse=True)
def on_the_first_of_december():
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))


def signed_in(app, username):
    client = app.test_client()
    sign_in(client, username)
    return client


def test_import_start_review_confirm_and_the_tracker(app, session):
    qa = signed_in(app, "qa.lead")

    response = qa.post("/register", data={"register": (io.BytesIO(NEW_CASES.encode()), "register.csv")},
                       content_type="multipart/form-data")
    assert response.status_code == 302
    outcome = qa.get(response.location).text
    assert "Register imported" in outcome and re.search(r"New cases</dt>\s*<dd[^>]*>2<", outcome)

    form = qa.get("/cycles/start")
    assert form.status_code == 200 and 'name="sample_size"' in form.text and 'value="2"' in form.text
    response = qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "2", "cadence_weeks": "6"})
    assert response.status_code == 302 and response.location.endswith("/review")
    cycle_id = int(response.location.split("/")[2])
    review = qa.get(response.location).text
    seed, number = read(session, lambda s: (s.get(AuditCycle, cycle_id).seed, s.get(AuditCycle, cycle_id).number))
    assert f"random seed {seed}" in review and "Confirm and start 36 audits" in review

    swapped, removed = read(session, lambda s: [
        {"id": a.id, "case_id": a.case_id, "auditor_id": a.auditor_id, "moderator_id": a.moderator_id}
        for a in s.scalars(select(CycleAllocation).where(CycleAllocation.cycle_id == cycle_id)
                           .order_by(CycleAllocation.id).limit(2))])
    page = qa.get(f"/cycles/{cycle_id}/allocations/{swapped['id']}")
    new_auditor_id, new_auditor_name = read(session, lambda s: another_auditor(s, swapped["id"]))
    assert page.status_code == 200 and f'value="{new_auditor_id}"' in page.text
    refused = qa.post(f"/cycles/{cycle_id}/allocations/{swapped['id']}",
                      data={"action": "change", "auditor_id": str(swapped["auditor_id"]),
                            "moderator_id": str(swapped["auditor_id"])})
    assert refused.status_code == 422 and "The moderator cannot be the auditor" in refused.text
    changed = qa.post(f"/cycles/{cycle_id}/allocations/{swapped['id']}",
                      data={"action": "change", "auditor_id": str(new_auditor_id),
                            "moderator_id": str(swapped["moderator_id"])})
    assert changed.status_code == 302
    blank = qa.post(f"/cycles/{cycle_id}/allocations/{removed['id']}", data={"action": "remove", "reason": ""})
    assert blank.status_code == 422 and "Say why this case is removed" in blank.text
    gone = qa.post(f"/cycles/{cycle_id}/allocations/{removed['id']}",
                   data={"action": "remove", "reason": "Case transferring out next week"})
    assert gone.status_code == 302 and "Confirm and start 35 audits" in qa.get(gone.location).text

    confirmed = qa.post(f"/cycles/{cycle_id}/confirm")
    assert confirmed.status_code == 302 and confirmed.location.endswith(f"/cycles/{cycle_id}/tracker")
    assert "35 audits started" in qa.get(confirmed.location).text
    assert qa.get(f"/cycles/{cycle_id}/review").status_code == 302  # nothing left to review

    audits = read(session, lambda s: {a.case_id: (a.id, a.auditor_id) for a in s.scalars(
        select(Audit).where(Audit.cycle_id == cycle_id))})
    assert len(audits) == 35 and removed["case_id"] not in audits
    swapped_audit_id, auditor_now = audits[swapped["case_id"]]
    assert auditor_now == new_auditor_id
    removed_reference = read(session, lambda s: s.get(Case, removed["case_id"]).reference)

    graded = grade_and_moderate(session, swapped_audit_id)
    tracker = qa.get(f"/cycles/{cycle_id}/tracker").text
    assert "Audits you can see (35)" in tracker and removed_reference not in tracker
    assert new_auditor_name in tracker and GRADES["requires_improvement"] in tracker

    workbook = qa.get(f"/cycles/{cycle_id}/tracker.xlsx")
    assert workbook.headers["Content-Disposition"] == f'attachment; filename="cycle-{number}-allocation-tracker.xlsx"'
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:7] == ["Case reference", "Audit", "Team", "Auditor", "Allocated worker", "Team manager", "Moderator"]
    assert len(rows) == 35 and removed_reference not in {row[0] for row in rows}
    row = dict(zip(header, next(r for r in rows if r[0] == graded["case"])))
    assert (row["Auditor"], row["Allocated worker"], row["Team manager"], row["Moderator"]) == \
        (graded["auditor"], graded["worker"], graded["team_manager"], graded["moderator"])
    assert row["Allocated"].date() == row["Audit completed"].date() == row["Moderated"].date() == clock.today()
    assert row["Audit due"].date() == graded["due_on"] and row["Status"] == "Actions under review"
    assert (row["Auditor's grade"], row["Moderated grade"]) == (GRADES["good"], GRADES["requires_improvement"])

    exported = qa.get(f"/cycles/{cycle_id}/tracker.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert len(lines) == 35
    line = next(line for line in lines if line["Case reference"] == graded["case"])
    assert line["Audit due"] == graded["due_on"].isoformat() and line["Moderated grade"] == GRADES["requires_improvement"]
    kinds = read(session, lambda s: [e.kind for e in s.scalars(select(Event).where(
        Event.subject_type == "audit_cycle", Event.subject_id == str(cycle_id)).order_by(Event.seq))])
    assert kinds.count("cycle.tracker_exported") == 2 and "cycle.tracker_viewed" in kinds
    assert {"cycle.started", "cycle.drawn", "cycle.allocation_changed", "cycle.allocation_removed",
            "cycle.review_viewed", "cycle.allocation_viewed", "cycle.confirmed"} <= set(kinds)

    hos = signed_in(app, "hos.cic")
    their_rows = read(session, lambda s: _service_references(s, "hos.cic", cycle_id))
    seen = hos.get(f"/cycles/{cycle_id}/tracker").text
    assert f"Audits you can see ({len(their_rows)})" in seen
    hos_lines = list(csv.DictReader(io.StringIO(hos.get(f"/cycles/{cycle_id}/tracker.csv").data.decode("utf-8-sig"))))
    assert {line["Case reference"] for line in hos_lines} == their_rows


def another_auditor(session, allocation_id) -> tuple[int, str]:
    """A team manager who may audit the allocation's case, other than its auditor now: (id, name)."""
    allocation = session.get(CycleAllocation, allocation_id)
    user = next(user for user in cycles.eligible_people(session, allocation)[0] if user.id != allocation.auditor_id)
    return user.id, user.display_name


def _service_references(session, username, cycle_id) -> set[str]:
    head = user_named(session, username)
    return {audit.case.reference for audit in session.scalars(select(Audit).where(Audit.cycle_id == cycle_id))
            if audit.head_of_service_id == head.id or audit.moderator_id == head.id}


def grade_and_moderate(session, audit_id) -> dict:
    """Walk one started audit to moderation through the engine, as its people would."""
    audit = session.get(Audit, audit_id)
    steps = (("prepare_audit", "auditor_id", answers.PREPARE), ("complete_audit_tool", "auditor_id", answers.audit_tool()),
             ("record_feedback", "auditor_id", answers.FEEDBACK), ("grade_audit", "auditor_id", answers.grading("good")),
             ("add_reflections", "worker_id", answers.REFLECTION),
             ("moderate_audit", "moderator_id", answers.moderation_disagreed("requires_improvement")),
             ("reflective_discussion", "moderator_id", answers.DISCUSSION))
    for spec_name, person, data in steps:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                      HumanTask.spec_name == spec_name, HumanTask.state == "ready"))
        complete_task(session, task.id, session.get(User, getattr(audit, person)), data)
        session.commit()
    audit = session.get(Audit, audit.id)
    names = {part: session.get(User, getattr(audit, f"{part}_id")).display_name
             for part in ("auditor", "worker", "team_manager", "moderator")}
    result = {"case": audit.case.reference, "due_on": audit.due_on, **names}
    session.rollback()
    return result


def test_a_team_manager_sees_only_their_teams_rows_and_their_own_audits(app, session):
    qa = signed_in(app, "qa.lead")
    cycle_id = int(qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "2",
                                                  "cadence_weeks": "6"}).location.split("/")[2])
    assert qa.post(f"/cycles/{cycle_id}/confirm").status_code == 302
    manager_id = read(session, lambda s: user_named(s, "tm.cic1").id)
    expected = read(session, lambda s: {a.case.reference for a in s.scalars(select(Audit).where(
        Audit.cycle_id == cycle_id)) if manager_id in (a.auditor_id, a.team_manager_id)})
    team_rows = read(session, lambda s: {a.case.reference for a in s.scalars(
        select(Audit).join(Team, Team.id == Audit.team_id).where(Audit.cycle_id == cycle_id, Team.manager_id == manager_id))})
    assert team_rows and team_rows <= expected
    lines = list(csv.DictReader(io.StringIO(signed_in(app, "tm.cic1").get(f"/cycles/{cycle_id}/tracker.csv")
                                            .data.decode("utf-8-sig"))))
    assert {line["Case reference"] for line in lines} == expected


def test_start_form_errors_and_confirmation_refusals_are_messages(app, session):
    qa = signed_in(app, "qa.lead")
    bad = qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "none", "cadence_weeks": "99"})
    assert bad.status_code == 422 and "Enter the sample size as a whole number" in bad.text
    too_big = qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "60", "cadence_weeks": "6"})
    assert too_big.status_code == 422 and "between 1 and 50" in too_big.text
    assert read(session, lambda s: s.scalars(select(AuditCycle)).all()) == []

    cycle_id = int(qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "1",
                                                  "cadence_weeks": "6"}).location.split("/")[2])
    second = qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "1", "cadence_weeks": "6"})
    assert second.status_code == 422 and "Cycle 1 is awaiting review" in second.text
    reference, auditor_id, moderator_id = read(session, lambda s: _first_proposal(s, cycle_id))
    other = signed_in(app, "qa.officer1")
    assert other.post("/audits/allocate", data={
        "case_reference": reference, "auditor_id": auditor_id, "moderator_id": moderator_id,
        "audit_type": "random"}).status_code == 302
    warned = qa.get(f"/cycles/{cycle_id}/review").text
    assert f"Case {reference} already has an audit under way: remove it." in warned
    refused = qa.post(f"/cycles/{cycle_id}/confirm")
    assert refused.status_code == 409 and "There is a problem" in refused.text and reference in refused.text
    assert read(session, lambda s: s.scalars(select(Audit).where(Audit.cycle_id == cycle_id)).all()) == []


def _first_proposal(session, cycle_id) -> tuple[str, int, int]:
    allocation = session.scalars(select(CycleAllocation).where(CycleAllocation.cycle_id == cycle_id)
                                 .order_by(CycleAllocation.id)).first()
    return session.get(Case, allocation.case_id).reference, allocation.auditor_id, allocation.moderator_id


def test_the_review_task_in_the_inbox_confirms_the_same_way(app, session):
    qa = signed_in(app, "qa.lead")
    cycle_id = int(qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "1",
                                                  "cadence_weeks": "6"}).location.split("/")[2])
    task_id, instance_id = read(session, lambda s: s.execute(select(HumanTask.id, HumanTask.instance_id).where(
        HumanTask.spec_name == "review_allocations", HumanTask.state == "ready")).one())
    assert f'href="/tasks/{task_id}"' in qa.get("/inbox").text
    checked = qa.get(f"/cycles/{cycle_id}?check=draw").text
    assert "Reproduced</strong> Re-running the draw with seed" in checked
    page = qa.get(f"/tasks/{task_id}").text
    assert "Open Cycles in the header" in page and 'name="confirmed"' in page
    unticked = qa.post(f"/tasks/{task_id}", data={"action": "complete"})
    assert unticked.status_code == 422
    done = qa.post(f"/tasks/{task_id}", data={"action": "complete", "confirmed": "yes"})
    assert done.status_code == 302 and done.location.endswith("/inbox")
    proposed = read(session, lambda s: s.scalar(select(func.count(CycleAllocation.id)).where(CycleAllocation.cycle_id == cycle_id)))
    assert read(session, lambda s: s.scalar(select(func.count(Audit.id)).where(Audit.cycle_id == cycle_id))) == proposed
    assert read(session, lambda s: s.get(AuditCycle, cycle_id).status) == "audits_started"


def test_a_scheduled_cycle_is_started_early_from_the_start_page(app, session, database_url):
    qa = signed_in(app, "qa.lead")
    first = int(qa.post("/cycles/start", data={"sample_basis": "per_team", "sample_size": "1",
                                               "cadence_weeks": "6"}).location.split("/")[2])
    assert qa.post(f"/cycles/{first}/confirm").status_code == 302
    closes = read(session, lambda s: s.get(AuditCycle, first).closes_on)
    clock.set(datetime(closes.year, closes.month, closes.day, 9, 0, tzinfo=timezone.utc))
    factory = make_session_factory(database_url)
    fire_due_timers(factory)
    factory.kw["bind"].dispose()
    sign_in(qa, "qa.lead")  # weeks later: the earlier session has expired
    page = qa.get("/cycles/start").text
    assert "Cycle 2 is scheduled to start on 12 January 2027" in page and "Start Cycle 2 now" in page
    assert 'name="sample_size"' not in page
    started = qa.post("/cycles/start")
    assert started.status_code == 302 and started.location.endswith("/review")
    assert read(session, lambda s: s.scalar(select(AuditCycle.status).where(AuditCycle.number == 2))) == "in_review"
    kinds = read(session, lambda s: s.scalars(select(Event.kind).where(Event.subject_type == "audit_cycle")).all())
    assert "cycle.scheduled" in kinds and kinds.count("cycle.drawn") == 2
