"""The scheduler: APScheduler jobs for time-driven work (due BPMN timers).

In production it runs in its own process (`python -m engine.scheduler`); the
one-command demo starts it in the background of the web server. Running several
at once is safe: each due instance is claimed under a row lock (see timers.py).
"""
import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

import engine.qa  # noqa: F401  (service operations the timers' paths may call)
from engine.clock import LOCAL_ZONE, clock
from engine.database import database_url_from_environment, make_session_factory
from engine.runtime.timers import fire_due_timers

TIMER_INTERVAL_SECONDS = 30
log = logging.getLogger(__name__)


def _add_jobs(scheduler, database_url: str):
    session_factory = make_session_factory(database_url)

    def fire_timers_job():
        fired = fire_due_timers(session_factory)
        if fired:
            log.info("fired timers of %d instance(s)", fired)

    scheduler.add_job(fire_timers_job, "interval", seconds=TIMER_INTERVAL_SECONDS, id="fire_due_timers",
                      max_instances=1, coalesce=True, next_run_time=clock.now())
    return scheduler


def start_background_scheduler(database_url: str) -> BackgroundScheduler:
    """Start the jobs in a background thread of this process (the demo web server)."""
    scheduler = _add_jobs(BackgroundScheduler(timezone=LOCAL_ZONE), database_url)
    scheduler.start()
    return scheduler


def main() -> None:
    """Run the scheduler in the foreground as its own process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _add_jobs(BlockingScheduler(timezone=LOCAL_ZONE), database_url_from_environment()).start()


if __name__ == "__main__":
    main()
