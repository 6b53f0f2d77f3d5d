"""The steps every way of signing in shares: a pending second factor, then the session.

A password alone never starts a session for someone who has (or must have) two-factor
sign-in: the password step only leaves a short-lived marker naming who is half way,
and `finish_sign_in` is called once the code is right.
"""
from datetime import timedelta
from urllib.parse import urlsplit

from flask import g, redirect, session, url_for
from flask_login import login_user

from engine.accounts import User
from engine.clock import clock
from webapp.extensions import db

SIGNED_IN_WITH = "signed_in_with"
_PENDING = "second_step"
PENDING_LIFETIME = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5


def finish_sign_in(user: User, next_url: str | None, method: str, **payload):
    """Start the session and go where the person was heading."""
    start_session(user, method, **payload)
    return redirect(safe_next(next_url))


def start_session(user: User, method: str, **payload) -> None:
    """Sign `user` in and commit (with whatever the sign-in step changed). The server-side
    session opened on `login_user` records the sign-in, with how (`method`, `payload`)."""
    session.pop(_PENDING, None)
    g.sign_in_details = {"method": method, **payload}
    login_user(user)
    session[SIGNED_IN_WITH] = method
    db.session.commit()


def begin_second_step(user: User, next_url: str | None, enrol: bool):
    """Remember who passed the password step, and send them to the code (or set-up) page."""
    session[_PENDING] = {"user_id": user.id, "next": safe_next(next_url), "enrol": enrol,
                         "started": clock.now().timestamp(), "attempts": 0}
    return redirect(url_for("two_factor.set_up" if enrol else "two_factor.code"))


def pending_second_step() -> tuple[User, dict] | None:
    """The person half way through signing in, unless the marker is stale or used up."""
    pending = session.get(_PENDING)
    if not pending:
        return None
    user = db.session.get(User, pending["user_id"])
    stale = clock.now().timestamp() - pending["started"] > PENDING_LIFETIME.total_seconds()
    if user is None or not user.active or stale or pending["attempts"] >= MAX_CODE_ATTEMPTS:
        session.pop(_PENDING, None)
        return None
    return user, pending


def count_failed_code(pending: dict) -> None:
    """After a few wrong codes the password has to be entered again."""
    session[_PENDING] = {**pending, "attempts": pending["attempts"] + 1}


def safe_next(target: str | None) -> str:
    """Only ever redirect within this site after signing in."""
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("tasks.inbox")
