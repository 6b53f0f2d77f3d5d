"""Ties Flask-Login to the server-side sessions of engine.sessions.

Every way of signing in ends in `login_user` (the password form today, single sign-on
and two-factor tomorrow), and Flask-Login then sends `user_logged_in`: that signal
opens the server-side session, so no sign-in path can forget to. The cookie carries
only the session key; on each request the key must name a live session of the same
person, or the person is signed out. `logout_user` ends the session on the server
through `user_logged_out`. A remember-me cookie cannot get round this: loading a
person always goes through `_load_user`, which needs a live session key.
"""
from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user, user_logged_in, user_logged_out

from engine.accounts import User
from engine.sessions import UserSession, end_session, live_session, start_session
from webapp.config import session_policy
from webapp.extensions import db, login_manager

SESSION_KEY = "qa_session"
# What a person who must change their password may still reach.
ALLOWED_BEFORE_PASSWORD_CHANGE = {"auth.change_password", "auth.sign_out", "static"}


def init_app(app: Flask) -> None:
    app.before_request(_check_session)


def current_session() -> UserSession | None:
    """The server-side session of this request's signed-in person (None for the API)."""
    current_user._get_current_object()  # loads the person, and with them the session
    return g.get("user_session")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    row = live_session(db.session, session.get(SESSION_KEY), session_policy(current_app.config))
    if row is None or str(row.user_id) != user_id:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    g.user_session = row
    return user


@user_logged_in.connect
def _open_session(app: Flask, user: User, **extra) -> None:
    """A new session for each sign-in (any earlier one in this browser is ended), committed
    at once so that the next request finds it whatever the sign-in view does next."""
    end_session(db.session, session.pop(SESSION_KEY, None), "replaced")
    key, row = start_session(db.session, user.id, **g.pop("sign_in_details", {}))
    session[SESSION_KEY] = key
    g.user_session = row
    db.session.commit()


@user_logged_out.connect
def _close_session(app: Flask, user: User | None, **extra) -> None:
    end_session(db.session, session.pop(SESSION_KEY, None))
    g.pop("user_session", None)
    db.session.commit()


def _check_session():
    """Before each page: sign out a person whose session has ended; keep one who must
    change their password on that page."""
    if request.endpoint == "static" or request.path.startswith("/api/"):
        return None
    if "_user_id" not in session:
        return None
    user = current_user._get_current_object()
    must_change = user.is_authenticated and user.must_change_password  # read before the commit expires it
    db.session.commit()  # keeps a moved idle timer or a recorded expiry, before the view runs
    if not user.is_authenticated:
        logout_user()
        flash("Your session has ended. Sign in again to continue.", "info")
        if request.endpoint == "auth.sign_in":
            return None
        return redirect(url_for("auth.sign_in", next=request.full_path if request.method == "GET" else None))
    if must_change and request.endpoint not in ALLOWED_BEFORE_PASSWORD_CHANGE:
        return redirect(url_for("auth.change_password"))
    return None
