"""Signing in and out with local accounts, and changing one's own password.

Failed attempts, lock-outs, sign-ins and sign-outs are all recorded (engine.sign_in,
engine.sessions). Signing in opens a server-side session (webapp.session_guard).
"""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from engine.passwords import PasswordChange, change_password as change_own_password
from engine.sign_in import attempt_sign_in
from webapp.config import lockout_policy, password_policy
from webapp.extensions import db
from webapp.session_guard import current_session
from webapp.sign_in_limits import limit_sign_in

blueprint = Blueprint("auth", __name__)


@blueprint.route("/")
def home():
    return redirect(url_for("tasks.inbox") if current_user.is_authenticated else url_for("auth.sign_in"))


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limit_sign_in
def sign_in():
    error, status = None, 200
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        result = attempt_sign_in(db.session, username, request.form.get("password", ""),
                                 lockout_policy(current_app.config), via="form", address=request.remote_addr)
        if result.user is not None:
            login_user(result.user)  # opens the server-side session and commits
            if result.user.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
        db.session.commit()  # the failure (and any lock-out) is kept although the person is refused
        if result.locked_until is not None:
            error, status = result.wait_message(), 429
        else:
            error, status = "Enter a correct username and password", 401
    return render_template("sign_in.html", error=error, username=username), status


@blueprint.errorhandler(429)
def too_many_attempts(error: RateLimitExceeded):
    """The rate limit refused the attempt before the password was looked at."""
    db.session.rollback()
    username = request.form.get("username", "").strip()
    return render_template("sign_in.html", error=error.description, username=username), 429


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    logout_user()  # ends the server-side session and records it
    flash("You have signed out.", "info")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session and API token of the person ends."""
    errors = {}
    if request.method == "POST":
        change = PasswordChange(current=request.form.get("current_password", ""),
                                new=request.form.get("new_password", ""),
                                confirm=request.form.get("confirm_password", ""))
        errors = change_own_password(db.session, current_user, change, password_policy(current_app.config),
                                     keep_session_id=current_session().id)
        if not errors:
            db.session.commit()
            flash("Your password has been changed. You have been signed out everywhere else, "
                  "and any API tokens you had no longer work.", "success")
            return redirect(url_for("tasks.inbox"))
    return render_template("account_password.html", errors=errors,
                           min_length=password_policy(current_app.config).min_length,
                           must_change=current_user.must_change_password), (422 if errors else 200)


def _safe_next(target: str | None) -> str:
    """Only ever redirect within this site after signing in."""
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("tasks.inbox")
