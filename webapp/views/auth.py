"""Signing in and out with local accounts. Failed attempts are recorded too."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from engine.accounts import authenticate
from engine.runtime import events
from webapp.extensions import db

blueprint = Blueprint("auth", __name__)


@blueprint.route("/")
def home():
    return redirect(url_for("tasks.inbox") if current_user.is_authenticated else url_for("auth.sign_in"))


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    error = None
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        user = authenticate(db.session, username, request.form.get("password", ""))
        if user is None:
            events.record(db.session, "user.sign_in_failed", payload={"username": username[:80]})
            db.session.commit()
            error = "Enter a correct username and password"
        else:
            login_user(user)
            events.record(db.session, "user.signed_in", actor_id=user.id, subject=("user", user.id))
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("sign_in.html", error=error, username=username), (401 if error else 200)


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    events.record(db.session, "user.signed_out", actor_id=current_user.id, subject=("user", current_user.id))
    db.session.commit()
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.sign_in"))


def _safe_next(target: str | None) -> str:
    """Only ever redirect within this site after signing in."""
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("tasks.inbox")
