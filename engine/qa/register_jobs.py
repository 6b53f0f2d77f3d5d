"""Case register imports as jobs: small files at once, large ones in a background thread.

Every import gets a job id. Its outcome (counts, every bad row with its line and
reason, or why the file could not be read) is written to the audit trail under
that id, so any web process can show it afterwards. While a background import
runs, its progress lives in the memory of the process that runs it: that process
answers the progress page; another one says the import is still running.
"""
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import User
from engine.clock import clock
from engine.database import as_utc
from engine.qa.allocation import ALLOCATOR_ROLES
from engine.qa.case_register import ImportReport, RegisterFormatError, import_register
from engine.runtime import events
from engine.runtime.models import Event

ABANDONED_AFTER = timedelta(hours=1)
# Files larger than this are imported in the background (about 3,000 CSV rows).
BACKGROUND_BYTES = 200_000
SUBJECT = "register_import"
STARTED = "case_register.import_started"
FINISHED, FAILED = "case_register.import_finished", "case_register.import_failed"
log = logging.getLogger(__name__)


@dataclass
class Progress:
    """A background import as it runs: rows checked so far out of the file's rows."""
    job_id: str
    filename: str
    done: int = 0
    total: int = 0


_running: dict[str, Progress] = {}
_guard = threading.Lock()


def can_import(user: User) -> bool:
    """The QA team keeps the register (the same people who allocate audits)."""
    return user.has_role(*ALLOCATOR_ROLES)


def begin(session: Session, filename: str, *, actor_id: int | None, background: bool) -> str:
    """Record that an import of `filename` starts; returns its job id."""
    job_id = uuid.uuid4().hex
    events.record(session, STARTED, actor_id=actor_id, subject=(SUBJECT, job_id),
                  payload={"file": filename, "background": background})
    return job_id


def run_import(session: Session, job_id: str, filename: str, content: bytes, *, actor_id: int | None,
               apply_good_rows: bool, progress=None) -> ImportReport:
    """Import a register file in `session` and record its outcome under `job_id`.

    A file that cannot be read at all raises RegisterFormatError after recording why,
    so the caller commits that record and nothing else."""
    try:
        report = import_register(session, filename, content, actor_id=actor_id,
                                 apply_good_rows=apply_good_rows, progress=progress)
    except RegisterFormatError as error:
        session.rollback()
        events.record(session, FAILED, actor_id=actor_id, subject=(SUBJECT, job_id),
                      payload={"file": filename, "problem": str(error)})
        raise
    events.record(session, FINISHED, actor_id=actor_id, subject=(SUBJECT, job_id), payload={
        "file": filename, "good_rows_only": apply_good_rows, "applied": report.applied, "rows": report.rows,
        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
        "errors": [[line, reason] for line, reason in report.errors]})
    return report


def start_background_import(session_factory: sessionmaker, job_id: str, filename: str, content: bytes, *,
                            actor_id: int | None, apply_good_rows: bool) -> None:
    """Import in a thread of this process, after `begin` was committed; poll `progress_of`."""
    progress = Progress(job_id, filename)
    with _guard:
        _running[job_id] = progress

    def report_progress(done: int, total: int) -> None:
        progress.done, progress.total = done, total

    def work() -> None:
        try:
            with session_factory() as session:
                _import_and_record(session, job_id, filename, content, actor_id=actor_id,
                                   apply_good_rows=apply_good_rows, progress=report_progress)
        finally:
            with _guard:
                _running.pop(job_id, None)

    threading.Thread(target=work, name=f"register-import-{job_id[:8]}", daemon=True).start()


def _import_and_record(session: Session, job_id: str, filename: str, content: bytes, **options) -> None:
    """The background thread's import: whatever happens, it leaves an outcome the page can show."""
    try:
        run_import(session, job_id, filename, content, **options)
    except RegisterFormatError:
        pass  # recorded by run_import
    except Exception:
        log.exception("case register import %s failed", job_id)
        session.rollback()
        events.record(session, FAILED, actor_id=options["actor_id"], subject=(SUBJECT, job_id),
                      payload={"file": filename, "problem": "The import failed part way; nothing was changed."})
    session.commit()


def progress_of(job_id: str) -> Progress | None:
    """The live progress of an import running in this process, if it is."""
    with _guard:
        return _running.get(job_id)


def outcome(session: Session, job_id: str) -> dict | None:
    """Where an import stands from the trail: `state` is running, finished, failed or abandoned, with
    what was recorded; None for an id no import has."""
    recorded = {event.kind: event for event in session.scalars(select(Event).where(
        Event.subject_type == SUBJECT, Event.subject_id == job_id))}
    if STARTED not in recorded:
        return None
    event = recorded.get(FINISHED) or recorded.get(FAILED) or recorded[STARTED]
    state = {FINISHED: "finished", FAILED: "failed", STARTED: "running"}[event.kind]
    if state == "running" and progress_of(job_id) is None and clock.now() - as_utc(event.occurred_at) > ABANDONED_AFTER:
        state = "abandoned"  # its process stopped; the import is one transaction, so nothing changed
    return {"state": state, "at": event.occurred_at, "actor_id": event.actor_id, **json.loads(event.payload)}
