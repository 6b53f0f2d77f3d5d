"""A transaction that only read ends with COMMIT, not ROLLBACK, so PostgreSQL keeps its plans.

psycopg prepares a statement once a connection has run it a few times, and PostgreSQL then
skips parsing and planning it; but at any ROLLBACK psycopg drops every statement it prepared
(the rolled-back transaction might have dropped what they refer to). A web request that only
reads (a page, the inbox, the API's GETs) used to end with the session's rollback, so with
pages read between every two completions no statement stayed prepared, and every request
had each of its statements parsed and planned afresh. Committing a transaction that wrote
nothing changes nothing in the database and keeps them: with it, the case file audit's
completions on PostgreSQL took 10–15 % less time (bench/README.md).

Whether a transaction wrote is told by the statements its connections sent: anything but a
SELECT (or BEGIN, or a savepoint's bookkeeping) counts as a write, so the test errs towards ROLLBACK.
"""
import re

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from engine.runtime import events

_WROTE = "wrote_in_transaction"
_CONNECTIONS = "transaction_connections"
_READS_ONLY = re.compile(r"\s*(SELECT|BEGIN|SAVEPOINT|RELEASE SAVEPOINT)\b", re.IGNORECASE)


@event.listens_for(Engine, "begin")
def _nothing_written_yet(connection) -> None:
    connection.info[_WROTE] = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_a_write(connection, cursor, statement, parameters, context, executemany) -> None:
    if not connection.info.get(_WROTE) and not _READS_ONLY.match(statement):
        connection.info[_WROTE] = True


@event.listens_for(Session, "after_begin")
def _remember_the_connection(session: Session, transaction, connection) -> None:
    session.info.setdefault(_CONNECTIONS, []).append(connection)


@event.listens_for(Session, "after_transaction_end")
def _forget_the_connections(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session's own transaction, not a savepoint inside it
        session.info.pop(_CONNECTIONS, None)


def end_if_only_read(session: Session) -> bool:
    """Commit the session's transaction if it wrote nothing and holds nothing to write (no
    unflushed objects, no queued trail events); returns whether it did. Otherwise it is left
    for the caller's rollback, as before."""
    connections = session.info.get(_CONNECTIONS)
    if not connections or session.in_nested_transaction():
        return False
    if any(connection.info.get(_WROTE, True) for connection in connections):
        return False
    if session.new or session.dirty or session.deleted or events.pending_count(session):
        return False
    # Nothing was written, so what was loaded is still what the transaction saw: keep it
    # loaded (a page or test may still read an object after its request has ended).
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    return True
