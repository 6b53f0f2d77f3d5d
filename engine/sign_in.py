"""Checking a username and password with a lock-out against guessing.

Failed attempts are counted per username as typed, whether or not such a person
exists, in the database (so the count holds across web workers). After
`LockoutPolicy.attempts` failures within `lock_for`, the username is locked for
`lock_for`: every attempt is refused, even with the right password, and an unknown
username is locked in exactly the same way, so the lock-out does not tell a guesser
which usernames are real. Both the sign-in page and POST /api/v1/tokens come here.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.accounts import User, authenticate
from engine.clock import clock
from engine.database import Base, as_utc
from engine.runtime import events


class SignInThrottle(Base):
    """Recent failed sign-ins for one username (present only while there are some)."""
    __tablename__ = "sign_in_throttles"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class LockoutPolicy:
    """`attempts` wrong passwords within `lock_for` lock the username for `lock_for`."""
    attempts: int = 10
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInResult:
    """The person signed in, or None; `locked_until` is set when a lock-out refused it."""
    user: User | None
    locked_until: datetime | None = None

    def wait_message(self) -> str:
        """What to tell the person while locked out (the same for real and unknown usernames)."""
        minutes = max(1, math.ceil((as_utc(self.locked_until) - clock.now()).total_seconds() / 60))
        return f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def attempt_sign_in(session: Session, username: str, password: str, policy: LockoutPolicy,
                    *, via: str, address: str | None) -> SignInResult:
    """Check the credentials, count a failure, lock out after too many, record each in the trail.

    The password is hashed on every attempt, locked or not, known username or not,
    so neither the answer's content nor its time tells what exists. The caller commits
    (failures too: they must be kept even though the person is refused)."""
    user = authenticate(session, username, password)
    throttle = _locked_throttle(session, username_key(username))
    now = clock.now()
    if throttle is not None and throttle.locked_until is not None and as_utc(throttle.locked_until) > now:
        _record_failure(session, username, via, address, locked=True)
        return SignInResult(None, as_utc(throttle.locked_until))
    if user is not None:
        if throttle is not None:
            session.delete(throttle)
        return SignInResult(user)
    throttle = throttle or _new_throttle(session, username_key(username), now)
    if throttle.locked_until is not None or now - as_utc(throttle.first_failure_at) > policy.lock_for:
        throttle.failures, throttle.first_failure_at, throttle.locked_until = 0, now, None
    throttle.failures += 1
    _record_failure(session, username, via, address, locked=False)
    if throttle.failures < policy.attempts:
        return SignInResult(None)
    throttle.locked_until = now + policy.lock_for
    person_id = session.scalar(select(User.id).where(User.username == username))
    events.record(session, "user.locked_out", subject=("user", person_id) if person_id else None,
                  payload={"username": username[:80], "failures": throttle.failures, "via": via,
                           "address": address, "locked_until": throttle.locked_until})
    return SignInResult(None, throttle.locked_until)


def _record_failure(session: Session, username: str, via: str, address: str | None, *, locked: bool) -> None:
    events.record(session, "user.sign_in_failed",
                  payload={"username": username[:80], "via": via, "address": address, "locked": locked})


def username_key(username: str) -> str:
    """How a typed username is counted: trimmed, lower case, as long as the column."""
    return username.strip().lower()[:80]


def _locked_throttle(session: Session, key: str) -> SignInThrottle | None:
    return session.scalar(select(SignInThrottle).where(SignInThrottle.username == key)
                          .with_for_update().execution_options(populate_existing=True))


def _new_throttle(session: Session, key: str, now: datetime) -> SignInThrottle:
    """A fresh counter; if another worker inserted one for this username a moment ago, theirs."""
    try:
        with session.begin_nested():
            row = SignInThrottle(username=key, failures=0, first_failure_at=now)
            session.add(row)
        return row
    except IntegrityError:
        return _locked_throttle(session, key)
