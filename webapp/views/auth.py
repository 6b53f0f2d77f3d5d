"""Signing in and out with local accounts, and changing one's own password.

Failed attempts, lock-outs, sign-ins and sign-outs are all recorded (engine.sign_in,
engine.sessions). Signing in opens a server-side session (webapp.session_guard). A person
with two-factor sign-in (or whose role must have it under QA_REQUIRE_MFA) is not signed in
by the password: they go on to the code step (webapp/views/two_factor.py).
"""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, logout_user

from engine import two_factor
from engine.passwords import PasswordChange, change_password as change_own_password
from engine.runtime import events
from engine.sign_in import attempt_sign_in
from webapp import single_sign_on
from webapp.config import lockout_policy, password_policy
from webapp.extensions import db
from webapp.session_guard import current_session
from webapp.sign_in import SIGNED_IN_WITH, begin_second_step, finish_sign_in
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
    if request.method == "POST" and not current_app.config["LOCAL_PASSWORDS"]:
        events.record(db.session, "user.sign_in_failed", payload={"username": username[:80],
                                                                  "reason": "local_passwords_off"})
        db.session.commit()
        return _sign_in_page(username, "Sign in with your council account"), 403
    if request.method == "POST":
        result = attempt_sign_in(db.session, username, request.form.get("password", ""),
                                 lockout_policy(current_app.config), via="form", address=request.remote_addr)
        if result.user is not None:
            db.session.commit()  # the throttle's reset
            if two_factor.is_enrolled(db.session, result.user):
                return begin_second_step(result.user, request.args.get("next"), enrol=False)
            if two_factor.is_required(result.user, current_app.config["REQUIRE_MFA"]):
                return begin_second_step(result.user, request.args.get("next"), enrol=True)
            signed_in = finish_sign_in(result.user, request.args.get("next"), method="password")
            if result.user.must_change_password:  # a one-time password: nothing else until it is changed
                return redirect(url_for("auth.change_password"))
            return signed_in
        db.session.commit()  # the failure (and any lock-out) is kept although the person is refused
        if result.locked_until is not None:
            error, status = result.wait_message(), 429
        else:
            error, status = "Enter a correct username and password", 401
    return _sign_in_page(username, error), status


@blueprint.errorhandler(429)
def too_many_attempts(error: RateLimitExceeded):
    """The rate limit refused the attempt before the password was looked at."""
    db.session.rollback()
    return _sign_in_page(request.form.get("username", "").strip(), error.description), 429


def _sign_in_page(username: str, error: str | None):
    return render_template("sign_in.html", error=error, username=username,
                           local_passwords=current_app.config["LOCAL_PASSWORDS"],
                           single_sign_on=single_sign_on.enabled())


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    """End the session here (on the server, recorded) and, after single sign-on, at the council's provider too."""
    signed_in_with = session.pop(SIGNED_IN_WITH, None)
    logout_user()
    flash("You have signed out.", "info")
    if signed_in_with == "oidc" and single_sign_on.enabled():
        provider_sign_out = single_sign_on.end_session_url()
        if provider_sign_out:
            return redirect(provider_sign_out)
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
