"""Helpers for tests that run the product as a council would: real processes on PostgreSQL.

Every process is started in a session of its own, its output kept in a file for the
failure message, and always ended (SIGTERM, then SIGKILL to its whole group) when the
test leaves the `running` block, however it leaves it.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url: str, **extra: str) -> dict:
    """The variables a production process gets: its database, a shared secret key, JSON logs."""
    return {**os.environ, "QA_DATABASE_URL": database_url, "QA_SECRET_KEY": "process-test-secret",
            "QA_LOG_FORMAT": "json", "QA_LOG_LEVEL": "INFO", **extra}


@contextmanager
def running(args: list[str], env: dict, log_path: Path):
    """Start `args` (a Python module run by this interpreter) from the project folder; stop it on exit."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, *args], cwd=PROJECT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> int:
    """End `process` and everything it started; returns its exit code."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    _signal_group(process, signal.SIGKILL)  # any worker left behind by its parent
    return process.returncode


def wait_for(condition, seconds: float, what: str, process: subprocess.Popen, log_path: Path):
    """Poll `condition()` until it returns something truthy; fail naming `what`, with the log, if it
    does not within `seconds` or the process dies first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if process.poll() is not None:
            break
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {seconds}s (exit code {process.poll()}); "
                         f"log:\n{log_path.read_text(errors='replace')[-4000:]}")


def _signal_group(process: subprocess.Popen, number: int) -> None:
    try:
        os.killpg(process.pid, number)
    except (ProcessLookupError, PermissionError):
        pass
