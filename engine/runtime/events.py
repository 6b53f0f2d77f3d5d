"""The append-only, hash-chained audit trail.

Code anywhere in a transaction calls `record(...)`; the events are buffered on the
session and sealed into the chain just before the transaction commits, under a lock
on the single chain-head row, so concurrent writers queue for the head rather than
fork the chain. A rolled-back transaction leaves no events behind.
"""
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import bindparam, event as sa_event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import clock
from engine.database import as_utc
from engine.runtime.models import ChainHead, Event

GENESIS_HASH = "0" * 64
_PENDING = "pending_events"


def record(session: Session, kind: str, *, actor_id: int | None = None,
           instance_id: int | None = None, subject: tuple[str, object] | None = None,
           payload: dict | None = None) -> None:
    """Queue an event; it is chained and written when `session` commits."""
    subject_type, subject_id = subject if subject else (None, None)
    session.info.setdefault(_PENDING, []).append(dict(
        occurred_at=clock.now(), actor_id=actor_id, kind=kind, instance_id=instance_id,
        subject_type=subject_type, subject_id=None if subject_id is None else str(subject_id),
        payload=canonical_json(payload or {})))


def canonical_json(value) -> str:
    """One spelling for one value, so hashes can be recomputed anywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(fields: dict) -> str:
    """SHA-256 over an event's content and the hash of the event before it."""
    body = canonical_json({
        "seq": fields["seq"], "prev_hash": fields["prev_hash"],
        "occurred_at": as_utc(fields["occurred_at"]).isoformat(),
        "actor_id": fields["actor_id"], "kind": fields["kind"],
        "instance_id": fields["instance_id"], "subject_type": fields["subject_type"],
        "subject_id": fields["subject_id"], "payload": fields["payload"]})
    return hashlib.sha256(body.encode()).hexdigest()


def _unlinked_hash_body(fields: dict) -> tuple[str, str]:
    """The body `event_hash` digests, less its link to the chain: the JSON before
    `"prev_hash"` and after `"seq"` (the keys sort that way), built before the chain
    head is locked so that the lock is held for the digests alone."""
    before = canonical_json({
        "actor_id": fields["actor_id"], "instance_id": fields["instance_id"], "kind": fields["kind"],
        "occurred_at": as_utc(fields["occurred_at"]).isoformat(), "payload": fields["payload"]})
    after = canonical_json({"subject_id": fields["subject_id"], "subject_type": fields["subject_type"]})
    return before[:-1], after[1:]


def _linked_hash(unlinked: tuple[str, str], seq: int, prev_hash: str) -> str:
    """`event_hash` of an event whose body `_unlinked_hash_body` built."""
    before, after = unlinked
    return hashlib.sha256(f'{before},"prev_hash":{json.dumps(prev_hash)},"seq":{seq},{after}'.encode()).hexdigest()


@sa_event.listens_for(Session, "before_commit")
def _seal_pending_events(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint's release is not the commit: sealing here would lock the chain head
        # from the first step on, holding back every other writer until the real commit.
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    unlinked = [_unlinked_hash_body(fields) for fields in pending]
    seq, prev_hash = lock_chain_head(session)
    for fields, body in zip(pending, unlinked):
        seq += 1
        fields["seq"], fields["prev_hash"] = seq, prev_hash
        fields["hash"] = prev_hash = _linked_hash(body, seq, prev_hash)
    # One executemany for the lot, without an ORM object per event: a batch of timers
    # seals a few hundred events at once, and nothing reads them back in this session.
    session.execute(insert(Event.__table__), pending)
    move_chain_head(session, seq, prev_hash)


# The head is read, locked and moved with Core statements, never as an ORM object: it is written
# on every commit that records anything (the ORM's load and flush cost more than the SQL), and a
# head object a session kept from an earlier transaction would show an old seq and hash.
_HEAD = ChainHead.__table__
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))


def chain_head(session: Session) -> tuple[int, str]:
    """The chain head's (seq, hash) as the database holds it now; (0, GENESIS_HASH) before
    the first event."""
    head = session.execute(_READ_HEAD).first()
    return tuple(head) if head else (0, GENESIS_HASH)


def lock_chain_head(session: Session) -> tuple[int, str]:
    """The chain head's (seq, hash), locked until this transaction ends: whoever appends events
    holds it, so concurrent writers queue for the head rather than fork the chain."""
    head = session.execute(_READ_HEAD.with_for_update()).first()
    if head is None:
        # The first events of a database: two writers would both find no head to lock
        # and both insert one. The second insert fails once the first commits; inside a
        # savepoint that costs nothing, and the loser then locks the winner's head.
        try:
            with session.begin_nested():
                session.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS_HASH))
        except IntegrityError:
            pass
        head = session.execute(_READ_HEAD.with_for_update()).first()
    return tuple(head)


def move_chain_head(session: Session, seq: int, head_hash: str) -> None:
    """Point the locked chain head at the event just appended (`lock_chain_head` first)."""
    session.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": head_hash})


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_pending_events(session: Session, previous_transaction) -> None:
    """A rolled-back transaction leaves no events. A savepoint's rollback drops only the
    events queued inside it, which its owner does with `discard_since`."""
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def pending_count(session: Session) -> int:
    """How many events this transaction has queued so far (a mark for `discard_since`)."""
    return len(session.info.get(_PENDING, []))


def discard_since(session: Session, mark: int) -> None:
    """Forget the events queued after `mark`: their savepoint was rolled back."""
    if _PENDING in session.info:
        del session.info[_PENDING][mark:]


@dataclass
class ChainReport:
    ok: bool
    checked: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str = ""


def verify_chain(session: Session, batch_size: int = 5000) -> ChainReport:
    """Recompute every link; name the first event that was edited, removed or inserted."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    rows = session.execute(select(Event).order_by(Event.seq).execution_options(yield_per=batch_size))
    for (row,) in rows:
        fields = {c: getattr(row, c) for c in ("seq", "occurred_at", "actor_id", "kind",
                  "instance_id", "subject_type", "subject_id", "payload", "prev_hash")}
        if row.seq != expected_seq:
            return ChainReport(False, checked, expected_prev, expected_seq,
                               f"event {expected_seq} is missing (next found is {row.seq})")
        if row.prev_hash != expected_prev:
            return ChainReport(False, checked, expected_prev, row.seq,
                               f"event {row.seq} does not link to the event before it")
        if event_hash(fields) != row.hash:
            return ChainReport(False, checked, expected_prev, row.seq,
                               f"event {row.seq} was changed after it was written")
        expected_prev, expected_seq, checked = row.hash, row.seq + 1, checked + 1
    head_seq, head_hash = chain_head(session)
    if head_seq != checked or head_hash != expected_prev:
        return ChainReport(False, checked, expected_prev, checked + 1,
                           f"the chain ends at event {checked} but its head says {head_seq}: "
                           "events were removed from the end")
    return ChainReport(True, checked, expected_prev)
