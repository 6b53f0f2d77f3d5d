"""The README's "Running it for real", run for real: gunicorn with three workers on PostgreSQL,
and the scheduler as its own process.

The web test signs in over HTTP and reads the inbox through concurrent requests, so that
several workers serve one signed-in person (the session cookie must hold across them),
and asks /healthz before and after a scheduler heartbeat. The scheduler test starts
`python -m engine.scheduler`, sees it fire a timer that is due and write its heartbeat,
then stops it with SIGTERM and expects a clean exit.
"""
import http.cookiejar
import json
import re
import signal
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import health
from engine.clock import clock
from engine.database import make_engine, make_session_factory
from engine.runtime.heartbeat import beat, last_beat
from engine.runtime.instances import start_instance
from engine.runtime.models import Event, ProcessInstance
from engine.runtime.registry import publish
from tests.postgres.running import environment, free_port, running, stop, wait_for
from tests.test_timers import FILES as REMINDER_FILES

pytestmark = pytest.mark.postgres

WORKERS = 3
START_SECONDS = 90
USERNAME, PASSWORD = "tm.safeguarding1", "demo-password"


class Browser:
    """A cookie-keeping HTTP client, as a person's browser is (stdlib only)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, form: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(form).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def answers(self) -> bool:
        """Whether the server takes connections yet."""
        try:
            self.get("/healthz")
        except urllib.error.URLError:
            return False
        return True

    def sign_in(self, username: str, password: str) -> str:
        _, page = self.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, inbox = self.post("/sign-in", {"csrf_token": token, "username": username, "password": password})
        assert status == 200 and "Your tasks" in inbox, f"signing in failed ({status})"
        return inbox


def log_records(path) -> list[dict]:
    """The JSON log lines a process wrote (gunicorn's own lines are not JSON and are skipped)."""
    records = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def test_gunicorn_with_three_workers_serves_a_signed_in_inbox_and_healthz(postgres_url, tmp_path):
    port, log_path = free_port(), tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    args = ["-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", "wsgi:app"]
    with running(args, environment(postgres_url, QA_INSECURE_COOKIES="1"), log_path) as gunicorn:
        browser = Browser(base)
        wait_for(browser.answers, START_SECONDS, "gunicorn answering", gunicorn, log_path)
        status, body = browser.get("/healthz")
        assert status == 503 and json.loads(body)["failing"] == ["scheduler"]

        name = browser.sign_in(USERNAME, PASSWORD)
        assert "Assigned to you (" in name

        def read_inbox(_number: int) -> tuple[int, str]:
            return browser.get("/inbox?sort=due")

        with ThreadPoolExecutor(WORKERS * 2) as pool:
            pages = list(pool.map(read_inbox, range(WORKERS * 8)))
        assert all(status == 200 and "Your tasks" in page and "Sign out" in page for status, page in pages)

        factory = make_session_factory(postgres_url)
        try:
            beat(factory)
        finally:
            factory.kw["bind"].dispose()
        status, body = browser.get("/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok", body
        assert stop(gunicorn) == 0

    served = [record for record in log_records(log_path)
              if record.get("logger") == "qa.requests" and record.get("route") == "/inbox"]
    assert len(served) == WORKERS * 8 + 1  # the sign-in's redirect, then every read
    assert all(record["status"] == 200 and isinstance(record["user_id"], int) for record in served)
    assert len({record["pid"] for record in served}) >= 2, "one worker served every request"


def test_the_scheduler_process_fires_a_due_timer_writes_its_heartbeat_and_stops_cleanly(postgres_url, tmp_path):
    factory = make_session_factory(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with factory() as session:
            publish(session, REMINDER_FILES)
            clock.set(clock.now() - timedelta(days=3))  # its two-day timer fell due yesterday
            instance_id = start_instance(session, "reminder", {}, actor_id=None).id
            session.commit()
            clock.set(None)
        assert health.check(engine)["failing"] == ["scheduler"]

        log_path = tmp_path / "scheduler.log"
        with running(["-m", "engine.scheduler"], environment(postgres_url), log_path) as scheduler:
            def fired_and_beaten():
                with factory() as session:
                    fired = session.scalar(select(func.count()).select_from(Event).where(
                        Event.kind == "timer.fired", Event.instance_id == instance_id))
                    return fired == 1 and last_beat(session) is not None
            wait_for(fired_and_beaten, START_SECONDS, "the timer firing and the heartbeat", scheduler, log_path)
            assert health.check(engine)["status"] == "ok"
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(30) == 0

        with factory() as session:
            assert session.get(ProcessInstance, instance_id).revision == 2  # started, fired once
        records = log_records(log_path)
        runs = [(record["job"], record["outcome"], record.get("count")) for record in records if "job" in record]
        assert ("fire_due_timers", "ok", 1) in runs and ("heartbeat", "ok", 1) in runs, runs
        assert [record["message"] for record in records if record["message"].startswith("scheduler stop")] == [
            "scheduler stopping on SIGTERM", "scheduler stopped"]
    finally:
        factory.kw["bind"].dispose()
        engine.dispose()
