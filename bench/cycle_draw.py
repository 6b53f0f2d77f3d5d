"""Drawing and starting an allocation cycle of 500 audits, against SpiffWorkflow's own floor.

The demo council has 18 teams; this adds teams (each with a manager, six social
workers and 24 open cases) until a draw of `--per-team` cases from every team gives
`--audits` audits. Then, on the injected clock, it times what the QA lead's two
clicks cost:

  draw only        engine.qa.sampling.draw_sample on its own (median of 3 runs)
  start + draw     cycles.start_cycle: the cycle row, its process instance, the draw,
                   one proposal row per case and the cycle.drawn event, committed
  confirm          cycles.confirm_cycle: the review task completed, and the process's
                   service step starting one case file audit per allocation (audit row,
                   instance, first task, events), committed as one transaction
  bare Spiff       SpiffWorkflow alone: start the case file audit model N times in memory
                   (new workflow, start data, do_engine_steps, serialize), no database

for SQLite and, if a server is reachable, PostgreSQL. "per audit" is the confirmation
divided by N; "app / bare" sets it against the bare start of one audit in the same
run, the figure to watch across commits, in wall time and in this process's CPU time
(the CPU ratio moves less when other work shares the machine; the database server's
own CPU is not in it). "SQL statements per audit" counts what the confirmation sent. Run
`.venv/bin/python -m bench.cycle_draw [--audits N] [--per-team K] [--postgres-url URL]`
(defaults 500 and 5; about a minute on 2 cores). It is a benchmark, not a test:
nothing asserts a time, but the run stops with an error unless exactly N audits start.
"""
import argparse
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from statistics import median

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import SpiffWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, func, select

from bench.audit_throughput import (DEFAULT_POSTGRES_URL, BenchError, CannedServiceEngine, bare_start_data,
                                    fresh_postgres_database, parse_model, postgres_problem, seed_database)
from engine.accounts import User, UserRole
from engine.clock import clock
from engine.database import make_session_factory
from engine.qa import cycles
from engine.qa.models import Audit, Case, Service, Team
from engine.qa.sampling import draw_sample
from engine.runtime.models import HumanTask

DEFAULT_AUDITS = 500
DEFAULT_PER_TEAM = 5
WORKERS_PER_TEAM = 6
CASES_PER_WORKER = 4
STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@dataclass
class Column:
    label: str
    skipped: str = ""
    teams: int = 0
    draw_ms: float = 0.0
    start_ms: float = 0.0
    confirm_ms: float = 0.0
    confirm_cpu_ms: float = 0.0
    statements: int = 0
    audits: int = 0
    per_audit_ms: list[float] = field(default_factory=list)
    per_audit_cpu_ms: float = 0.0


def add_teams(url: str, wanted: int) -> int:
    """Add teams to the demo council until it has `wanted`; returns how many it has."""
    factory = make_session_factory(url)
    with factory() as session:
        have = session.scalar(select(func.count(Team.id)))
        password_hash = session.scalar(select(User.password_hash).limit(1))
        head = session.scalar(select(User).where(User.username == "hos.cincp"))
        service = Service(name="Bench Locality Teams", head_of_service_id=head.id)
        session.add(service)
        session.flush()
        for number in range(have + 1, wanted + 1):
            team = Team(name=f"Locality {number}", service_id=service.id)
            session.add(team)
            session.flush()
            manager = _person(session, f"tm.locality{number}", "team_manager", team, password_hash)
            team.manager_id = manager.id
            for worker_number in range(1, WORKERS_PER_TEAM + 1):
                worker = _person(session, f"sw.locality{number}.{worker_number}", "practitioner", team, password_hash)
                for case_number in range(1, CASES_PER_WORKER + 1):
                    session.add(Case(reference=f"BL{number:03d}{worker_number}{case_number}", cohort="child_in_need",
                                     team_id=team.id, worker_id=worker.id, opened_on=date(2026, 1, 5), age_band="5-9"))
        session.commit()
        total = session.scalar(select(func.count(Team.id)))
    factory.kw["bind"].dispose()
    return total


def _person(session, username: str, role: str, team: Team, password_hash: str) -> User:
    user = User(username=username, display_name=username, job_title=role, password_hash=password_hash, team_id=team.id)
    user.role_rows = [UserRole(role=role)]
    session.add(user)
    session.flush()
    return user


def run_cycle(label: str, url: str, audits: int, per_team: int) -> Column:
    """Seed, grow the council, then time the draw, the start and the confirmation."""
    column = Column(label)
    seed_database(url)
    column.teams = add_teams(url, math.ceil(audits / per_team))
    if column.teams * per_team != audits:
        raise BenchError(f"{column.teams} teams x {per_team} cases is not {audits} audits: choose --audits as a "
                         f"multiple of --per-team, at least {column.teams * per_team}")
    factory = make_session_factory(url)
    clock.set(STARTED)
    try:
        with factory() as session:
            draws = []
            for seed in (1, 2, 3):
                started = time.perf_counter()
                drawn = draw_sample(session, seed=seed, per_team=per_team, today=clock.today())
                draws.append((time.perf_counter() - started) * 1000)
            session.rollback()
            column.draw_ms = median(draws)
            qa_lead = session.scalar(select(User).where(User.username == "qa.lead"))
            started = time.perf_counter()
            cycle = cycles.start_cycle(session, qa_lead, sample_basis="per_team", sample_size=per_team, cadence_weeks=6)
            session.commit()
            column.start_ms = (time.perf_counter() - started) * 1000
            proposed = len(cycles.allocations(session, cycle))
            if proposed != audits or len(drawn) != audits:
                raise BenchError(f"{label}: the draw proposed {proposed} cases, not {audits}")
            statements = []
            event.listen(session.get_bind(), "before_cursor_execute", _counter(statements))
            started, cpu_started = time.perf_counter(), time.process_time()
            cycles.confirm_cycle(session, cycle, qa_lead)
            session.commit()
            column.confirm_ms = (time.perf_counter() - started) * 1000
            column.confirm_cpu_ms = (time.process_time() - cpu_started) * 1000
            column.statements = len(statements)
            column.audits = session.scalar(select(func.count(Audit.id)).where(Audit.cycle_id == cycle.id))
            first_tasks = session.scalar(select(func.count(HumanTask.id)).join(
                Audit, Audit.instance_id == HumanTask.instance_id).where(
                Audit.cycle_id == cycle.id, HumanTask.spec_name == "prepare_audit", HumanTask.state == "ready"))
            if column.audits != audits or first_tasks != audits:
                raise BenchError(f"{label}: {column.audits} audits and {first_tasks} first tasks, not {audits}")
    finally:
        clock.set(None)
        factory.kw["bind"].dispose()
    column.per_audit_ms = [column.confirm_ms / audits]
    column.per_audit_cpu_ms = column.confirm_cpu_ms / audits
    return column


def _counter(statements: list):
    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    return count


def bare_spiffworkflow(audits: int) -> Column:
    """Start the case file audit `audits` times with SpiffWorkflow alone (after one warm-up)."""
    column = Column("bare Spiff")
    spec, subprocess_specs = parse_model()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    engine = CannedServiceEngine()
    timings, cpu_timings = [], []
    for number in range(audits + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
        workflow.get_next_task(state=TaskState.READY).data.update(bare_start_data(number))
        workflow.do_engine_steps()
        serializer.serialize_json(workflow)
        if number:
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
    column.audits, column.confirm_ms, column.per_audit_ms = audits, sum(timings), [median(timings)]
    column.per_audit_cpu_ms = sum(cpu_timings) / audits  # a mean, as the app column's is
    return column


def on_sqlite(audits: int, per_team: int) -> Column:
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as folder:
        return run_cycle("app SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite'}", audits, per_team)


def on_postgres(server_url: str, audits: int, per_team: int) -> Column:
    problem = postgres_problem(server_url)
    if problem:
        return Column("app PostgreSQL", skipped=problem)
    with fresh_postgres_database(server_url) as url:
        return run_cycle("app PostgreSQL", url, audits, per_team)


def report(columns: list[Column], bare: Column, audits: int, per_team: int) -> str:
    floor = bare.per_audit_ms[0]
    rows = [("teams in the council", lambda c: f"{c.teams}"),
            ("audits started", lambda c: f"{c.audits}/{audits}"),
            ("draw only, ms", lambda c: f"{c.draw_ms:.0f}"),
            ("start + draw, ms", lambda c: f"{c.start_ms:.0f}"),
            ("confirm, s", lambda c: f"{c.confirm_ms / 1000:.2f}"),
            ("per audit, ms", lambda c: f"{c.per_audit_ms[0]:.1f}"),
            ("audits per second", lambda c: f"{audits / (c.confirm_ms / 1000):.0f}"),
            ("app / bare", lambda c: f"{c.per_audit_ms[0] / floor:.1f}x"),
            ("per audit CPU, ms", lambda c: f"{c.per_audit_cpu_ms:.1f}"),
            ("CPU app / bare", lambda c: f"{c.per_audit_cpu_ms / bare.per_audit_cpu_ms:.1f}x"),
            ("SQL statements per audit", lambda c: f"{c.statements / audits:.1f}")]
    width = 26
    lines = [f"Allocation cycle of {audits} audits ({per_team} per team), "
             f"Python {platform.python_version()}, SpiffWorkflow {SpiffWorkflow.__version__}, {os.cpu_count()} CPUs",
             "", f"{'':<{width}}" + "".join(f"{c.label:>18}" for c in columns) + f"{bare.label:>18}"]
    for name, value in rows:
        cells = ["-" if c.skipped else value(c) for c in columns]
        bare_cell = {"audits started": f"{bare.audits}/{audits}", "per audit, ms": f"{floor:.1f}",
                     "audits per second": f"{1000 / floor:.0f}", "app / bare": "1.0x",
                     "per audit CPU, ms": f"{bare.per_audit_cpu_ms:.1f}", "CPU app / bare": "1.0x"}.get(name, "-")
        lines.append(f"{name:<{width}}" + "".join(f"{cell:>18}" for cell in cells) + f"{bare_cell:>18}")
    lines += [f"{c.label}: {c.skipped}" for c in columns if c.skipped]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=DEFAULT_AUDITS)
    parser.add_argument("--per-team", type=int, default=DEFAULT_PER_TEAM)
    parser.add_argument("--postgres-url", default=os.environ.get("QA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help='PostgreSQL server for the second column ("" to leave it out)')
    options = parser.parse_args(argv)
    try:
        columns = [on_sqlite(options.audits, options.per_team),
                   on_postgres(options.postgres_url, options.audits, options.per_team)]
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    print(report(columns, bare_spiffworkflow(options.audits), options.audits, options.per_team))
    return 0


if __name__ == "__main__":
    sys.exit(main())
