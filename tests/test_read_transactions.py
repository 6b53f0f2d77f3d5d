"""A transaction that only read ends with COMMIT, which keeps PostgreSQL's prepared statements;
one that wrote, or holds anything to write, is left to the usual rollback and keeps nothing."""
from sqlalchemy import event, func, select, update

from engine.accounts import User
from engine.read_transactions import end_if_only_read
from engine.runtime import events
from engine.runtime.models import Event
from tests.conftest import sign_in, user_named


def test_a_transaction_that_only_read_is_committed(session):
    session.scalar(select(func.count(User.id)))
    assert end_if_only_read(session) and not session.in_transaction()


def test_a_transaction_that_wrote_is_left_for_the_rollback(session):
    lead = user_named(session, "qa.lead")
    session.commit()
    session.execute(update(User).where(User.id == lead.id).values(job_title="Changed and not kept"))
    assert not end_if_only_read(session)
    session.rollback()
    assert session.scalar(select(User.job_title).where(User.id == lead.id)) != "Changed and not kept"


def test_unflushed_changes_and_queued_events_are_never_committed_by_it(session):
    lead = user_named(session, "qa.lead")
    lead.job_title = "Unflushed"
    assert not end_if_only_read(session)
    session.rollback()
    session.scalar(select(func.count(User.id)))
    events.record(session, "test.queued", payload={})
    assert not end_if_only_read(session)
    session.rollback()
    assert session.scalar(select(func.count(Event.seq)).where(Event.kind == "test.queued")) == 0


def test_a_page_that_only_reads_ends_with_commit(app, client):
    from webapp.extensions import db
    endings = []
    with app.app_context():
        engine = db.engine
    listen = [(engine, "commit", lambda connection: endings.append("commit")),
              (engine, "rollback", lambda connection: endings.append("rollback"))]
    for target, name, function in listen:
        event.listen(target, name, function)
    try:
        sign_in(client, "qa.lead")
        endings.clear()
        assert client.get("/inbox").status_code == 200
        assert endings and "rollback" not in endings, endings
    finally:
        for target, name, function in listen:
            event.remove(target, name, function)
