"""Audit throughput: what one user task costs in the application, against SpiffWorkflow's own floor.

DESIGN.md sets the budget: a request that completes a task should cost a small
multiple of what SpiffWorkflow itself needs to load, run and save the workflow.
This measures, in one run on one machine, the same Good-path case file audit
(allocation to closure, nine user tasks) three ways:

  app SQLite      the whole application over HTTP (Flask's test client, the JSON API,
                  bearer tokens, guards, form validation, service operations, the
                  task projection, the event chain, commit) on a SQLite file;
  app PostgreSQL  the same on a fresh PostgreSQL database, if a server is reachable;
  bare Spiff      the model alone: parsed once, then per user task deserialize, set the
                  answers, run, do_engine_steps and serialize with SpiffWorkflow's stock
                  serializer; service tasks answered by a script engine returning canned JSON.

Per-task cost is the time of the call that completes one task (the HTTP POST, or the
bare load-run-save); finding the task in the inbox is timed apart. Run it with
`.venv/bin/python -m bench.audit_throughput [--audits N]`; bench/README.md explains the output.
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
from statistics import median, quantiles
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

# Run as `python bench/audit_throughput.py`, only bench/ is on the path: add the project
# before importing it.
if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import SpiffWorkflow
import sqlalchemy
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, text

import engine.qa  # noqa: F401  (registers the service operations the process calls)
from engine.accounts import User
from engine.database import make_engine, make_session_factory, sqlalchemy_url, temporary_postgres_database
from engine.migrations import upgrade
from engine.qa import demo_data
from engine.qa.models import Case, Team
from engine.runtime.registry import MANIFEST_NAME, PROCESSES_DIR, data_name, publish_all_from_disk
from engine.runtime.services import EXPRESSION_HELPERS
from tests import answers

PROCESS_KEY = "case_file_audit"
DEFAULT_AUDITS = 20
WARM_UP_AUDITS = 1
COUNTED_AUDITS = 1  # after the timed ones, untimed: its tasks' Python calls are counted
DEMO_SEED = 7
MODERATOR = "hos.cincp"
QA_LEAD = "qa.lead"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ACTIONS_AGREED = 2

# The Good path: (user task, whose lane, answers). Two agreed actions mean two
# review_action tasks from the multi-instance subprocess.
GOOD_PATH = (
    ("prepare_audit", "auditor", answers.PREPARE),
    ("complete_audit_tool", "auditor", answers.audit_tool()),
    ("record_feedback", "auditor", answers.FEEDBACK),
    ("grade_audit", "auditor", answers.grading("good", actions=ACTIONS_AGREED)),
    ("add_reflections", "worker", answers.REFLECTION),
    ("moderate_audit", "moderator", answers.MODERATION_AGREED),
    *(("review_action", "team_manager", answers.action_review()),) * ACTIONS_AGREED,
    ("confirm_closure", "qa_lead", answers.CLOSURE),
)


class BenchError(RuntimeError):
    """The scenario did not run as the Good path should: the figures would be meaningless."""


@dataclass
class Measurement:
    """One column of the table: timings of the measured (not warm-up) audits."""
    label: str
    task_ms: list[float] = field(default_factory=list)
    task_ms_by_step: dict[str, list[float]] = field(default_factory=dict)
    task_cpu_ms: list[float] = field(default_factory=list)  # this process's CPU time for the same calls
    task_statements: list[int] = field(default_factory=list)  # SQL statements each completion sent
    task_calls: list[int] = field(default_factory=list)  # Python calls per task, in the counted audit
    inbox_ms: list[float] = field(default_factory=list)
    audit_ms: list[float] = field(default_factory=list)
    audits: int = 0
    finished: int = 0  # audits whose process reached its end
    skipped: str = ""

    def add_task(self, step: str, milliseconds: float, cpu_milliseconds: float, statements: int | None = None) -> None:
        self.task_ms.append(milliseconds)
        self.task_cpu_ms.append(cpu_milliseconds)
        if statements is not None:  # bare SpiffWorkflow has no database
            self.task_statements.append(statements)
        self.task_ms_by_step.setdefault(step, []).append(milliseconds)


# ------------------------------------------------------------------ bare SpiffWorkflow

class CannedServiceEngine(PythonScriptEngine):
    """Answers every service task at once with plain JSON shaped like the real
    operation's result, so the gateways take the Good path without touching a database.
    The model's timer expressions call the product's expression helpers (working-day
    deadlines), so this engine has them too."""

    def __init__(self):
        super().__init__(environment=TaskDataEnvironment(dict(EXPRESSION_HELPERS)))

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        if operation_name == "record_grading":
            result = [{"id": number, "ref": f"A{number}", "due_on": action["due_on"],
                       "summary": f"A{number} {action['action']}"}
                      for number, action in enumerate(task.data["actions"], start=1)]
        elif operation_name == "record_moderation":
            result = {"moderated_grade": task.data["overall_grade"], "needs_escalation": False}
        else:
            result = True
        return json.dumps(result)


def parse_model():
    """The case file audit's spec and subprocess specs, straight from processes/."""
    folder = PROCESSES_DIR / PROCESS_KEY
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(folder / name) for name in manifest["bpmn_files"]])
    process_id = manifest["bpmn_process_id"]
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def bare_start_data(number: int) -> dict:
    """What allocation puts on the start event, with invented ids, beside the model's data files
    (its grading scale) that the runtime adds to every start."""
    folder = PROCESSES_DIR / PROCESS_KEY
    model_data = {data_name(name): json.loads((folder / name).read_text())
                  for name in json.loads((folder / MANIFEST_NAME).read_text()).get("data_files", [])}
    return {**model_data, "audit_id": number, "audit_reference": f"AUD-BENCH-{number:05d}", "case_ref": f"CS{number:06d}",
            "auditor": 1, "moderator": 2, "worker": 3, "team_manager": 4, "head_of_service": 5,
            "audit_due": "2027-01-01", "moderation_due": "2027-01-15"}


def bare_spiffworkflow(audits: int, warm_up: int = WARM_UP_AUDITS) -> Measurement:
    """Run `audits` Good-path audits on SpiffWorkflow alone, saving and loading around every task."""
    measurement = Measurement("bare Spiff")
    spec, subprocess_specs = parse_model()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    script_engine = CannedServiceEngine()
    for number in range(warm_up + audits + COUNTED_AUDITS):
        measured, counted = _phase(number, warm_up, audits)
        audit_started = time.perf_counter()
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
        workflow.get_next_task(state=TaskState.READY).data.update(bare_start_data(number))
        workflow.do_engine_steps()
        saved = serializer.serialize_json(workflow)
        for step, _lane, data in GOOD_PATH:
            complete = partial(bare_task, serializer, script_engine, saved, step, data)
            if counted:
                saved, calls = count_calls(complete)
                measurement.task_calls.append(calls)
                continue
            started, cpu_started = time.perf_counter(), time.process_time()
            saved = complete()
            if measured:
                measurement.add_task(step, (time.perf_counter() - started) * 1000,
                                     (time.process_time() - cpu_started) * 1000)
        if measured:
            measurement.audit_ms.append((time.perf_counter() - audit_started) * 1000)
            measurement.audits += 1
            measurement.finished += serializer.deserialize_json(saved).is_completed()
    return measurement


def bare_task(serializer, script_engine, saved: str, step: str, data: dict) -> str:
    """One user task on SpiffWorkflow alone: deserialize, answer, run, engine steps, serialize."""
    workflow = serializer.deserialize_json(saved)
    workflow.script_engine = script_engine
    task = next((ready for ready in workflow.get_tasks(state=TaskState.READY, manual=True)
                 if ready.task_spec.bpmn_id == step), None)
    if task is None:
        raise BenchError(f"bare SpiffWorkflow: {step} is not ready")
    task.data.update(data)
    task.run()
    workflow.do_engine_steps()
    return serializer.serialize_json(workflow)


def _phase(number: int, warm_up: int, audits: int) -> tuple[bool, bool]:
    """Whether audit `number` of a column is timed, and whether it is the counted one after them
    (neither: a warm-up)."""
    return warm_up <= number < warm_up + audits, number >= warm_up + audits


def count_calls(function: Callable[[], object]) -> tuple[object, int]:
    """Run `function`, counting the Python functions and built-ins it calls.

    A count that does not depend on how busy the machine is: on a shared machine two runs of
    the same code differ by half in milliseconds, while the calls stay within a few per task,
    so a change of a few percent shows here when it cannot in the timings. It leaves out what a
    call costs (a database round trip is one call), so it complements the timings."""
    calls = 0

    def tally(_frame, event, _arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(tally)
    try:
        result = function()
    finally:
        sys.setprofile(None)
    return result, calls


# ------------------------------------------------------------------ the application

def seed_database(url: str) -> None:
    """Migrate, publish the models on disk and generate the demo council, as the demo does."""
    upgrade(url)
    factory = make_session_factory(url)
    with factory() as session:
        publish_all_from_disk(session)
        demo_data.generate(session, seed=DEMO_SEED)
        session.commit()
    factory.kw["bind"].dispose()


def plan_audits(url: str, count: int) -> list[dict]:
    """Who does what in each audit: a case per audit, audited by the manager of another team."""
    factory = make_session_factory(url)
    with factory() as session:
        usernames = dict(session.execute(select(User.id, User.username)).all())
        managers = dict(session.execute(select(Team.id, Team.manager_id)).all())
        moderator_id = session.scalar(select(User.id).where(User.username == MODERATOR))
        cases = session.scalars(select(Case).where(Case.status == "open").order_by(Case.id).limit(count)).all()
    factory.kw["bind"].dispose()
    if len(cases) < count:
        raise BenchError(f"the demo council has only {len(cases)} open cases; ask for fewer audits")
    team_ids = sorted(managers)
    plans = []
    for number, case in enumerate(cases):
        auditor_team = next(team for team in team_ids[number % len(team_ids):] + team_ids if team != case.team_id)
        auditor_id = managers[auditor_team]
        plans.append({"case_reference": case.reference, "auditor_id": auditor_id, "moderator_id": moderator_id,
                      "auditor": usernames[auditor_id], "moderator": MODERATOR,
                      "worker": usernames[case.worker_id], "team_manager": usernames[managers[case.team_id]],
                      "qa_lead": QA_LEAD})
    return plans


class ApiClient:
    """Flask's test client speaking the JSON API, with one bearer token per person."""

    def __init__(self, client):
        self.client = client
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, username: str, expected: int, body: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        response = self.client.open(path, method=method, json=body, headers=headers)
        if response.status_code != expected:
            raise BenchError(f"{method} {path} as {username}: {response.status_code} {response.get_data(as_text=True)}")
        return response.get_json()

    def token(self, username: str) -> str:
        if username not in self.tokens:
            response = self.client.post("/api/v1/tokens", json={"username": username,
                                                                 "password": demo_data.DEMO_PASSWORD})
            if response.status_code not in (200, 201):
                raise BenchError(f"no API token for {username}: {response.status_code} {response.get_data(as_text=True)}")
            self.tokens[username] = response.get_json()["token"]
        return self.tokens[username]


def application_over_http(label: str, url: str, audits: int, warm_up: int = WARM_UP_AUDITS) -> Measurement:
    """Run `audits` Good-path audits through the JSON API of a fresh app on the seeded database at `url`."""
    from webapp import create_app
    from webapp.extensions import db

    measurement = Measurement(label)
    plans = plan_audits(url, warm_up + audits + COUNTED_AUDITS)
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url), "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False})
    api = ApiClient(app.test_client())
    with app.app_context():
        sent = count_statements(db.engine)
    try:
        for number, plan in enumerate(plans):
            measured, counted = _phase(number, warm_up, audits)
            audit_started = time.perf_counter()
            audit = api.call("POST", "/api/v1/audits", QA_LEAD, 201, {
                "case_reference": plan["case_reference"], "auditor_id": plan["auditor_id"],
                "moderator_id": plan["moderator_id"]})
            for step, lane, data in GOOD_PATH:
                listed = time.perf_counter()
                inbox = api.call("GET", "/api/v1/tasks", plan[lane], 200)
                listed_ms = (time.perf_counter() - listed) * 1000
                task = next((task for task in inbox["assigned"] + inbox["claimable"]
                             if task["spec_name"] == step and task["instance_id"] == audit["instance_id"]), None)
                if task is None:
                    raise BenchError(f"{label}: {step} is not in the inbox of {plan[lane]}")
                complete = partial(api.call, "POST", f"/api/v1/tasks/{task['id']}/complete", plan[lane], 200,
                                   {"data": data})
                if counted:
                    measurement.task_calls.append(count_calls(complete)[1])
                    continue
                started, cpu_started, statements_before = time.perf_counter(), time.process_time(), len(sent)
                complete()
                if measured:
                    measurement.add_task(step, (time.perf_counter() - started) * 1000,
                                         (time.process_time() - cpu_started) * 1000, len(sent) - statements_before)
                    measurement.inbox_ms.append(listed_ms)
            if measured:
                measurement.audit_ms.append((time.perf_counter() - audit_started) * 1000)
                measurement.audits += 1
                record = api.call("GET", f"/api/v1/audits/{audit['id']}", QA_LEAD, 200)
                measurement.finished += record["status"] == "closed"
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return measurement


def count_statements(engine) -> list:
    """A list that grows by one for every SQL statement `engine` sends (BEGIN and COMMIT are
    not statements here), so a bench can print how many round trips a request costs."""
    sent = []
    sqlalchemy.event.listen(engine, "before_cursor_execute", lambda *args: sent.append(None))
    return sent


def on_sqlite(audits: int) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        seed_database(url)
        return application_over_http("app SQLite", url, audits)


def fresh_postgres_database(server_url: str):
    """A new database on the server for one bench column, dropped afterwards."""
    return temporary_postgres_database(server_url, "qa_bench")


def postgres_problem(server_url: str) -> str:
    """Why the server cannot be used for the PostgreSQL column, or "" if it can."""
    if not server_url:
        return "no server URL given"
    server = make_engine(server_url, connect_args={"connect_timeout": 3})
    try:
        with server.connect() as connection:
            connection.execute(text("SELECT 1"))
    except sqlalchemy.exc.OperationalError as error:
        return f"server not reachable ({str(error.orig or error).strip().splitlines()[0]})"
    finally:
        server.dispose()
    return ""


def on_postgres(server_url: str, audits: int) -> Measurement:
    """The PostgreSQL column, or an empty one saying why the server could not be used."""
    problem = postgres_problem(server_url)
    if problem:
        return Measurement("app PostgreSQL", skipped=problem)
    with fresh_postgres_database(server_url) as url:
        seed_database(url)
        return application_over_http("app PostgreSQL", url, audits)


# ------------------------------------------------------------------ report

def p95(values: list[float]) -> float:
    """The 95th percentile (inclusive method, so small samples stay within the data)."""
    return quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else values[0]


def report(columns: list[Measurement], bare: Measurement) -> str:
    """The side-by-side table, the ratios to bare SpiffWorkflow, and the cost by step."""
    measured = [column for column in columns if not column.skipped]
    width = max(len(column.label) for column in columns) + 2
    rows = [("", [column.label for column in columns])]

    def row(name: str, value) -> None:
        rows.append((name, [("-" if column.skipped else value(column)) for column in columns]))

    row("audits finished", lambda c: f"{c.finished}/{c.audits}")
    row("user tasks timed", lambda c: str(len(c.task_ms)))
    row("per task, median ms", lambda c: f"{median(c.task_ms):.2f}")
    row("per task, p95 ms", lambda c: f"{p95(c.task_ms):.2f}")
    row("app / bare, median", lambda c: f"{median(c.task_ms) / median(bare.task_ms):.1f}x")
    row("app / bare, p95", lambda c: f"{p95(c.task_ms) / p95(bare.task_ms):.1f}x")
    row("per task, median CPU ms", lambda c: f"{median(c.task_cpu_ms):.2f}")
    row("CPU app / bare, median", lambda c: f"{median(c.task_cpu_ms) / median(bare.task_cpu_ms):.1f}x")
    row("Python calls per task, median", lambda c: f"{median(c.task_calls):,.0f}")
    row("calls app / bare, median", lambda c: f"{median(c.task_calls) / median(bare.task_calls):.2f}x")
    row("SQL statements per task", lambda c: (f"{median(c.task_statements):.0f} ({min(c.task_statements)}-"
                                              f"{max(c.task_statements)})") if c.task_statements else "n/a")
    row("inbox listing, median ms", lambda c: f"{median(c.inbox_ms):.2f}" if c.inbox_ms else "n/a")
    row("whole audit, median ms", lambda c: f"{median(c.audit_ms):.1f}")
    row("audits per second", lambda c: f"{1000 / median(c.audit_ms):.1f}")
    lines = [_line(name, cells, width) for name, cells in rows]
    lines += ["", "Median ms per task, by step:"]
    lines.append(_line("", [column.label for column in measured], width))
    for step in dict.fromkeys(step for step, _, _ in GOOD_PATH):
        lines.append(_line(step, [f"{median(column.task_ms_by_step[step]):.2f}" for column in measured], width))
    lines += [f"{column.label}: skipped, {column.skipped}" for column in columns if column.skipped]
    return "\n".join(lines)


def _line(name: str, cells: list[str], width: int) -> str:
    return f"{name:<26}" + "".join(f"{cell:>{width}}" for cell in cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audits", type=int, default=DEFAULT_AUDITS,
                        help=f"Good-path audits measured per column, after {WARM_UP_AUDITS} warm-up (default {DEFAULT_AUDITS})")
    parser.add_argument("--postgres-url", default=os.environ.get("QA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="server to make a throw-away database on; empty to leave PostgreSQL out "
                             "(default: QA_BENCH_POSTGRES_URL or %(default)s)")
    options = parser.parse_args(argv)
    if options.audits < 1:
        parser.error("--audits must be at least 1")

    print(f"Case file audit, Good path: {len(GOOD_PATH)} user tasks per audit, {options.audits} audits "
          f"measured per column after {WARM_UP_AUDITS} warm-up.")
    print(f"Python {platform.python_version()}, SpiffWorkflow {SpiffWorkflow.__version__}, "
          f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPUs, {platform.machine()}\n")
    started = time.perf_counter()
    bare = bare_spiffworkflow(options.audits)
    columns = [on_sqlite(options.audits), on_postgres(options.postgres_url, options.audits), bare]
    print(report(columns, bare))
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")
    unfinished = [column.label for column in columns if not column.skipped and column.finished != column.audits]
    if unfinished:
        print(f"Not every audit reached its end in: {', '.join(unfinished)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
