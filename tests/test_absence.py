"""Absence and cover: the delegate sees the absent person's tasks, completes them on their
behalf (recorded as such), and stops seeing them when the absence ends."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import clock
from engine.organisation.absence import end_absence, set_absence
from engine.organisation.directory import OrganisationError
from engine.runtime.delegation import covered_tasks
from engine.runtime.errors import NotAllowed
from engine.runtime.instances import complete_task
from engine.runtime.models import Event, HumanTask
from tests import answers
from tests.conftest import sign_in, user_named
from tests.test_monitoring import allocate
from tests.test_web_lifecycle import posted, read


def open_task(session, instance_id: int) -> HumanTask:
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready"))


def test_the_delegate_completes_on_behalf_and_new_tasks_follow_until_the_absence_ends(session):
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    away, cover = user_named(session, "tm.mash1"), user_named(session, "tm.mash2")
    with pytest.raises(NotAllowed):
        set_absence(session, user_named(session, "sw.mash1.1"), away.id, cover.id, clock.today(), clock.today())
    with pytest.raises(OrganisationError, match="none of"):
        set_absence(session, away, away.id, user_named(session, "sw.mash1.1").id, clock.today(), clock.today())
    task = open_task(session, audit.instance_id)
    assert covered_tasks(session, cover) == []
    with pytest.raises(NotAllowed):
        complete_task(session, task.id, cover, answers.PREPARE)
    session.rollback()
    absence = set_absence(session, away, away.id, cover.id, clock.today(), clock.today() + timedelta(days=5), "Leave")
    session.commit()
    assert [t.id for t in covered_tasks(session, cover)] == [task.id]
    complete_task(session, task.id, cover, answers.PREPARE)
    session.commit()
    completed = json.loads(session.scalar(select(Event.payload).where(Event.kind == "task.completed")
                                          .order_by(Event.seq.desc())))
    assert completed["on_behalf"]["delegate_for"] == away.id and completed["on_behalf"]["absence_id"] == absence.id
    assert session.get(HumanTask, task.id).completed_by_id == cover.id
    following = open_task(session, audit.instance_id)
    assert following.assignee_id == away.id  # still theirs: the delegate covers, nothing is reassigned
    assert [t.id for t in covered_tasks(session, cover)] == [following.id]
    end_absence(session, away, absence.id)
    session.commit()
    assert covered_tasks(session, cover) == []
    assert session.scalar(select(Event.kind).where(Event.kind == "absence.ended")) == "absence.ended"


def test_a_future_absence_does_not_cover_yet(session):
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    away, cover = user_named(session, "tm.mash1"), user_named(session, "tm.mash2")
    set_absence(session, away, away.id, cover.id, clock.today() + timedelta(days=3), clock.today() + timedelta(days=5))
    session.commit()
    assert covered_tasks(session, cover) == []
    with pytest.raises(NotAllowed):
        complete_task(session, open_task(session, audit.instance_id).id, cover, answers.PREPARE)


def test_the_delegate_sees_and_completes_in_the_browser(app, session):
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    task_id, instance_id = open_task(session, audit.instance_id).id, audit.instance_id
    away_id, cover_id = user_named(session, "tm.mash1").id, user_named(session, "tm.mash2").id
    session.close()
    away = app.test_client()
    sign_in(away, "tm.mash1")
    today = clock.today()
    refused = away.post(f"/people/{away_id}/absence", data={"delegate_id": cover_id, "starts_on-day": today.day,
                                                            "starts_on-month": today.month, "starts_on-year": today.year})
    assert refused.status_code == 422 and "Enter the last day" in refused.text
    later = today + timedelta(days=7)
    assert away.post(f"/people/{away_id}/absence", data={
        "delegate_id": cover_id, "starts_on-day": today.day, "starts_on-month": today.month,
        "starts_on-year": today.year, "ends_on-day": later.day, "ends_on-month": later.month,
        "ends_on-year": later.year}).status_code == 302
    cover = app.test_client()
    sign_in(cover, "tm.mash2")
    inbox = cover.get("/inbox").text
    assert "Covering for absent colleagues" in inbox and f"/tasks/{task_id}" in inbox
    done = cover.post(f"/tasks/{task_id}", data=posted("prepare_audit-schema.json", answers.PREPARE))
    assert done.status_code == 302
    assert read(session, lambda s: s.get(HumanTask, task_id).completed_by_id) == cover_id
    other = app.test_client()
    sign_in(other, "sw.mash1.1")
    assert other.get(f"/people/{away_id}/absence").status_code == 403
    assert read(session, lambda s: open_task(s, instance_id).assignee_id) == away_id


def test_the_api_lists_covered_tasks_and_the_delegate_completes_them(app, session):
    audit = allocate(session, "Children in Care 1", "tm.mash1", "hos.cincp")
    task_id = open_task(session, audit.instance_id).id
    away, cover = user_named(session, "tm.mash1"), user_named(session, "tm.mash2")
    set_absence(session, away, away.id, cover.id, clock.today(), clock.today())
    session.commit()
    session.close()
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "tm.mash2", "password": "demo-password"}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    listed = client.get("/api/v1/tasks", headers=headers).get_json()
    assert [task["id"] for task in listed["covering"]] == [task_id]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=headers).status_code == 200
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": answers.PREPARE}, headers=headers)
    assert done.status_code == 200
    assert read(session, lambda s: s.get(HumanTask, task_id).completed_by_id) == cover.id
