"""Trying a draft model in memory: answers at each step, the path it takes, no live data.

A scenario is the data the process starts with, the answer given at each user task (and
timers let fire) in order, and the result each service task should pretend to return.
`run` builds the draft (refusing any that fails validation, so no unchecked script ever
runs; what does run still passes the script gate, with its budget), starts it in memory
with a script engine whose `call_service` never calls the real operation, replays the scenario and reports the path: the elements completed, the
sequence flows taken, what waits for an answer or a timer, and any error at its element.
Nothing is read from or written to the database; each run starts afresh, so a page can
post the scenario so far and get the same path back.

A scenario can be saved as a test (ModelScenario) with the outcome it had; every saved
scenario of a process must still have that outcome before a draft of it is published.
"""
import json
from dataclasses import asdict, dataclass, field

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.runtime import events
from engine.runtime.errors import WorkflowError
from engine.runtime.forms import applicable_answers, validate_answers
from engine.runtime.model_draft_models import ModelScenario
from engine.runtime.model_graph import ModelGraph
from engine.runtime.model_validation import validate_model
from engine.runtime.registry import user_task_properties
from engine.runtime.services import ServiceContext, ServiceScriptEngine

PAST = "2000-01-01T00:00:00+00:00"


class SandboxRefused(WorkflowError):
    """The draft cannot be tried: it has validation errors (`problems`)."""

    def __init__(self, problems: list[str]):
        super().__init__("Fix the draft's problems before trying it: an unchecked model never runs, "
                         "not even in the sandbox.")
        self.problems = problems


@dataclass
class Scenario:
    start_data: dict = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)   # {"task": id, "answers": {...}} or {"timer": id}
    services: dict = field(default_factory=dict)      # service task id -> simulated result

    @classmethod
    def from_dict(cls, data: dict) -> "Scenario":
        """A scenario from posted or stored JSON; anything malformed is a ValueError."""
        if not isinstance(data, dict):
            raise ValueError("a scenario is a JSON object")
        scenario = cls(data.get("start_data") or {}, data.get("steps") or [], data.get("services") or {})
        if not isinstance(scenario.start_data, dict) or not isinstance(scenario.services, dict) \
                or not isinstance(scenario.steps, list) \
                or not all(isinstance(s, dict) and ("task" in s or "timer" in s) for s in scenario.steps):
            raise ValueError("start data and services are objects; steps is a list of task or timer steps")
        return scenario

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Waiting:
    """A user task waiting for an answer, or a timer waiting to fire."""
    element_id: str
    name: str
    kind: str  # "task" or "timer"
    lane: str | None = None
    form_key: str | None = None
    due: str | None = None
    data: dict = field(default_factory=dict)
    inside: list = field(default_factory=list)  # the subprocesses it waits in, outermost last


@dataclass
class ServiceCall:
    element_id: str
    operation: str
    params: dict
    result: object
    simulated: bool


@dataclass
class SandboxRun:
    path: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    services: list[ServiceCall] = field(default_factory=list)
    ended: bool = False
    error: str | None = None
    error_element: str | None = None
    invalid_answers: dict = field(default_factory=dict)  # field path -> message, for the last step
    names: dict = field(default_factory=dict)  # element id -> its label, for the path as people read it

    def outcome(self) -> dict:
        """What a saved scenario expects: the same path, the same end or wait, the same error."""
        return {"path": self.path, "ended": self.ended, "waiting": [w.element_id for w in self.waiting],
                "error_element": self.error_element}


class SandboxScriptEngine(ServiceScriptEngine):
    """The product's script engine (the same gate, budget and helpers), except that
    service tasks return the scenario's simulated result instead of calling anything."""

    def __init__(self, results: dict, calls: list[ServiceCall]):
        super().__init__(ServiceContext(session=None, actor_id=None, instance_id=None))
        self.results, self.calls = results, calls

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        element_id = task.task_spec.bpmn_id
        result = self.results.get(element_id)
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        self.calls.append(ServiceCall(element_id, operation_name, params, result, element_id in self.results))
        return json.dumps(result)


def run(files: dict[str, str], scenario: Scenario) -> SandboxRun:
    """Replay `scenario` on the model in `files`; see the module docstring."""
    report = validate_model(files)
    if report.errors:
        raise SandboxRefused([problem.message for problem in report.errors])
    model, result = report.model, SandboxRun()
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs,
                            script_engine=SandboxScriptEngine(scenario.services, result.services))
    completed = []
    try:
        workflow.get_next_task(state=TaskState.READY).data.update({**(model.data or {}), **scenario.start_data})
        _engine_steps(workflow, completed)
        for number, step in enumerate(scenario.steps, start=1):
            if not _apply(workflow, step, number, model, result, completed):
                break
    except SpiffWorkflowException as error:
        spec = getattr(getattr(error, "task", None), "task_spec", None) or getattr(error, "task_spec", None)
        cause = error.__context__
        result.error = f"{error}".rstrip(". ") + (f": {type(cause).__name__}: {cause}" if cause else "")
        result.error_element = getattr(spec, "bpmn_id", None)
    result.path = [t.task_spec.bpmn_id for t in completed if t.task_spec.bpmn_id]
    result.names = {t.task_spec.bpmn_id: t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in completed
                    if t.task_spec.bpmn_id}
    result.flows = _flows_taken(files, model.manifest, completed)
    result.ended = workflow.is_completed() and result.error is None
    if result.error is None:
        result.waiting = _waiting(workflow)
    return result


def failing_scenarios(session: Session, process_key: str, files: dict[str, str]) -> list[str]:
    """Each saved scenario of the process that no longer has its saved outcome, with why."""
    failures = []
    for saved in session.scalars(select(ModelScenario).where(ModelScenario.process_key == process_key)
                                 .order_by(ModelScenario.name)):
        try:
            outcome = run(files, Scenario.from_dict(saved.scenario)).outcome()
        except (SandboxRefused, ValueError) as error:
            failures.append(f"'{saved.name}': {error}")
            continue
        if outcome != saved.expected:
            failures.append(f"'{saved.name}': {_difference(saved.expected, outcome)}")
    return failures


def save_scenario(session: Session, process_key: str, name: str, scenario: Scenario, files: dict[str, str],
                  user: User) -> ModelScenario:
    """Keep a scenario, with the outcome it has on `files` now, as a test for later drafts.
    Saving under an existing name replaces that scenario (the owner meant the new path)."""
    name = name.strip()
    if not name:
        raise WorkflowError("Enter a name for the scenario.")
    outcome = run(files, scenario).outcome()
    saved = session.scalar(select(ModelScenario).where(ModelScenario.process_key == process_key,
                                                       ModelScenario.name == name))
    if saved is None:
        saved = ModelScenario(process_key=process_key, name=name[:120])
        session.add(saved)
    saved.scenario, saved.expected = scenario.to_dict(), outcome
    saved.saved_by_id, saved.saved_at = user.id, clock.now()
    session.flush()
    events.record(session, "model.scenario_saved", actor_id=user.id, subject=("model_scenario", saved.id),
                  payload={"process": process_key, "name": saved.name, "expected": outcome})
    return saved


def delete_scenario(session: Session, process_key: str, scenario_id: int, user: User) -> None:
    saved = session.get(ModelScenario, scenario_id)
    if saved is None or saved.process_key != process_key:
        raise WorkflowError("There is no such scenario.")
    events.record(session, "model.scenario_deleted", actor_id=user.id, subject=("model_scenario", saved.id),
                  payload={"process": process_key, "name": saved.name})
    session.delete(saved)


def _apply(workflow, step: dict, number: int, model, result: SandboxRun, completed: list) -> bool:
    """Apply one scenario step; False (with the reason in `result`) when it cannot be applied."""
    element_id = step.get("task") or step.get("timer")
    if "timer" in step:
        timer = next((t for t in _waiting_timers(workflow) if t.task_spec.bpmn_id == element_id), None)
        if timer is None:
            result.error, result.error_element = f"step {number}: no timer '{element_id}' is waiting", element_id
            return False
        _fire(timer)
        workflow.refresh_timers()
        _engine_steps(workflow, completed)
        return True
    task = next((t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                 if t.task_spec.bpmn_id == element_id), None)
    if task is None:
        result.error, result.error_element = f"step {number}: '{element_id}' is not waiting for an answer", element_id
        return False
    answers = step.get("answers") or {}
    schema = model.forms.get(user_task_properties(task.task_spec).get("formJsonSchemaFilename", ""))
    if schema is not None:
        answers = applicable_answers(schema, answers, task.data)
    errors = validate_answers(schema, answers, task.data) if schema is not None else {}
    if errors:
        result.error, result.error_element = f"step {number}: the answers do not fit the form", element_id
        result.invalid_answers = errors
        return False
    task.data.update(answers)
    task.run()
    completed.append(task)
    _engine_steps(workflow, completed)
    return True


def _engine_steps(workflow, completed: list) -> None:
    workflow.do_engine_steps(did_complete_task=completed.append)


def _waiting_timers(workflow) -> list:
    return [t for t in workflow.get_tasks(state=TaskState.WAITING)
            if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)]


def _fire(task) -> None:
    """Make a waiting timer due now, whatever its expression said (the sandbox has no clock to move)."""
    definition = task.task_spec.event_definition
    if isinstance(definition, CycleTimerEventDefinition):
        value = task._get_internal_data("event_value")
        if value:
            value["next"] = PAST
    else:
        task._set_internal_data(event_fired=True)


def _waiting(workflow) -> list[Waiting]:
    found = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        found.append(Waiting(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, "task", lane=spec.lane,
                             form_key=user_task_properties(spec).get("formJsonSchemaFilename"),
                             data=_plain(task.data), inside=_subprocesses_around(task)))
    for task in _waiting_timers(workflow):
        spec = task.task_spec
        found.append(Waiting(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, "timer",
                             due=str(task._get_internal_data("event_value") or ""), inside=_subprocesses_around(task)))
    return found


def _subprocesses_around(task) -> list[str]:
    """The subprocess elements a task runs inside: a collapsed one is marked where it waits."""
    found, workflow = [], task.workflow
    while workflow.parent_task_id is not None:
        parent = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        found.append(parent.task_spec.bpmn_id)
        workflow = parent.workflow
    return found


def _flows_taken(files: dict[str, str], manifest: dict, completed: list) -> list[str]:
    """Sequence flows between consecutive named elements, for highlighting the path."""
    documents = {}
    for name in manifest.get("bpmn_files", []):
        documents[name] = etree.fromstring(files[name].encode())
    graph = ModelGraph(documents)
    taken = []
    for task in completed:
        parent = task.parent
        while parent is not None and not parent.task_spec.bpmn_id:
            parent = parent.parent
        if parent is None:
            continue
        for flow in graph.outgoing(parent.task_spec.bpmn_id):
            if flow.target == task.task_spec.bpmn_id and flow.id not in taken:
                taken.append(flow.id)
    return taken


def _plain(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))


def _difference(expected: dict, got: dict) -> str:
    before, now = expected.get("path", []), got.get("path", [])
    for index, (old, new) in enumerate(zip(before, now)):
        if old != new:
            return f"at step {index + 1} it now goes to '{new}' where it went to '{old}'"
    if got.get("error_element") and got.get("error_element") != expected.get("error_element"):
        return f"it now stops with an error at '{got['error_element']}'"
    if len(now) < len(before):
        waits = ", ".join(f"'{w}'" for w in got.get("waiting", [])) or "nothing"
        return f"it now waits at {waits} after '{now[-1] if now else 'the start'}', where it went on to '{before[len(now)]}'"
    if len(now) > len(before):
        return f"it now goes on to '{now[len(before)]}'"
    if got.get("ended") != expected.get("ended"):
        return "it used to end and now waits" if expected.get("ended") else "it used to wait and now ends"
    return f"it now waits at {', '.join(got.get('waiting', [])) or 'nothing'} instead of " \
           f"{', '.join(expected.get('waiting', [])) or 'nothing'}"
