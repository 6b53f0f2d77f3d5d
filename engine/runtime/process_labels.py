"""Names of processes and of their steps, as the published models call them.

Lists that read the human-task projection show a step by its BPMN id; these give it
the name a person knows, from the published versions (parsed once per version).
"""
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from engine.runtime.models import ProcessVersion
from engine.runtime.registry import built_model_for


def step_labels(session: Session) -> dict[tuple[str, str], str]:
    """(process key, BPMN element id) -> the step's name in the diagram, for every published version.

    Parsed once per version (the registry caches models by content hash), never per instance."""
    labels = {}
    for version in session.scalars(select(ProcessVersion).options(defer(ProcessVersion.files))
                                   .order_by(ProcessVersion.version)):
        model = built_model_for(version)
        for spec in (model.spec, *model.subprocess_specs.values()):
            for task_spec in spec.task_specs.values():
                if task_spec.bpmn_id and task_spec.manual:
                    labels[(version.process_key, task_spec.bpmn_id)] = task_spec.bpmn_name or task_spec.bpmn_id
    return labels


def process_names(session: Session) -> dict[str, str]:
    """Process key -> its name in the newest version's manifest."""
    rows = session.execute(select(ProcessVersion.process_key, ProcessVersion.manifest).order_by(ProcessVersion.version))
    return {key: manifest.get("name", key) for key, manifest in rows}
