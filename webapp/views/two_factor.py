"""Two-factor sign-in for local accounts: the code step after the password, setting it up
(at sign-in when the role requires it, or from the account page) and turning it off."""
import qrcode
import qrcode.image.svg
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from engine import two_factor
from engine.accounts import User
from webapp.extensions import db
from webapp.sign_in_limits import limit_by_address
from webapp.sign_in import count_failed_code, finish_sign_in, pending_second_step, safe_next, start_session

blueprint = Blueprint("two_factor", __name__)


@blueprint.route("/sign-in/two-factor", methods=["GET", "POST"])
@limit_by_address
def code():
    """The second step: nobody is signed in until the code is right."""
    pending = pending_second_step()
    if pending is None or pending[1]["enrol"]:
        return _start_again()
    user, marker = pending
    error = None
    if request.method == "POST":
        try:
            kind = two_factor.verify(db.session, user, request.form.get("code", ""))
        except two_factor.TwoFactorError as refusal:
            db.session.commit()  # the failure event
            count_failed_code(marker)
            error = str(refusal)
        else:
            return finish_sign_in(user, marker["next"], method="password", second_factor=kind)
    return render_template("two_factor_code.html", error=error), (401 if error else 200)


@blueprint.route("/sign-in/two-factor/set-up", methods=["GET", "POST"])
@limit_by_address
def set_up():
    """Set-up at sign-in for someone whose role must use two-factor and who has not yet."""
    pending = pending_second_step()
    if pending is None or not pending[1]["enrol"] or two_factor.is_enrolled(db.session, pending[0]):
        return _start_again()  # (set up meanwhile in another browser: its code is now needed)
    user, marker = pending
    if request.method == "POST":
        try:
            codes = two_factor.confirm_enrolment(db.session, user, request.form.get("code", ""))
        except two_factor.TwoFactorError as refusal:
            db.session.commit()
            count_failed_code(marker)
            return _enrolment_page(user, str(refusal), url_for("two_factor.set_up"), required=True), 401
        start_session(user, "password", second_factor="totp", enrolled=True)
        return render_template("two_factor_recovery_codes.html", codes=codes, continue_to=safe_next(marker["next"]))
    return _enrolment_page(user, None, url_for("two_factor.set_up"), required=True)


@blueprint.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def account():
    """A signed-in person sets up or turns off two-factor sign-in for their local password."""
    user = current_user._get_current_object()
    if not (user.has_password and current_app.config["LOCAL_PASSWORDS"]):
        return render_template("two_factor_account.html", local_account=False)
    required = two_factor.is_required(user, current_app.config["REQUIRE_MFA"])
    action = request.form.get("action")
    if not two_factor.is_enrolled(db.session, user):
        if action == "confirm":
            try:
                codes = two_factor.confirm_enrolment(db.session, user, request.form.get("code", ""))
            except two_factor.TwoFactorError as refusal:
                db.session.commit()
                return _enrolment_page(user, str(refusal), url_for("two_factor.account"), required), 400
            db.session.commit()
            return render_template("two_factor_recovery_codes.html", codes=codes, continue_to=url_for("tasks.inbox"))
        return _enrolment_page(user, None, url_for("two_factor.account"), required)
    error = None
    if action == "disable":
        try:
            two_factor.disable(db.session, user, request.form.get("code", ""), current_app.config["REQUIRE_MFA"])
        except two_factor.TwoFactorError as refusal:
            db.session.commit()
            error = str(refusal)
        else:
            db.session.commit()
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("two_factor.account"))
    return render_template("two_factor_account.html", local_account=True, enrolled=True, required=required,
                           recovery_codes_left=two_factor.recovery_codes_left(db.session, user),
                           error=error), (400 if error else 200)


def _enrolment_page(user: User, error: str | None, action: str, required: bool):
    """The secret as text, as an otpauth:// address and as a QR code drawn here (no outside service)."""
    secret = two_factor.pending_secret(db.session, user)
    db.session.commit()  # kept until confirmed, so a reload shows the same secret
    uri = two_factor.provisioning_uri(secret, user, current_app.config["COUNCIL_NAME"])
    return render_template("two_factor_enrol.html", secret=secret, uri=uri, qr_code=_qr_svg(uri), error=error,
                           action=action, required=required)


def _qr_svg(text: str) -> Markup:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    svg = image.to_string(encoding="unicode").replace(
        "<svg ", '<svg role="img" aria-label="QR code holding the secret for your authenticator app" ', 1)
    return Markup(svg)


def _start_again():
    flash("Sign in again to continue.", "info")
    return redirect(url_for("auth.sign_in"))
