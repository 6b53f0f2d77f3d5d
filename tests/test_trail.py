"""The chain proves itself: rows edited or deleted behind the application's back are found,
by the engine, the command line and the verify page, and the first broken link is named."""
import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select, text

from engine import cli
from engine.database import make_engine
from engine.qa.demo_history import AuditPlan, write_history
from engine.runtime.events import verify_chain
from engine.runtime.models import Event
from tests.conftest import sign_in

PLANS = [AuditPlan("MASH 1", date(2025, 4, 2), "good", moderated_grade="good", closed=True),
         AuditPlan("Children in Care 1", date(2025, 4, 3), "inadequate", moderated_grade="inadequate",
                   escalation_hours=3)]


@pytest.fixture
def trail(session):
    write_history(session, PLANS)
    session.commit()
    count = session.scalar(select(func.count()).select_from(Event))
    session.close()  # leave the database free for the changes made behind its back
    return {"count": count, "middle": count // 2}


def behind_the_back(url: str, statement: str, **values) -> None:
    """Change the database as someone with direct access could, not through the application."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement), values)
    engine.dispose()


def fresh_report(session):
    """Verify from a fresh transaction, and end it, so the next change behind the back can write."""
    session.close()
    try:
        return verify_chain(session)
    finally:
        session.close()


def test_an_edit_a_deletion_in_the_middle_and_one_at_the_end_are_each_found(session, database_url, trail):
    assert fresh_report(session).ok and fresh_report(session).checked == trail["count"]
    middle, last = trail["middle"], trail["count"]
    original = session.get(Event, middle)
    saved = {c.name: getattr(original, c.name) for c in Event.__table__.columns}
    session.close()

    behind_the_back(database_url, "UPDATE events SET payload = :p WHERE seq = :s", p='{"audit":"tampered"}', s=middle)
    report = fresh_report(session)
    assert (report.ok, report.first_broken_seq, report.checked) == (False, middle, middle - 1)
    assert "changed after it was written" in report.problem

    behind_the_back(database_url, "UPDATE events SET payload = :p WHERE seq = :s", p=saved["payload"], s=middle)
    assert fresh_report(session).ok

    behind_the_back(database_url, "DELETE FROM events WHERE seq = :s", s=middle)
    report = fresh_report(session)
    assert (report.ok, report.first_broken_seq) == (False, middle)
    assert f"event {middle} is missing" in report.problem

    session.execute(Event.__table__.insert().values(**saved))
    session.commit()
    session.close()
    assert fresh_report(session).ok

    behind_the_back(database_url, "DELETE FROM events WHERE seq = :s", s=last)
    report = fresh_report(session)
    assert (report.ok, report.first_broken_seq) == (False, last)
    assert "removed from the end" in report.problem


def test_the_command_names_the_first_broken_link(database_url, trail, monkeypatch, capsys):
    monkeypatch.setenv("QA_DATABASE_URL", database_url)
    assert cli.main(["verify-chain"]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {trail['count']} events")
    behind_the_back(database_url, "DELETE FROM events WHERE seq IN (:a, :b)", a=trail["middle"], b=trail["middle"] + 5)
    assert cli.main(["verify-chain"]) == 1
    error = capsys.readouterr().err
    assert f"BROKEN at event {trail['middle']}: event {trail['middle']} is missing" in error


def test_the_verify_page_proves_the_chain_and_records_the_check(app, database_url):
    client = app.test_client()
    sign_in(client, "qa.lead")
    page = client.post("/trail/verify")
    assert page.status_code == 200 and "The chain is intact" in page.text
    from webapp.extensions import db
    with app.app_context():
        checked = db.session.scalar(select(Event).where(Event.kind == "trail.verified"))
        result = json.loads(checked.payload)
        assert result["ok"] is True and f"{result['checked']} events checked" in page.text
        last_seq = db.session.scalar(select(func.max(Event.seq)))
    assert "Last verified" in client.get("/trail").text

    behind_the_back(database_url, "DELETE FROM events WHERE seq = :s", s=last_seq - 1)
    page = client.post("/trail/verify")
    assert page.status_code == 409
    assert f"The chain is broken at event {last_seq - 1}" in page.text
    assert f"Event {last_seq - 1} is missing" in page.text
    assert "Broken</strong> at event" in client.get("/trail").text


def test_submitted_answers_changed_behind_the_back_are_found_by_the_cli_and_the_page(app, database_url, session, capsys,
                                                                                      monkeypatch):
    from engine.accounts import User
    from engine.qa.allocation import AllocationRequest, allocate_audit
    from engine.runtime.instances import complete_task
    from engine.runtime.models import HumanTask
    from tests import answers
    from tests.conftest import user_named
    case_reference = session.scalar(text("SELECT reference FROM cases ORDER BY id DESC LIMIT 1"))
    audit = allocate_audit(session, AllocationRequest(case_reference, user_named(session, "tm.mash1").id,
                                                      user_named(session, "hos.disabled").id), user_named(session, "qa.lead"))
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id))
    complete_task(session, task.id, session.get(User, audit.auditor_id), answers.PREPARE)
    session.commit()
    session.close()
    monkeypatch.setenv("QA_DATABASE_URL", database_url)
    assert cli.main(["verify-chain"]) == 0
    behind_the_back(database_url, "UPDATE task_submissions SET answers = :a", a=json.dumps({"file_read": True}))
    assert cli.main(["verify-chain"]) == 1
    assert "no longer match" in capsys.readouterr().err
    client = app.test_client()
    sign_in(client, "qa.lead")
    page = client.post("/trail/verify")
    assert page.status_code == 409 and "no longer match the trail" in page.text


@pytest.mark.parametrize("fields", [
    dict(occurred_at=datetime(2026, 12, 1, 9, 0), actor_id=None, kind="timer.fired", instance_id=7,
         subject_type="process_instance", subject_id="7", payload='{"due_at":"2026-12-01 09:00:00+00:00"}'),
    dict(occurred_at=datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=timezone.utc), actor_id=3, kind="task.completed",
         instance_id=None, subject_type=None, subject_id=None, payload='{"note":"Caf\\u00e9 \\"quoted\\", done"}'),
])
def test_the_hash_sealed_in_two_parts_is_the_hash_anyone_recomputes(fields):
    """Sealing builds an event's hashed body before it locks the chain head and adds the
    link under the lock; the result must be `event_hash`'s, which verifiers recompute."""
    from engine.runtime.events import _linked_hash, _unlinked_hash_body, event_hash
    prev_hash = "ab" * 32
    assert _linked_hash(_unlinked_hash_body(fields), 41, prev_hash) == event_hash(
        {**fields, "seq": 41, "prev_hash": prev_hash})
