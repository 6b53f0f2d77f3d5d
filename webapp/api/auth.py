"""Bearer-token authentication for the API.

The API never reads the session cookie: a client proves who it is on every request
with `Authorization: Bearer <token>`, a token from POST /api/v1/tokens. That is why
the API blueprints are exempt from CSRF protection, which guards cookie sessions.
"""
from flask import g, request
from flask_smorest import abort

from engine.accounts import ApiToken, User, live_api_token
from webapp.extensions import db

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}
SECURITY_SCHEME = {"type": "http", "scheme": "bearer",
                   "description": "A token from POST /api/v1/tokens, valid for 8 hours unless revoked first"}


def require_bearer_token() -> None:
    """Before-request hook: stop with 401 unless the request carries a live token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="Send an API token: Authorization: Bearer <token>.", headers=CHALLENGE)
    found = live_api_token(db.session, token.strip())
    if found is None:
        abort(401, message="This API token is not valid, has expired or was revoked; ask for a new one.",
              headers=CHALLENGE)
    g.api_token, g.api_user = found


def api_user() -> User:
    """The person the request's token belongs to (set by `require_bearer_token`)."""
    return g.api_user


def api_token() -> ApiToken:
    """The stored token the request carries (set by `require_bearer_token`)."""
    return g.api_token
