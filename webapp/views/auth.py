"""Signing in and out with local accounts. Failed attempts are recorded too.

A person with two-factor sign-in (or whose role must have it under QA_REQUIRE_MFA) is
not signed in by the password: they go on to the code step (webapp/views/two_factor.py).
"""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from engine import two_factor
from engine.accounts import authenticate
from engine.runtime import events
from webapp import single_sign_on
from webapp.extensions import db
from webapp.sign_in import SIGNED_IN_WITH, begin_second_step, finish_sign_in

blueprint = Blueprint("auth", __name__)


@blueprint.route("/")
def home():
    return redirect(url_for("tasks.inbox") if current_user.is_authenticated else url_for("auth.sign_in"))


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    error = None
    username = request.form.get("username", "").strip()
    if request.method == "POST" and not current_app.config["LOCAL_PASSWORDS"]:
        events.record(db.session, "user.sign_in_failed", payload={"username": username[:80],
                                                                  "reason": "local_passwords_off"})
        db.session.commit()
        return _sign_in_page(username, "Sign in with your council account"), 403
    if request.method == "POST":
        user = authenticate(db.session, username, request.form.get("password", ""))
        if user is None:
            events.record(db.session, "user.sign_in_failed", payload={"username": username[:80]})
            db.session.commit()
            error = "Enter a correct username and password"
        elif two_factor.is_enrolled(db.session, user):
            return begin_second_step(user, request.args.get("next"), enrol=False)
        elif two_factor.is_required(user, current_app.config["REQUIRE_MFA"]):
            return begin_second_step(user, request.args.get("next"), enrol=True)
        else:
            return finish_sign_in(user, request.args.get("next"), method="password")
    return _sign_in_page(username, error), (401 if error else 200)


def _sign_in_page(username: str, error: str | None):
    return render_template("sign_in.html", error=error, username=username,
                           local_passwords=current_app.config["LOCAL_PASSWORDS"],
                           single_sign_on=single_sign_on.enabled())


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    """End the session here and, after single sign-on, at the council's provider too."""
    events.record(db.session, "user.signed_out", actor_id=current_user.id, subject=("user", current_user.id))
    db.session.commit()
    signed_in_with = session.pop(SIGNED_IN_WITH, None)
    logout_user()
    flash("You have signed out.", "info")
    if signed_in_with == "oidc" and single_sign_on.enabled():
        provider_sign_out = single_sign_on.end_session_url()
        if provider_sign_out:
            return redirect(provider_sign_out)
    return redirect(url_for("auth.sign_in"))
