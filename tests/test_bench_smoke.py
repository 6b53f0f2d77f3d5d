"""The bench's bare-SpiffWorkflow baseline still runs the case file audit to its end.

If the model changes so that the canned service answers no longer carry the Good
path through, the bench would measure a stuck process; this catches that. It
asserts outcomes only: benchmarks are never timed tests.
"""
from bench.audit_throughput import GOOD_PATH, bare_spiffworkflow


def test_bare_spiffworkflow_runs_one_audit_to_the_end():
    measurement = bare_spiffworkflow(audits=1, warm_up=0)
    assert (measurement.audits, measurement.finished) == (1, 1)
    assert len(measurement.task_ms) == len(GOOD_PATH)
    assert set(measurement.task_ms_by_step) == {step for step, _, _ in GOOD_PATH}
    # One more audit, untimed, whose tasks' Python calls are counted: every one made some.
    assert len(measurement.task_calls) == len(GOOD_PATH) and min(measurement.task_calls) > 1000
