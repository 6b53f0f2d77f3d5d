"""Logs for a council's operations team: one line per web request and per scheduler job run.

Everything goes through the `logging` module to stderr, where gunicorn, systemd or a
container platform collects it. `QA_LOG_FORMAT=json` writes one JSON object per line
for a log platform, `text` (the default) a readable line; `QA_LOG_LEVEL` sets the level
(INFO by default). A line carries what an operator needs (route, status, duration,
the person's user id, the request id, a job's counts) and never case content or a case
reference: routes are logged as their templates, never as the path that was asked for.
"""
import json
import logging
import os
import sys
from datetime import datetime, timezone

FORMAT_VARIABLE = "QA_LOG_FORMAT"
LEVEL_VARIABLE = "QA_LOG_LEVEL"
FORMATS = ("text", "json")
# The process id tells gunicorn's workers (and several schedulers) apart.
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"


class ConfigurationError(ValueError):
    """A logging setting that makes no sense; the message says which and what it may be."""


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, process id, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "pid": record.process,
                "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(environ=os.environ) -> None:
    """Send every log record at or above QA_LOG_LEVEL to stderr in the QA_LOG_FORMAT.

    Called once by each process's entry point (wsgi.py, the scheduler, the demo); calling
    again replaces the handler rather than adding a second one."""
    chosen = environ.get(FORMAT_VARIABLE, "text").strip().lower() or "text"
    if chosen not in FORMATS:
        raise ConfigurationError(f"{FORMAT_VARIABLE} must be one of {', '.join(FORMATS)}, not '{chosen}'")
    level_name = environ.get(LEVEL_VARIABLE, "INFO").strip().upper() or "INFO"
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        raise ConfigurationError(f"{LEVEL_VARIABLE} must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not '{level_name}'")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT))
    handler.set_name("qa-operations")
    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.get_name() == "qa-operations"]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def log_line(logger: logging.Logger, level: int, fields: dict) -> None:
    """Log `fields` as one record: `key=value` words for the text format, and the fields
    themselves for the JSON format."""
    message = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
    logger.log(level, message, extra={"fields": fields})
