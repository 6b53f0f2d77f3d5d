"""Every place a model's BPMN holds code, found by what the element *is*, not by a list of fields.

Validation checks the places it knows (scripts, conditions, timers, ...) with their data;
this sweep makes sure nothing else slips through unchecked: any BPMN or SpiffWorkflow
element whose text SpiffWorkflow evaluates as Python (or that the BPMN standard defines as
an expression, like data association transformations, which SpiffWorkflow ignores today)
and any service task parameter, wherever it sits — on a step, a flow, or a message,
signal, error or correlation property defined once for the whole diagram. Each place says
which element it belongs to, so the process owner is told at that element.
"""
import re
from dataclasses import dataclass

from lxml import etree

from engine.runtime.model_graph import BPMN, SPIFF, ModelGraph

SCRIPT_TAGS = {"script": "script", "preScript": "pre-script", "postScript": "post-script"}
EXPRESSION_TAGS = {
    "conditionExpression": "condition", "condition": "condition", "loopCondition": "loop condition",
    "loopCardinality": "number of instances", "completionCondition": "completion condition",
    "timeDate": "timer", "timeDuration": "timer", "timeCycle": "timer",
    "messagePayload": "message payload", "payloadExpression": "payload",
    "messagePath": "correlation expression", "formalExpression": "expression", "expression": "correlation expression",
    "transformation": "data transformation", "from": "assignment", "to": "assignment",
    "activationCondition": "activation condition", "dataPath": "correlation expression",
}
_REFERENCES = {"message": "messageRef", "signal": "signalRef", "error": "errorRef", "escalation": "escalationRef"}


@dataclass(frozen=True)
class CodePlace:
    element_id: str | None  # where the modeler shows the problem
    file: str
    what: str               # "the loop condition of user task 'Visit' (visit)"
    source: str
    script: bool            # statements (a script) rather than one expression


def code_places(graph: ModelGraph, documents: dict[str, etree._Element]) -> list[CodePlace]:
    """Every piece of code in the BPMN `documents` (DMN tables are checked cell by cell elsewhere)."""
    places = []
    for file, root in documents.items():
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue  # a comment or processing instruction
            tag = etree.QName(element)
            if tag.namespace not in (BPMN, SPIFF):
                continue
            if tag.namespace == SPIFF and tag.localname == "parameter" and element.get("value") is not None:
                places.append(_place(graph, root, element, file, f"parameter '{element.get('id')}'",
                                     element.get("value"), False))
            words = SCRIPT_TAGS.get(tag.localname) or EXPRESSION_TAGS.get(tag.localname)
            if words and (element.text or "").strip():
                places.append(_place(graph, root, element, file, words, element.text, tag.localname in SCRIPT_TAGS))
    return places


def _place(graph: ModelGraph, root, element, file: str, words: str, source: str, script: bool) -> CodePlace:
    for owner in (element, *element.iterancestors()):
        owner_id = owner.get("id")
        if owner_id in graph.nodes:
            node = graph.nodes[owner_id]
            return CodePlace(node.id, file, f"the {words} of {node.kind_label} {node.label}", source, script)
        if owner_id in graph.flows:
            return CodePlace(owner_id, file, f"the {words} of flow {owner_id}", source, script)
        if owner.getparent() is root and owner_id:  # defined once for the diagram: a message, a signal, ...
            kind = etree.QName(owner).localname
            label = f"'{owner.get('name')}' ({owner_id})" if owner.get("name") else f"'{owner_id}'"
            words_for_kind = re.sub(r"(?<!^)(?=[A-Z])", " ", kind).lower()  # correlationProperty: correlation property
            return CodePlace(_first_user(root, kind, owner_id, element) or owner_id, file,
                             f"the {words} of {words_for_kind} {label}", source, script)
    return CodePlace(None, file, f"the {words} in {file}", source, script)


def _first_user(root, kind: str, owner_id: str, element) -> str | None:
    """A step that uses a diagram-wide definition, to show its problem on the diagram."""
    if kind == "correlationProperty":
        expression = next((e for e in element.iterancestors()
                           if etree.QName(e).localname == "correlationPropertyRetrievalExpression"), None)
        kind, owner_id = "message", expression.get("messageRef") if expression is not None else None
    attribute = _REFERENCES.get(kind)
    if attribute is None or owner_id is None:
        return None
    for definition in root.iter(f"{{{BPMN}}}{kind}EventDefinition"):
        if definition.get(attribute) == owner_id and definition.getparent().get("id"):
            return definition.getparent().get("id")
    for task in root.iter(f"{{{BPMN}}}sendTask", f"{{{BPMN}}}receiveTask"):
        if task.get(attribute) == owner_id:
            return task.get("id")
    return None
