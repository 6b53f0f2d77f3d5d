"""Named service operations that BPMN service tasks call, and the script engine that calls them.

The runtime knows operations only by name. The QA domain registers its own with
`@service_operation("record_grading")`; a service task in a diagram names one in its
`spiffworkflow:serviceTaskOperator`. An operation receives the transaction's context,
the task data and the task's evaluated parameters, and returns JSON-plain data that
the diagram stores in the task's result variable.
"""
import builtins
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from sqlalchemy.orm import Session

OPERATIONS: dict[str, Callable] = {}
# Functions a diagram's expressions may call (e.g. working-day arithmetic for timers).
EXPRESSION_HELPERS: dict[str, Callable] = {}

# Builtins a diagram's expressions and scripts may use: enough for conditions and
# small data shaping, nothing that reaches files, imports or the interpreter.
SAFE_BUILTINS = {name: getattr(builtins, name)
                 for name in ("abs", "all", "any", "bool", "dict", "enumerate", "filter", "float",
                              "int", "len", "list", "map", "max", "min", "range", "round", "set",
                              "sorted", "str", "sum", "tuple", "zip")}


@dataclass
class ServiceContext:
    """What an operation may touch: the open transaction, who acted, which instance."""
    session: Session
    actor_id: int | None
    instance_id: int | None


def service_operation(name: str):
    """Register a function as the service operation `name`."""
    def register(function: Callable) -> Callable:
        OPERATIONS[name] = function
        return function
    return register


def expression_helper(name: str):
    """Offer a function to every script and expression in a diagram as `name`.

    Names should be distinctive: task data that used the same key would shadow it
    (SpiffWorkflow refuses such data)."""
    def register(function: Callable) -> Callable:
        EXPRESSION_HELPERS[name] = function
        return function
    return register


class ServiceScriptEngine(PythonScriptEngine):
    """Evaluates expressions with restricted builtins and dispatches service tasks."""

    def __init__(self, context: ServiceContext):
        super().__init__(environment=TaskDataEnvironment({
            "__builtins__": SAFE_BUILTINS, "date": date, "datetime": datetime, "timedelta": timedelta,
            **EXPRESSION_HELPERS}))
        self.context = context

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        operation = OPERATIONS.get(operation_name)
        if operation is None:
            raise WorkflowTaskException(f"Unknown service operation '{operation_name}'", task=task)
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        return json.dumps(operation(self.context, task.data, **params))
