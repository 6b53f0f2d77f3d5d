"""Named service operations that BPMN service tasks call, and the script engine that calls them.

The runtime knows operations only by name. The QA domain registers its own with
`@service_operation("record_grading")`; a service task in a diagram names one in its
`spiffworkflow:serviceTaskOperator`. An operation receives the transaction's context,
the task data and the task's evaluated parameters, and returns JSON-plain data that
the diagram stores in the task's result variable.
"""
import json
from dataclasses import dataclass
from typing import Callable

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from sqlalchemy.orm import Session

from engine.runtime.script_budget import ModelCodeError
from engine.runtime.script_gate import GatedEnvironment
from engine.runtime.script_names import (ENGINE_GLOBALS, EXPRESSION_HELPERS, SAFE_BUILTINS,  # noqa: F401 (re-exported)
                                         expression_helper)

OPERATIONS: dict[str, Callable] = {}


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


class ServiceScriptEngine(PythonScriptEngine):
    """Evaluates model code through the gate (script_gate) and dispatches service tasks."""

    def __init__(self, context: ServiceContext):
        super().__init__(environment=GatedEnvironment({"__builtins__": SAFE_BUILTINS, **ENGINE_GLOBALS,
                                                       **EXPRESSION_HELPERS}))
        self.context = context

    def evaluate(self, task, expression, external_context=None):
        try:
            return super().evaluate(task, expression, external_context)
        except ModelCodeError as error:
            raise _at(error, task)

    def execute(self, task, script, external_context=None):
        try:
            return super().execute(task, script, external_context)
        except ModelCodeError as error:
            raise _at(error, task)

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        operation = OPERATIONS.get(operation_name)
        if operation is None:
            raise WorkflowTaskException(f"Unknown service operation '{operation_name}'", task=task)
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        return json.dumps(operation(self.context, task.data, **params))


def _at(error: ModelCodeError, task) -> ModelCodeError:
    """Say which task the stopped code belongs to (a loop, timer or event evaluates its code
    before its task is marked as failed), so the error names the element."""
    error.task = error.task or task
    return error
