"""The monitoring bench still builds a council its pages can read, and its events are a valid chain.

bench/monitoring.py writes tens of thousands of rows in bulk, shaped like the real
ones; if the tables or the pages change under it, it would time something else or
fail late. This builds a small council the same way and checks the outcome: the
trail verifies, the rows are where the bench says, and the pages it times answer.
It asserts outcomes only: benchmarks are never timed tests.
"""
from sqlalchemy import func, select

from bench.monitoring import WINDOW_IDS, generate, real_workflows, requests_to_time
from engine.runtime.events import verify_chain
from engine.runtime.models import Event, HumanTask, ProcessInstance
from tests.conftest import sign_in


def test_the_bench_council_is_consistent_and_its_pages_answer(app, database_url, session):
    workflows = real_workflows(database_url)
    counts = generate(database_url, 40, 10, workflows, open_window=20)
    assert counts["instance"] == counts["audit"] == counts["case"] == 40 and counts["event"] == 400
    # The open work is in the window of the 20 newest, numbered above the history, which is all closed.
    bench_rows = ProcessInstance.business_key.like("AUD-B%")
    in_window = dict(session.execute(select(ProcessInstance.id >= WINDOW_IDS, func.count(ProcessInstance.id))
                                    .where(bench_rows).group_by(ProcessInstance.id >= WINDOW_IDS)).all())
    assert in_window == {True: 20, False: 20}
    assert session.scalars(select(ProcessInstance.status).where(bench_rows, ProcessInstance.id < WINDOW_IDS)
                           .distinct()).all() == ["completed"]
    assert session.scalar(select(func.count(ProcessInstance.id)).where(
        bench_rows, ProcessInstance.id >= WINDOW_IDS, ProcessInstance.status != "completed")) > 0
    assert verify_chain(session).ok
    # With the audit run for real, and the worker's evidence task it starts (processes/audit_contribution).
    real = dict(session.execute(select(ProcessInstance.process_key, func.count(ProcessInstance.id))
                                .group_by(ProcessInstance.process_key)).all())
    assert real == {"case_file_audit": 41, "audit_contribution": 1}
    assert session.scalar(select(func.count(Event.seq)).where(Event.kind == "audit.allocated")) >= 41
    open_instances = session.scalar(select(func.count(func.distinct(HumanTask.instance_id))).where(HumanTask.state == "ready"))
    running = session.scalar(select(func.count(ProcessInstance.id)).where(ProcessInstance.status.in_(("running", "error", "suspended"))))
    assert open_instances == running
    session.rollback()
    clients = {}
    for name, who, path in requests_to_time(database_url, workflows):
        if who not in clients:
            clients[who] = app.test_client()
            sign_in(clients[who], who)
        response = clients[who].get(path)
        assert response.status_code == 200, name
        if name == "list: a filter matching nothing":  # what it is there to time
            assert "No process matches these filters." in response.text
