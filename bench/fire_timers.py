"""Firing due timers: what the scheduler pays per timer, against SpiffWorkflow's own floor.

DESIGN.md: timers come from a due-time column, and a scheduler claims due instances
one at a time under a row lock. This fills a database with N instances of a small
timer process (start, a two-day timer, then a user task for the QA lead), all
waiting, moves the injected clock past their due time and times the scheduler's
own `fire_due_timers`:

  app SQLite          one scheduler: per instance lock, load, refresh the timers, run
                      the engine, save, project the new task, notify the QA lead,
                      seal the events, commit
  app PostgreSQL      the same on PostgreSQL, if a server is reachable
  app PostgreSQL x2   two schedulers side by side (two processes, as deployed)
  bare Spiff          SpiffWorkflow alone, in memory: per instance deserialize,
                      refresh_timers, do_engine_steps, serialize (stock serializer)

The waiting instances are made quickly: one is started through the runtime, and its
row is copied in bulk. Run `.venv/bin/python -m bench.fire_timers [--timers N]
[--postgres-url URL]` (default 10,000 timers, a few minutes on 2 cores). Rows:
"timers fired" must read N/N (the run stops with an error otherwise); "per timer ms"
is the whole firing run divided by N; "app / bare" is that against SpiffWorkflow's
own cost from the same run, the figure to watch across commits. "CPU per timer ms"
is the scheduler processes' own CPU time: on a machine whose cores are busy with other
work, the wall-clock figures are mostly time spent waiting for the database server to
be scheduled, and the CPU figures say what the application itself costs. It is a
benchmark, not a test: nothing asserts a time.
"""
import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import SpiffWorkflow
import sqlalchemy
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, insert, select

from bench.audit_throughput import (DEFAULT_POSTGRES_URL, BenchError, fresh_postgres_database, postgres_problem,
                                    seed_database)
from engine.clock import clock
from engine.database import make_session_factory
from engine.runtime.instances import start_instance
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.registry import build_model, publish
from engine.runtime.timers import fire_due_timers
from tests.test_timers import FILES

DEFAULT_TIMERS = 10_000
PROCESS_KEY = "reminder"
STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
DUE_PASSED = STARTED + timedelta(days=3)
COPY_BATCH = 1000
COPIED_COLUMNS = ("process_version_id", "process_key", "business_key", "status", "revision", "serialized",
                  "next_timer_at", "started_at", "updated_at")


@dataclass
class Measurement:
    label: str
    timers: int = 0
    fired: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the scheduler processes' own CPU time, summed
    skipped: str = ""


def prepare_waiting_instances(url: str, count: int) -> list[int]:
    """`count` instances waiting on a timer due at STARTED + 2 days; returns their ids."""
    factory = make_session_factory(url)
    try:
        with factory() as session:
            clock.set(STARTED)
            publish(session, FILES)
            first = start_instance(session, PROCESS_KEY, {}, actor_id=None)
            session.commit()
            row = {column: getattr(first, column) for column in COPIED_COLUMNS}
            highest = session.scalar(select(func.max(ProcessInstance.id)))
            for start in range(1, count, COPY_BATCH):
                session.execute(insert(ProcessInstance), [row] * min(COPY_BATCH, count - start))
            session.commit()
            return list(session.scalars(select(ProcessInstance.id).where(
                (ProcessInstance.id == first.id) | (ProcessInstance.id > highest))))
    finally:
        factory.kw["bind"].dispose()


def fire_all(label: str, url: str, ids: list[int], schedulers: int = 1) -> Measurement:
    """Time `schedulers` side-by-side runs of fire_due_timers until every timer has fired.

    Each scheduler is a process of its own, as deployed schedulers are: threads in one
    interpreter would take turns at its global lock and measure that, not the database."""
    clock.set(DUE_PASSED)
    context = multiprocessing.get_context("fork")  # the children inherit the product clock
    barrier, results = context.Barrier(schedulers), context.Queue()
    processes = [context.Process(target=_scheduler_process, args=(url, barrier, results)) for _ in range(schedulers)]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    problems = [outcome for outcome in outcomes if isinstance(outcome, str)]
    if problems:
        raise BenchError(f"{label}: a scheduler failed: {problems[0]}")
    fired = sum(outcome[0] for outcome in outcomes)
    seconds = max(outcome[2] for outcome in outcomes) - min(outcome[1] for outcome in outcomes)
    cpu_seconds = sum(outcome[3] for outcome in outcomes)
    factory = make_session_factory(url)
    try:
        with factory() as session:
            moved_on = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.instance_id.in_(ids)))
    finally:
        factory.kw["bind"].dispose()
    if fired != len(ids) or moved_on != len(ids):
        raise BenchError(f"{label}: {fired} fired and {moved_on} moved on, of {len(ids)} timers")
    return Measurement(label, len(ids), fired, seconds, cpu_seconds)


def _scheduler_process(url: str, barrier, results) -> None:
    """One scheduler: wait for the others, fire until nothing is due, report
    (fired, start, end, CPU seconds) or the error."""
    try:
        factory = make_session_factory(url)
        try:
            barrier.wait()
            started, cpu_started = time.monotonic(), time.process_time()
            fired = fire_due_timers(factory)
            results.put((fired, started, time.monotonic(), time.process_time() - cpu_started))
        finally:
            factory.kw["bind"].dispose()
    except Exception as error:  # the parent reports it; a child's traceback alone would leave it waiting
        results.put(f"{type(error).__name__}: {error}")


def bare_spiffworkflow(count: int) -> Measurement:
    """The same timer model in memory: load, fire, run and save each instance with SpiffWorkflow alone."""
    model = build_model(FILES)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    clock.set(STARTED)
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs)
    workflow.do_engine_steps()
    saved = serializer.serialize_json(workflow)
    clock.set(DUE_PASSED)
    fired = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(count):
        workflow = serializer.deserialize_json(saved)
        workflow.refresh_timers()
        workflow.do_engine_steps()
        serializer.serialize_json(workflow)
        fired += len(workflow.get_tasks(state=TaskState.READY, manual=True))
    return Measurement("bare Spiff", count, fired, time.perf_counter() - started, time.process_time() - cpu_started)


def on_sqlite(count: int) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        seed_database(url)
        return fire_all("app SQLite", url, prepare_waiting_instances(url, count))


def on_postgres(server_url: str, count: int) -> list[Measurement]:
    """One scheduler, then two side by side on a fresh batch; or empty columns saying why not."""
    problem = postgres_problem(server_url)
    if problem:
        return [Measurement("app PostgreSQL", skipped=problem), Measurement("app PostgreSQL x2", skipped=problem)]
    with fresh_postgres_database(server_url) as url:
        seed_database(url)
        one = fire_all("app PostgreSQL", url, prepare_waiting_instances(url, count))
        two = fire_all("app PostgreSQL x2", url, prepare_waiting_instances(url, count), schedulers=2)
    return [one, two]


def report(columns: list[Measurement], bare: Measurement) -> str:
    width = max(len(column.label) for column in columns) + 2
    bare_ms = bare.seconds * 1000 / bare.timers
    rows = [("", [column.label for column in columns])]

    def row(name, value):
        rows.append((name, ["-" if column.skipped else value(column) for column in columns]))

    row("timers fired", lambda c: f"{c.fired}/{c.timers}")
    row("total s", lambda c: f"{c.seconds:.1f}")
    row("per timer ms", lambda c: f"{c.seconds * 1000 / c.timers:.2f}")
    row("timers per second", lambda c: f"{c.timers / c.seconds:.0f}")
    row("app / bare", lambda c: f"{c.seconds * 1000 / c.timers / bare_ms:.1f}x")
    bare_cpu_ms = bare.cpu_seconds * 1000 / bare.timers
    row("CPU per timer ms", lambda c: f"{c.cpu_seconds * 1000 / c.timers:.2f}")
    row("CPU app / bare", lambda c: f"{c.cpu_seconds * 1000 / c.timers / bare_cpu_ms:.1f}x")
    lines = [f"{name:<22}" + "".join(f"{cell:>{width}}" for cell in cells) for name, cells in rows]
    lines += [f"{column.label}: skipped, {column.skipped}" for column in columns if column.skipped]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timers", type=int, default=DEFAULT_TIMERS,
                        help=f"due timers per column (default {DEFAULT_TIMERS})")
    parser.add_argument("--postgres-url", default=os.environ.get("QA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="server to make a throw-away database on; empty to leave PostgreSQL out")
    options = parser.parse_args(argv)
    if options.timers < 1:
        parser.error("--timers must be at least 1")
    print(f"Firing {options.timers} due timers per column (start, timer, user task for the QA lead).")
    print(f"Python {platform.python_version()}, SpiffWorkflow {SpiffWorkflow.__version__}, "
          f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPUs, {platform.machine()}\n")
    started = time.perf_counter()
    bare = bare_spiffworkflow(options.timers)
    columns = []
    for measure in (lambda: [on_sqlite(options.timers)], lambda: on_postgres(options.postgres_url, options.timers)):
        for column in measure():
            columns.append(column)
            print(f"  {column.label}: " + (f"skipped, {column.skipped}" if column.skipped else
                                           f"{column.fired} fired in {column.seconds:.1f} s"), flush=True)
    print()
    print(report([*columns, bare], bare))
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
