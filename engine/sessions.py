"""Server-side sign-in sessions, so that signing out, timing out and a password change
really end access.

The browser's cookie holds only a random session key; the server keeps its SHA-256
digest with the person, when it started, when it was last used and whether it has
ended. A copied cookie is worthless once the row is ended, and a leaked table holds no
usable key. Nothing here knows about Flask: the web layer passes the key in and out.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.accounts import ApiToken, secret_digest
from engine.clock import clock
from engine.database import Base, as_utc
from engine.runtime import events

# How often the idle timer is written back: a session used every second costs one
# write a minute, not one per request.
TOUCH_INTERVAL = timedelta(minutes=1)


class UserSession(Base):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(40))


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives: `idle` without a request, `lifetime` at most in all."""
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=10)


def start_session(session: Session, user_id: int, **details) -> tuple[str, UserSession]:
    """Open a session for `user_id` and record the sign-in with `details` (how: password,
    single sign-on, a second factor); returns the key for the cookie."""
    key = secrets.token_urlsafe(32)
    now = clock.now()
    row = UserSession(key_digest=secret_digest(key), user_id=user_id, started_at=now, last_seen_at=now)
    session.add(row)
    session.flush()
    events.record(session, "user.signed_in", actor_id=user_id, subject=("user", user_id),
                  payload={"session_id": row.id, **details})
    return key, row


def live_session(session: Session, key: str | None, policy: SessionPolicy) -> UserSession | None:
    """The open session this key belongs to, or None if it never existed or has ended.

    A session past its idle time or its lifetime is ended here, on first use after the
    deadline, and the expiry recorded; a live one has its idle timer moved on at most
    once a `TOUCH_INTERVAL` (the caller commits)."""
    if not key:
        return None
    row = session.scalar(select(UserSession).where(UserSession.key_digest == secret_digest(key)))
    if row is None or row.ended_at is not None:
        return None
    now = clock.now()
    if now - as_utc(row.last_seen_at) > policy.idle:
        _end(session, row, "idle_timeout", actor_id=None)
        return None
    if now - as_utc(row.started_at) > policy.lifetime:
        _end(session, row, "lifetime_reached", actor_id=None)
        return None
    if now - as_utc(row.last_seen_at) >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return row


def end_session(session: Session, key: str | None, reason: str = "signed_out") -> UserSession | None:
    """End the session this key opened (sign-out); ending an ended one does nothing."""
    if not key:
        return None
    row = session.scalar(select(UserSession).where(UserSession.key_digest == secret_digest(key)))
    if row is None or row.ended_at is not None:
        return None
    _end(session, row, reason, actor_id=row.user_id)
    return row


def end_all_sessions(session: Session, user_id: int, reason: str, actor_id: int | None,
                     *, keep_session_id: int | None = None) -> tuple[int, int]:
    """End every open session and revoke every live API token of `user_id`.

    Called when a password changes or is reset and when a person is deactivated, so
    that nothing signed in before keeps working. `keep_session_id` spares the session
    the change was made from. One `user.sessions_ended` event records who, why and how
    many. Returns (sessions ended, tokens revoked); the caller commits."""
    now = clock.now()
    ended_sessions = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None),
               UserSession.id != (keep_session_id or 0))
        .values(ended_at=now, end_reason=reason[:40])
        .execution_options(synchronize_session="fetch")).rowcount
    revoked_tokens = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")).rowcount
    events.record(session, "user.sessions_ended", actor_id=actor_id, subject=("user", user_id),
                  payload={"reason": reason, "sessions": ended_sessions, "api_tokens": revoked_tokens,
                           "kept_session_id": keep_session_id})
    return ended_sessions, revoked_tokens


def _end(session: Session, row: UserSession, reason: str, *, actor_id: int | None) -> None:
    row.ended_at = clock.now()
    row.end_reason = reason
    kind = "user.signed_out" if reason == "signed_out" else "user.session_ended"
    events.record(session, kind, actor_id=actor_id, subject=("user", row.user_id),
                  payload={"session_id": row.id, "reason": reason})
