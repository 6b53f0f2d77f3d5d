"""Comparing two versions names what changed: steps, lanes, forms, timers and conditions."""
import json

from engine.runtime.model_diff import compare
from tests.model_samples import NOTE_FORM, flow, observation_files, process_files, user_task, with_step_after


def described(old, new) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for change in compare(old, new):
        found.setdefault(change.area, []).append(change.description)
    return found


def test_nothing_changed():
    assert compare(observation_files(), observation_files()) == []


def test_a_step_added_in_a_lane_and_a_step_renamed():
    old = observation_files()
    new = with_step_after(old, "observation.bpmn", "observe", "discuss", "Discuss with the worker")
    new["observation.bpmn"] = new["observation.bpmn"].replace("Record the observation", "Record what you saw")
    changes = described(old, new)
    assert "Added user task 'Discuss with the worker' (discuss) in lane 'QA lead'" in changes["elements"]
    assert "Renamed 'Record the observation' to 'Record what you saw'" in changes["elements"]
    assert "Removed the flow from 'Record the observation' (observe) to 'Observed' (end)" in changes["elements"]


def test_lane_roles_forms_timers_and_conditions():
    def files(role="qa_lead", duration='"P10D"', condition='outcome == "concern"', title="What did you observe?"):
        body = ('<bpmn:startEvent id="start"/>' + user_task("observe") + '<bpmn:exclusiveGateway id="g" default="fine"/>'
                '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>'
                f'{duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
                '<bpmn:endEvent id="end"/>' + flow("start", "observe") + flow("observe", "g") +
                flow("g", "wait", condition, "worry") + flow("g", "end", flow_id="fine") + flow("wait", "end"))
        form = json.loads(json.dumps(NOTE_FORM))
        form["properties"]["note"]["title"] = title
        made = process_files(body, forms={"note-schema.json": form})
        manifest = json.loads(made["process.json"])
        manifest["lanes"]["QA lead"]["role"] = role
        return {**made, "process.json": json.dumps(manifest)}

    changes = described(files(), files("qa_officer", '"P5D"', 'outcome != "good"', "What happened?"))
    assert changes["lanes"] == ["Lane 'QA lead': role 'qa_lead' → 'qa_officer'"]
    assert changes["timings"] == ["'wait': timer 'duration \"P10D\"' → 'duration \"P5D\"'"]
    assert changes["conditions"] == ["Condition from 'g' to 'wait': 'outcome == \"concern\"' → 'outcome != \"good\"'"]
    assert changes["forms"] == ["note-schema.json: 'note' title 'What did you observe?' → 'What happened?'"]
