"""bench/fire_timers.py still fires what it prepares (outcomes only: benchmarks are never timed tests)."""
from bench.fire_timers import bare_spiffworkflow, fire_all, prepare_waiting_instances


def test_the_timer_bench_fires_every_prepared_timer(database_url):
    ids = prepare_waiting_instances(database_url, 25)
    assert len(ids) == 25
    measurement = fire_all("app SQLite", database_url, ids)
    assert (measurement.timers, measurement.fired) == (25, 25)


def test_the_bare_baseline_reaches_the_user_task():
    measurement = bare_spiffworkflow(5)
    assert (measurement.timers, measurement.fired) == (5, 5)
