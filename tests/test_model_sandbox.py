"""Trying a draft in the sandbox: the path it takes, nothing live touched, saved scenarios
as tests that must still pass before publishing."""
import pytest
from sqlalchemy import func, select

from engine.qa.models import Audit
from engine.runtime.model_drafts import DraftError, open_draft, publish_draft, save_draft
from engine.runtime.models import Event, HumanTask, ProcessInstance
from engine.runtime.registry import PROCESSES_DIR, publish, read_model_from_disk
from engine.runtime.sandbox import SandboxRefused, Scenario, run, save_scenario
from tests import answers
from tests.conftest import user_named
from tests.model_samples import flow, observation_files, process_files, user_task, with_step_after

ACTION = {"id": 1, "ref": "A1", "due_on": "2027-01-11", "summary": "A1 Update the chronology"}
ESCALATION = {"escalation_id": 1, "reason": "inadequate", "due_on": "2027-01-05"}
START_DATA = {"audit_id": 1, "auditor": 2, "worker": 3, "audit_due": "2027-01-11", "moderation_due": "2027-01-25"}


def audit_scenario(grade="good", services=None) -> Scenario:
    return Scenario(START_DATA, [{"task": "prepare_audit", "answers": answers.PREPARE},
                                 {"task": "complete_audit_tool", "answers": answers.audit_tool()},
                                 {"task": "record_feedback", "answers": answers.FEEDBACK},
                                 {"task": "grade_audit", "answers": answers.grading(grade, actions=1)}],
                    services if services is not None else {"store_grading": [ACTION], "escalate": ESCALATION})


def live_counts(session):
    return [session.scalar(select(func.count()).select_from(t)) for t in (ProcessInstance, HumanTask, Audit, Event)]


def test_the_path_through_the_case_file_audit_with_simulated_services(session):
    before = live_counts(session)
    result = run(read_model_from_disk(PROCESSES_DIR / "case_file_audit"), audit_scenario("inadequate"))
    steps = ["audit_allocated", "prepare_audit", "mark_audit_started", "complete_audit_tool", "record_feedback",
             "grade_audit", "store_grading", "escalate"]
    assert [element for element in result.path if element in steps] == steps  # in this order
    assert "flow_check_escalation_to_escalate" in result.flows
    assert {"add_reflections", "acknowledge_escalation"} <= {w.element_id for w in result.waiting if w.kind == "task"}
    calls = {c.element_id: c for c in result.services}
    assert calls["mark_audit_started"].params == {"audit_id": 1} and not calls["mark_audit_started"].simulated
    assert calls["store_grading"].simulated and calls["store_grading"].result == [ACTION]
    assert live_counts(session) == before  # no instance, task, audit or event was written


def test_answers_that_do_not_fit_the_form_stop_at_that_step():
    scenario = audit_scenario()
    scenario.steps[0] = {"task": "prepare_audit", "answers": {"meeting_date": "soon"}}
    result = run(read_model_from_disk(PROCESSES_DIR / "case_file_audit"), scenario)
    assert result.error_element == "prepare_audit" and "meeting_date" in result.invalid_answers
    assert "prepare_audit" not in result.path and not result.waiting


def test_an_expression_failing_on_simulated_data_is_shown_at_its_element():
    scenario = audit_scenario(services={})  # record_moderation returns nothing: the gateway cannot read it
    scenario.steps += [{"task": "add_reflections", "answers": answers.REFLECTION},
                       {"task": "moderate_audit", "answers": answers.MODERATION_AGREED}]
    result = run(read_model_from_disk(PROCESSES_DIR / "case_file_audit"), scenario)
    assert result.error_element == "check_moderated_escalation"
    assert "TypeError: 'NoneType' object is not subscriptable" in result.error


def test_timers_can_be_let_fire():
    body = ('<bpmn:startEvent id="start"/><bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
            '<bpmn:timeDuration>"P10D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
            + user_task("observe") + '<bpmn:endEvent id="end"/>' + flow("start", "wait") + flow("wait", "observe")
            + flow("observe", "end"))
    files = process_files(body)
    waiting = run(files, Scenario())
    assert [(w.element_id, w.kind) for w in waiting.waiting] == [("wait", "timer")]
    done = run(files, Scenario(steps=[{"timer": "wait"}, {"task": "observe", "answers": {"note": "seen"}}]))
    assert done.ended and done.path == ["start", "wait", "observe", "end"]


def test_a_draft_with_an_unsafe_script_never_runs():
    body = ('<bpmn:startEvent id="start"/><bpmn:scriptTask id="tidy"><bpmn:script>x = ().__class__</bpmn:script>'
            '</bpmn:scriptTask><bpmn:endEvent id="end"/>' + flow("start", "tidy") + flow("tidy", "end"))
    with pytest.raises(SandboxRefused) as refused:
        run(process_files(body), Scenario())
    assert any("__class__" in problem for problem in refused.value.problems)


def test_saved_scenarios_must_still_pass_before_publishing(session):
    owner = user_named(session, "process.owner")
    publish(session, observation_files())
    draft = open_draft(session, "observation", owner)
    scenario = Scenario(steps=[{"task": "observe", "answers": {"note": "Warm and child-focused"}}])
    saved = save_scenario(session, "observation", "A good visit", scenario, draft.files, owner)
    assert saved.expected == {"path": ["start", "observe", "end"], "ended": True, "waiting": [], "error_element": None}

    changed = with_step_after(draft.files, "observation.bpmn", "observe", "discuss", "Discuss with the worker")
    draft, _ = save_draft(session, "observation", owner, draft.revision, {"observation.bpmn": changed["observation.bpmn"]})
    with pytest.raises(DraftError) as refused:
        publish_draft(session, "observation", owner, draft.revision, "Discuss every observation")
    assert refused.value.problems == ["'A good visit': it now waits at 'discuss' after 'observe', where it went on "
                                      "to 'end'"]

    scenario.steps.append({"task": "discuss", "answers": {"note": "Agreed next steps"}})
    save_scenario(session, "observation", "A good visit", scenario, draft.files, owner)
    version = publish_draft(session, "observation", owner, draft.revision, "Discuss every observation")
    assert version.version == 2
