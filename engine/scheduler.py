"""The scheduler: APScheduler runs the product's time-driven jobs.

In production it runs in its own process (`python -m engine.scheduler`); the
one-command demo starts it in the background of the web server. Running several
at once is safe: every job claims its work under row locks (see engine/runtime/timers.py).

A module with scheduled work lists it as `SCHEDULED_JOBS = [ScheduledJob(...)]` and
is named in JOB_MODULES below.
"""
import importlib
import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

import engine.qa  # noqa: F401  (service operations the jobs' processes may call)
from engine.clock import LOCAL_ZONE, clock
from engine.database import database_url_from_environment, make_session_factory

JOB_MODULES = (
    "engine.runtime.timers",
    "engine.email_delivery",
    "engine.qa.retention",
    "engine.organisation.leavers",
)
log = logging.getLogger(__name__)


def scheduled_jobs() -> list:
    """Every ScheduledJob of every module in JOB_MODULES."""
    return [job for name in JOB_MODULES for job in importlib.import_module(name).SCHEDULED_JOBS]


def _add_jobs(scheduler, database_url: str):
    session_factory = make_session_factory(database_url)
    for job in scheduled_jobs():
        scheduler.add_job(_logged(job, session_factory), "interval", seconds=job.every_seconds, id=job.name,
                          max_instances=1, coalesce=True, next_run_time=clock.now())
    return scheduler


def _logged(job, session_factory):
    def run():
        try:
            done = job.run(session_factory)
            if done:
                log.info("%s: %s", job.name, done)
        except Exception:  # one failing run must not stop the scheduler; the next run retries
            log.exception("%s failed", job.name)
    return run


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
