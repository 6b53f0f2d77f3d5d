"""Saving and loading workflows, with the process definition stored by reference.

SpiffWorkflow's serializer embeds the whole parsed process definition in every
saved workflow (most of a new instance's size and of its load time). Our
definitions are immutable published versions, so each instance row stores only
its task tree and data; loading takes the definition from the version's parsed,
cached model. Everything else is SpiffWorkflow's own converter.
"""
import json
from contextvars import ContextVar
from datetime import date
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.runtime.services import ServiceContext, ServiceScriptEngine

_model_being_loaded: ContextVar = ContextVar("model_being_loaded")


class _WorkflowWithSpecByReference(BpmnWorkflowConverter):
    """BpmnWorkflowConverter without the `spec` and `subprocess_specs` entries."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        model = _model_being_loaded.get()
        # Never SpiffWorkflow's default (ungated) script engine, even before the caller sets its own.
        workflow = self.target_class(model.spec, model.subprocess_specs, deserializing=True,
                                     script_engine=ServiceScriptEngine(ServiceContext(None, None, None)))
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
_registry.register(date, lambda value: {"value": value.isoformat()},
                   lambda value: date.fromisoformat(value["value"]))
_WorkflowWithSpecByReference(BpmnWorkflow, _registry)
_serializer = BpmnWorkflowSerializer(_registry)


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """The workflow's state as JSON, without its (shared, immutable) definition."""
    return _serializer.serialize_json(workflow)


def load_workflow(serialized: str, model) -> BpmnWorkflow:
    """Rebuild a workflow saved by `dump_workflow` on the definition of `model` (a BuiltModel)."""
    token = _model_being_loaded.set(model)
    try:
        return _serializer.from_dict(json.loads(serialized))
    finally:
        _model_being_loaded.reset(token)
