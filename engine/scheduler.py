"""The scheduler: APScheduler runs the product's time-driven jobs.

In production it runs in its own process (`python -m engine.scheduler`); the
one-command demo starts it in the background of the web server. Running several
at once is safe: every job claims its work under row locks (see engine/runtime/timers.py).

A module with scheduled work lists it as `SCHEDULED_JOBS = [ScheduledJob(...)]` and
is named in JOB_MODULES below. One whose jobs read settings from the environment may also
define `check_settings()`, which raises on a wrong value: it runs before any job is added,
so the scheduler refuses to start rather than run on a bad setting.
"""
import importlib
import logging
import signal
import time

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

import engine.qa  # noqa: F401  (service operations the jobs' processes may call)
from engine.clock import LOCAL_ZONE, clock
from engine.database import database_url_from_environment, make_session_factory
from engine.operations_log import configure_logging, log_line

JOB_MODULES = (
    "engine.runtime.heartbeat",
    "engine.runtime.timers",
    "engine.email_delivery",
    "engine.qa.retention",
    "engine.qa.staff_survey",
    "engine.qa.annual_report",
    "engine.qa.activity_actions",
    "engine.qa.practice_week",
    "engine.organisation.leavers",
)
log = logging.getLogger(__name__)


def scheduled_jobs() -> list:
    """Every ScheduledJob of every module in JOB_MODULES."""
    return [job for name in JOB_MODULES for job in importlib.import_module(name).SCHEDULED_JOBS]


def check_settings() -> None:
    """Run every job module's `check_settings`, if it has one: a wrong setting raises here."""
    for name in JOB_MODULES:
        check = getattr(importlib.import_module(name), "check_settings", None)
        if check:
            check()


def _add_jobs(scheduler, database_url: str):
    session_factory = make_session_factory(database_url)
    for job in scheduled_jobs():
        scheduler.add_job(_logged(job, session_factory), "interval", seconds=job.every_seconds, id=job.name,
                          max_instances=1, coalesce=True, next_run_time=clock.now())
    return scheduler


def _logged(job, session_factory):
    """The job wrapped to log one line per run (job, outcome, duration, counts), whatever happens.

    A failure's line names only the exception's type: its message may quote data. The
    traceback follows at DEBUG level for whoever turns that on to diagnose it."""
    def run():
        started = time.monotonic()
        try:
            done = job.run(session_factory)
        except Exception as error:  # one failing run must not stop the scheduler; the next run retries
            log_line(log, logging.ERROR, {"job": job.name, "outcome": "failed", "error": type(error).__name__,
                                          "duration_ms": _since(started)})
            log.debug("%s failed", job.name, exc_info=True)
            return
        log_line(log, logging.INFO, {"job": job.name, "outcome": "ok", "duration_ms": _since(started),
                                     **_counts(done)})
    return run


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _counts(done) -> dict[str, int]:
    """What a job reports doing (a number, a dict of numbers, or nothing) as named counts."""
    if isinstance(done, bool) or done is None:
        return {}
    if isinstance(done, int):
        return {"count": done}
    if isinstance(done, dict):
        return {str(key): value for key, value in done.items() if isinstance(value, int)}
    return {}


def start_background_scheduler(database_url: str) -> BackgroundScheduler:
    """Start the jobs in a background thread of this process (the demo web server)."""
    check_settings()
    scheduler = _add_jobs(BackgroundScheduler(timezone=LOCAL_ZONE), database_url)
    scheduler.start()
    return scheduler


def main() -> None:
    """Run the scheduler in the foreground as its own process, until SIGTERM or SIGINT.

    Stopping lets a job that is running finish its transaction first, so a stop (a deploy,
    systemd, a container platform) never leaves half a timer fired."""
    configure_logging()
    try:
        check_settings()
    except ValueError as error:
        log.error("scheduler not started: %s", error)
        raise SystemExit(1) from None
    scheduler = _add_jobs(BlockingScheduler(timezone=LOCAL_ZONE), database_url_from_environment())

    def stop(signal_number, frame):
        log.info("scheduler stopping on %s", signal.Signals(signal_number).name)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started: %s", ", ".join(job.name for job in scheduled_jobs()))
    scheduler.start()
    log.info("scheduler stopped")


if __name__ == "__main__":
    main()
