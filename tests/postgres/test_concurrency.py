"""Concurrency on PostgreSQL, where requests really do run side by side.

SQLite serialises every writer (BEGIN IMMEDIATE), so it cannot show whether the row
locks and the revision check hold up. These tests put real threads, each with its own
session and connection, against one database at the same moment.
"""
import json
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from engine.accounts import User, UserRole
from engine.database import make_session_factory
from engine.migrations import upgrade
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Audit, Case, Team
from engine.runtime import events
from engine.runtime.errors import TaskNotOpen
from engine.runtime.events import verify_chain
from engine.runtime.instances import complete_task
from engine.runtime.models import ChainHead, Event, HumanTask, ProcessInstance
from tests import answers
from tests.conftest import user_named
# The SQLite lifecycle test, collected again here so that it runs against the
# PostgreSQL `session` of tests/postgres/conftest.py: one scenario, both databases.
from tests.test_engine_lifecycle import (  # noqa: F401
    test_good_audit_runs_from_allocation_to_closure as test_good_path_lifecycle_on_postgresql)

pytestmark = pytest.mark.postgres

APPEND_THREADS, TRANSACTIONS_PER_THREAD, EVENTS_PER_TRANSACTION = 8, 25, 2


def _open_task(session, audit: Audit, spec_name: str) -> HumanTask | None:
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id,
                                                  HumanTask.spec_name == spec_name, HumanTask.state == "ready"))


def _do(session, audit: Audit, spec_name: str, user_id: int, data: dict) -> None:
    task = _open_task(session, audit, spec_name)
    assert task is not None, f"{spec_name} is not open"
    complete_task(session, task.id, session.get(User, user_id), data)
    session.commit()


def _audit_awaiting_closure(session) -> Audit:
    """Allocate an audit and take it, with no actions to review, to the QA lead's closure."""
    qa_lead, auditor = user_named(session, "qa.lead"), user_named(session, "tm.mash1")
    moderator = user_named(session, "hos.cincp")
    case = session.scalar(select(Case).join(Team).where(Team.manager_id != auditor.id).order_by(Case.id))
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id), qa_lead)
    session.commit()
    for spec_name, user_id, data in (
            ("prepare_audit", audit.auditor_id, answers.PREPARE),
            ("complete_audit_tool", audit.auditor_id, answers.audit_tool()),
            ("record_feedback", audit.auditor_id, answers.FEEDBACK),
            ("grade_audit", audit.auditor_id, answers.grading("good", actions=0)),
            ("add_reflections", audit.worker_id, answers.REFLECTION),
            ("moderate_audit", audit.moderator_id, answers.MODERATION_AGREED)):
        _do(session, audit, spec_name, user_id, data)
    return audit


def test_two_people_completing_the_same_task_at_once_one_wins(session, session_factory):
    audit = _audit_awaiting_closure(session)
    closure = _open_task(session, audit, "confirm_closure")
    assert closure is not None and closure.assignee_id is None and closure.role == "qa_lead"
    deputy = user_named(session, "qa.officer1")
    session.add(UserRole(user_id=deputy.id, role="qa_lead"))  # a second person the task is offered to
    session.commit()
    revision_before = session.get(ProcessInstance, audit.instance_id).revision
    barrier = threading.Barrier(2)

    def attempt(username: str):
        with session_factory() as own:
            user = user_named(own, username)
            barrier.wait()
            try:
                complete_task(own, closure.id, user, answers.CLOSURE)
                own.commit()
                return username, None
            except TaskNotOpen as error:
                own.rollback()
                return username, error

    with ThreadPoolExecutor(2) as pool:
        outcomes = dict(pool.map(attempt, ["qa.lead", deputy.username]))

    winners = [name for name, error in outcomes.items() if error is None]
    losers = [error for error in outcomes.values() if error is not None]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    winner = user_named(session, winners[0])
    assert "already completed by" in str(losers[0]) and winner.display_name in str(losers[0])

    session.expire_all()
    assert session.get(ProcessInstance, audit.instance_id).revision == revision_before + 1
    assert session.get(HumanTask, closure.id).completed_by_id == winner.id
    completed_events = session.scalar(select(func.count(Event.seq)).where(
        Event.kind == "task.completed", Event.subject_type == "human_task", Event.subject_id == str(closure.id)))
    assert completed_events == 1
    assert session.get(Audit, audit.id).status == "closed"
    report = verify_chain(session)
    assert report.ok, report.problem


def test_concurrent_appends_leave_one_unbroken_chain(session_factory):
    with session_factory() as session:
        events_before = verify_chain(session).checked
    barrier = threading.Barrier(APPEND_THREADS)

    def append(worker: int) -> None:
        # One session for all of a worker's transactions, as a scheduler or CLI process keeps.
        with session_factory() as own:
            barrier.wait()
            for transaction in range(TRANSACTIONS_PER_THREAD):
                for part in range(EVENTS_PER_TRANSACTION):
                    events.record(own, "test.concurrent_append", subject=("worker", worker),
                                  payload={"transaction": transaction, "part": part})
                own.commit()

    with ThreadPoolExecutor(APPEND_THREADS) as pool:
        list(pool.map(append, range(APPEND_THREADS)))  # list() re-raises any worker's error

    with session_factory() as session:
        report = verify_chain(session)
        assert report.ok, report.problem
        appended = APPEND_THREADS * TRANSACTIONS_PER_THREAD * EVENTS_PER_TRANSACTION
        assert report.checked == events_before + appended
        assert session.get(ChainHead, 1).seq == report.checked
        rows = session.scalars(select(Event).where(Event.kind == "test.concurrent_append")
                               .order_by(Event.seq)).all()
    assert len(rows) == appended
    seqs_by_transaction = defaultdict(list)
    for row in rows:
        payload = json.loads(row.payload)
        seqs_by_transaction[(row.subject_id, payload["transaction"])].append((payload["part"], row.seq))
    for parts in seqs_by_transaction.values():
        # A transaction's events sit together, in the order they were recorded.
        assert [part for part, _ in parts] == list(range(EVENTS_PER_TRANSACTION))
        assert [seq for _, seq in parts] == list(range(parts[0][1], parts[0][1] + EVENTS_PER_TRANSACTION))


def test_a_session_holding_an_old_chain_head_still_appends_after_others(session_factory):
    """A long-lived session (CLI, scheduler) that loaded the chain head in an earlier
    transaction must seal against the head as it is now, not as it last saw it."""
    with session_factory() as holder, session_factory() as other:
        held = holder.get(ChainHead, 1)
        holder.commit()
        events.record(other, "test.appended_elsewhere")
        other.commit()
        events.record(holder, "test.appended_by_holder")
        holder.commit()
        # What the holder kept is old, and neither its seal nor its check of the chain used it.
        report = verify_chain(holder)
        assert report.ok, report.problem
        assert events.chain_head(holder) == (report.checked, report.head_hash)
        assert held.seq < report.checked


def test_first_events_of_a_new_database_appended_at_once_all_commit(empty_postgres_url):
    """No chain head exists yet: every writer must still get its events in, on one chain."""
    upgrade(empty_postgres_url)
    factory = make_session_factory(empty_postgres_url)
    barrier = threading.Barrier(APPEND_THREADS)

    def first_append(worker: int) -> None:
        with factory() as own:
            events.record(own, "test.first_append", subject=("worker", worker))
            barrier.wait()
            own.commit()

    try:
        with ThreadPoolExecutor(APPEND_THREADS) as pool:
            list(pool.map(first_append, range(APPEND_THREADS)))
        with factory() as session:
            report = verify_chain(session)
    finally:
        factory.kw["bind"].dispose()
    assert report.ok, report.problem
    assert report.checked == APPEND_THREADS
