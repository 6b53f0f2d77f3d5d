"""What /healthz checks: the database answers, its schema is the newest migration, and a
scheduler has beaten recently.

Each part is checked on its own connection, so one failing part (a missing table, an
aborted transaction) cannot hide the state of the others. The report names parts and
ages only: no data, no error text that could carry a connection string.
"""
import logging
from datetime import timedelta
from functools import cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.clock import clock
from engine.database import as_utc
from engine.migrations import alembic_config
from engine.runtime.heartbeat import last_beat

HEARTBEAT_MAX_AGE_VARIABLE = "QA_HEARTBEAT_MAX_AGE_SECONDS"
DEFAULT_HEARTBEAT_MAX_AGE = timedelta(minutes=3)  # three missed beats of a one-minute job
log = logging.getLogger(__name__)


@cache
def newest_migrations() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def check(engine: Engine, heartbeat_max_age: timedelta = DEFAULT_HEARTBEAT_MAX_AGE) -> dict:
    """{"status": "ok" | "failing", "failing": [parts], "checks": {part: {"ok": ..., ...}}}."""
    checks = {"database": _database(engine)}
    if checks["database"]["ok"]:
        checks["schema"] = _schema(engine)
        checks["scheduler"] = _scheduler(engine, heartbeat_max_age)
    else:
        checks["schema"] = checks["scheduler"] = {"ok": False, "detail": "not checked: the database is unreachable"}
    failing = [part for part, result in checks.items() if not result["ok"]]
    return {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}


def _database(engine: Engine) -> dict:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("health: database unreachable (%s)", type(error).__name__)
        return {"ok": False, "detail": "unreachable"}
    return {"ok": True}


def _schema(engine: Engine) -> dict:
    try:
        with engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        log.warning("health: cannot read the schema version (%s)", type(error).__name__)
        return {"ok": False, "detail": "cannot read the schema version"}
    newest = newest_migrations()
    result = {"ok": current == newest, "revision": sorted(current), "newest": sorted(newest)}
    if not result["ok"]:
        result["detail"] = "the database is not at the newest migration: run python -m engine.cli migrate"
    return result


def _scheduler(engine: Engine, max_age: timedelta) -> dict:
    try:
        with Session(engine) as session:
            heartbeat = last_beat(session)
            beat_at = as_utc(heartbeat.beat_at) if heartbeat is not None else None
    except SQLAlchemyError as error:
        log.warning("health: cannot read the scheduler heartbeat (%s)", type(error).__name__)
        return {"ok": False, "detail": "cannot read the scheduler heartbeat"}
    if beat_at is None:
        return {"ok": False, "detail": "no scheduler has ever run: start python -m engine.scheduler"}
    age = max(0, round((clock.now() - beat_at).total_seconds()))
    result = {"ok": age <= max_age.total_seconds(), "seconds_since_beat": age,
              "max_age_seconds": round(max_age.total_seconds())}
    if not result["ok"]:
        result["detail"] = "the scheduler has not beaten recently: is python -m engine.scheduler running?"
    return result
