"""Logs for the operations team: a line per request and per scheduler job run, with the
person's id and never a case reference; text or JSON as configured."""
import json
import logging

import pytest
from sqlalchemy import select

from engine.operations_log import ConfigurationError, configure_logging
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Case, Team
from engine.runtime.models import HumanTask
from engine.runtime.timers import ScheduledJob
from engine.scheduler import _logged
from tests.conftest import sign_in, user_named


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def an_audit_task(session) -> tuple[str, int, int]:
    """A case reference, the auditor's user id and the id of their first task."""
    auditor, moderator = user_named(session, "tm.mash1"), user_named(session, "hos.cincp")
    case = session.scalar(select(Case).join(Team).where(Team.manager_id != auditor.id).order_by(Case.id))
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id),
                           user_named(session, "qa.lead"))
    task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == audit.instance_id))
    facts = case.reference, auditor.id, task_id
    session.commit()  # and no new transaction after it: on SQLite it would hold the app's write lock
    return facts


def test_a_request_logs_one_line_with_the_user_id_and_no_case_reference(client, session, caplog):
    reference, auditor_id, task_id = an_audit_task(session)
    sign_in(client, "tm.mash1")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.get(f"/inbox?q={reference}")
        task_page = client.get(f"/tasks/{task_id}", headers={"X-Request-Id": "support-ticket-42"})
    assert reference in response.text and reference in task_page.text  # the pages do show it
    lines = [record for record in caplog.records if record.name == "qa.requests"]
    assert [line.fields["route"] for line in lines] == ["/inbox", "/tasks/<int:task_id>"]
    assert all(line.fields["user_id"] == auditor_id and line.fields["status"] == 200 for line in lines)
    assert f"user_id={auditor_id}" in lines[0].getMessage() and "duration_ms=" in lines[0].getMessage()
    assert lines[1].fields["request_id"] == "support-ticket-42" == task_page.headers["X-Request-Id"]
    assert response.headers["X-Request-Id"] == lines[0].fields["request_id"]
    assert not [record for record in caplog.records if reference in record.getMessage()
                or reference in json.dumps(getattr(record, "fields", {}))]


def test_an_anonymous_or_unknown_path_is_logged_without_the_path(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get("/no-such-page/CS999999")
    [line] = [record for record in caplog.records if record.name == "qa.requests"]
    assert line.fields["route"] == "-" and line.fields["status"] == 404 and line.fields["user_id"] is None
    assert "CS999999" not in line.getMessage()


def test_json_format_writes_one_object_per_line_to_stderr(client, capsys, restore_logging):
    configure_logging({"QA_LOG_FORMAT": "json", "QA_LOG_LEVEL": "info"})
    configure_logging({"QA_LOG_FORMAT": "json"})  # again: still one handler, one line per record
    client.get("/sign-in")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if '"qa.requests"' in line]
    assert len(lines) == 1
    assert {"time", "level", "logger", "message", "method", "route", "status", "duration_ms", "request_id"} <= set(lines[0])
    assert lines[0]["route"] == "/sign-in" and lines[0]["level"] == "INFO"


@pytest.mark.parametrize("environ, word", [({"QA_LOG_FORMAT": "xml"}, "QA_LOG_FORMAT"),
                                           ({"QA_LOG_LEVEL": "loud"}, "QA_LOG_LEVEL")])
def test_a_bad_setting_is_refused_by_name(environ, word, restore_logging):
    with pytest.raises(ConfigurationError, match=word):
        configure_logging(environ)


def test_each_job_run_logs_its_outcome_duration_and_counts_but_not_error_text(session_factory_sqlite, caplog):
    def works(factory):
        return {"anonymised": 2, "removed": 0}

    def breaks(factory):
        raise RuntimeError("could not fire the timer of case CS123456")

    with caplog.at_level(logging.INFO, logger="engine.scheduler"):
        _logged(ScheduledJob("tidy", 60, works), session_factory_sqlite)()
        _logged(ScheduledJob("fire", 60, breaks), session_factory_sqlite)()
    ok, failed = [record for record in caplog.records if record.name == "engine.scheduler"]
    assert ok.fields == {"job": "tidy", "outcome": "ok", "duration_ms": ok.fields["duration_ms"],
                         "anonymised": 2, "removed": 0}
    assert failed.levelname == "ERROR" and failed.fields["outcome"] == "failed"
    assert failed.fields["error"] == "RuntimeError" and "CS123456" not in caplog.text


@pytest.fixture
def session_factory_sqlite(database_url):
    from engine.database import make_session_factory
    factory = make_session_factory(database_url)
    yield factory
    factory.kw["bind"].dispose()


def test_sql_errors_that_reach_the_logs_carry_no_bound_values(app, database_url):
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from engine.database import make_engine
    from webapp.extensions import db
    engine = make_engine(database_url)
    try:
        with pytest.raises(SQLAlchemyError) as refused, engine.connect() as connection:
            connection.execute(text("INSERT INTO no_such_table (reference) VALUES (:reference)"),
                               {"reference": "CS123456"})
        assert "CS123456" not in str(refused.value)
    finally:
        engine.dispose()
    with app.app_context():
        assert db.engine.hide_parameters
