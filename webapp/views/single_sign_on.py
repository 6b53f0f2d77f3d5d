"""Signing in with the council's account (OpenID Connect): off unless QA_OIDC_ISSUER is set."""
from flask import Blueprint, abort, current_app, render_template, request, session

from engine import single_sign_on as decisions
from webapp import single_sign_on as provider
from webapp.extensions import db
from webapp.sign_in import finish_sign_in, safe_next

blueprint = Blueprint("single_sign_on", __name__)
_NEXT = "sso_next"


@blueprint.route("/sign-in/oidc")
def start():
    if not provider.enabled():
        abort(404)
    session[_NEXT] = safe_next(request.args.get("next"))
    try:
        return provider.start()
    except provider.ProviderUnreachable as error:
        current_app.logger.error("single sign-on provider unreachable: %s", error)
        message = f"{current_app.config['COUNCIL_NAME']}'s sign-in service cannot be reached. Try again in a few minutes."
        return render_template("sign_in_refused.html", message=message), 503


@blueprint.route("/sign-in/oidc/callback")
def callback():
    if not provider.enabled():
        abort(404)
    try:
        claims = provider.verified_claims()
        user, matched_by = decisions.sign_in_from_claims(db.session, claims, provider.policy())
    except provider.TokenNotAccepted as error:
        current_app.logger.warning("single sign-on refused: %s", error)
        return _refused(f"invalid_token: {error}", "Your council account could not be confirmed. Try again.")
    except decisions.SignInRefused as refusal:
        return _refused(refusal.reason, refusal.message, refusal.subject, refusal.email)
    return finish_sign_in(user, session.pop(_NEXT, None), method="oidc", matched_by=matched_by)


def _refused(reason: str, message: str, subject: str = "", email: str = ""):
    """Nothing the attempt changed is kept; only the refusal is recorded."""
    db.session.rollback()
    session.pop(_NEXT, None)
    decisions.record_refusal(db.session, reason, subject, email)
    db.session.commit()
    return render_template("sign_in_refused.html", message=message), 403
