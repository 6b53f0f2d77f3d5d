"""Issuing API tokens: the one API endpoint that takes a password instead of a token."""
from flask import current_app
from flask_smorest import Blueprint, abort

from engine import two_factor
from engine.accounts import authenticate, issue_api_token
from engine.runtime import events
from webapp.api.schemas import ErrorSchema, TokenRequestSchema, TokenSchema
from webapp.extensions import db

blueprint = Blueprint("api_tokens", __name__, url_prefix="/tokens",
                      description="Exchange a username and password for a bearer token")


@blueprint.route("", methods=["POST"])
@blueprint.doc(security=[])
@blueprint.arguments(TokenRequestSchema)
@blueprint.response(201, TokenSchema)
@blueprint.alt_response(401, schema=ErrorSchema, description="Wrong username, password or two-factor code")
@blueprint.alt_response(403, schema=ErrorSchema, description="Local passwords are off, or two-factor sign-in "
                                                            "must be set up in the browser first")
def issue_token(credentials: dict):
    """Issue a bearer token for a local account

    The token lasts 8 hours. Send it as `Authorization: Bearer <token>`.
    ---
    A failed attempt is recorded (and committed) before the 401, as the sign-in
    page does, so repeated guessing shows in the audit trail. A person with two-factor
    sign-in sends their current code too; the password alone never yields a token."""
    username = credentials["username"].strip()
    if not current_app.config["LOCAL_PASSWORDS"]:
        events.record(db.session, "user.sign_in_failed", payload={"username": username[:80], "via": "api",
                                                                  "reason": "local_passwords_off"})
        db.session.commit()
        abort(403, message="Local passwords are switched off here.")
    user = authenticate(db.session, username, credentials["password"])
    if user is None:
        events.record(db.session, "user.sign_in_failed", payload={"username": username[:80], "via": "api"})
        db.session.commit()
        abort(401, message="Enter a correct username and password.")
    if two_factor.is_enrolled(db.session, user):
        try:
            two_factor.verify(db.session, user, credentials.get("code", ""), during="api")
        except two_factor.TwoFactorError:
            db.session.commit()  # the failure event
            abort(401, message="Send the current code from your authenticator app as `code`.")
    elif two_factor.is_required(user, current_app.config["REQUIRE_MFA"]):
        abort(403, message="Set up two-factor sign-in in the browser first.")
    token, expires_at = issue_api_token(db.session, user)
    events.record(db.session, "api.token_issued", actor_id=user.id, subject=("user", user.id),
                  payload={"expires_at": expires_at})
    db.session.commit()
    return {"token": token, "expires_at": expires_at}
