"""The task projection finds a workflow's READY user tasks by reading each process's table of
tasks instead of walking the tree (issue 14): it must find exactly what SpiffWorkflow's own
`get_tasks(state=READY, manual=True)` finds, subprocesses and parallel instances included.

Walked on the case file audit's Good path with canned service answers (as the bench's bare
column runs it), where the two agreed actions' reviews are READY together inside a subprocess.
"""
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bench.audit_throughput import GOOD_PATH, CannedServiceEngine, bare_start_data, parse_model
from engine.runtime.saving import ready_user_tasks


def testready_user_tasks_are_what_spiffworkflow_finds_at_every_step():
    spec, subprocess_specs = parse_model()
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=CannedServiceEngine())
    workflow.get_next_task(state=TaskState.READY).data.update(bare_start_data(1))
    workflow.do_engine_steps()
    seen_in_a_subprocess = 0
    for step, _lane, data in GOOD_PATH:
        expected = workflow.get_tasks(state=TaskState.READY, manual=True)
        found = ready_user_tasks(workflow)
        assert sorted(task.id for task in found) == sorted(task.id for task in expected)
        seen_in_a_subprocess += sum(task.workflow is not workflow for task in found)
        task = next(task for task in found if task.task_spec.bpmn_id == step)
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
    assert workflow.is_completed() and ready_user_tasks(workflow) == []
    assert seen_in_a_subprocess >= 2  # both action reviews at once, inside the subprocess
