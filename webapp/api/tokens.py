"""Issuing and revoking API tokens. Issuing is the one API endpoint that takes a password
instead of a token, so it has the sign-in page's rate limits and lock-out, and asks a person
with two-factor sign-in for their code too."""
from flask import current_app, request
from flask_smorest import Blueprint, abort

from engine import two_factor
from engine.accounts import issue_api_token, revoke_api_token
from engine.runtime import events
from engine.sign_in import attempt_sign_in
from webapp.api.auth import api_token, require_bearer_token
from webapp.api.schemas import ErrorSchema, TokenRequestSchema, TokenSchema
from webapp.config import lockout_policy
from webapp.extensions import db
from webapp.sign_in_limits import limit_sign_in

blueprint = Blueprint("api_tokens", __name__, url_prefix="/tokens",
                      description="Exchange a username and password for a bearer token, or revoke one")


@blueprint.route("", methods=["POST"])
@blueprint.doc(security=[])
@blueprint.arguments(TokenRequestSchema)
@blueprint.response(201, TokenSchema)
@blueprint.alt_response(401, schema=ErrorSchema, description="Wrong username, password or two-factor code")
@blueprint.alt_response(403, schema=ErrorSchema, description="Local passwords are off, the password must be changed "
                                                            "on the sign-in page first, or two-factor sign-in must be "
                                                            "set up in the browser first")
@blueprint.alt_response(429, schema=ErrorSchema, description="Too many attempts: wait before trying again")
@limit_sign_in
def issue_token(credentials: dict):
    """Issue a bearer token for a local account

    The token lasts 8 hours unless revoked first (DELETE /api/v1/tokens/current),
    and ends when the person's password changes. Send it as `Authorization: Bearer <token>`.
    ---
    A failed attempt is recorded (and committed) before the 401, as the sign-in
    page does, so repeated guessing shows in the audit trail; too many lock the
    username for a while (429), whether or not it exists. A person with two-factor
    sign-in sends their current code too; the password alone never yields a token."""
    username = credentials["username"].strip()
    if not current_app.config["LOCAL_PASSWORDS"]:
        events.record(db.session, "user.sign_in_failed", payload={"username": username[:80], "via": "api",
                                                                  "reason": "local_passwords_off"})
        db.session.commit()
        abort(403, message="Local passwords are switched off here.")
    result = attempt_sign_in(db.session, username, credentials["password"], lockout_policy(current_app.config),
                             via="api", address=request.remote_addr)
    if result.user is None:
        db.session.commit()
        if result.locked_until is not None:
            abort(429, message=result.wait_message())
        abort(401, message="Enter a correct username and password.")
    user = result.user
    if user.must_change_password:
        db.session.commit()
        abort(403, message="Change your password on the sign-in page before asking for an API token.")
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


@blueprint.route("/current", methods=["DELETE"])
@blueprint.response(204)
@blueprint.alt_response(401, schema=ErrorSchema, description="No live token was sent")
def revoke_current_token():
    """Revoke the token this request carries

    Signs a client out: the token stops working at once. Revoking it again answers 401,
    as for any token that no longer works."""
    require_bearer_token()
    revoke_api_token(db.session, api_token())
    db.session.commit()
