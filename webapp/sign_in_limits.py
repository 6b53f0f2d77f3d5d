"""Rate limits on the routes that take a password, per address and per username.

Only failed attempts count (a 401 answer), so an office of people behind one address
signing in at nine o'clock is never slowed, while a guesser is held to the configured
rate (`SIGN_IN_LIMIT_PER_ADDRESS`, `SIGN_IN_LIMIT_PER_ACCOUNT`). The per-username limit
is shared by the sign-in page and POST /api/v1/tokens, so switching route gains
nothing. These limits live in Flask-Limiter's store (memory per worker by default,
`QA_RATELIMIT_STORAGE_URI` for one shared by all); the lock-out in engine.sign_in is
kept in the database and holds across workers whatever the store.
"""
import math
import time

from flask import current_app, request
from flask_limiter.util import get_remote_address

from engine.sign_in import username_key
from webapp.extensions import limiter


def limit_sign_in(view):
    """Decorate a view that checks a password: limited per address and per username."""
    per_address = limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"],
                                key_func=address_key, methods=["POST"], deduct_when=_failed,
                                error_message=wait_message)
    per_account = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
                                       scope="sign-in-account", key_func=_username_key,
                                       methods=["POST"], deduct_when=_failed, error_message=wait_message)
    return per_address(per_account(view))


def limit_by_address(view):
    """Decorate a second-step view (a two-factor code): limited per address. The person is
    known there from the pending sign-in, which allows only a few wrong codes itself."""
    return limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], key_func=address_key,
                         methods=["POST"], deduct_when=_failed, error_message=wait_message)(view)


def wait_message() -> str:
    """"Too many attempts" with how long until the limit that was hit lets the next one in;
    worded as the lock-out is, and the same whether or not the username exists."""
    return f"Too many attempts. Try again in {minutes_to_wait()}."


def minutes_to_wait() -> str:
    """How long until the limit just hit lets the next attempt in, as "1 minute" or "N minutes"."""
    window = limiter.current_limit
    if window is None:
        seconds = 60
    else:  # reset_at is rounded up to the next whole second: never say more than the window
        seconds = min(window.reset_at - time.time(), window.limit.get_expiry())
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _failed(response) -> bool:
    return response.status_code == 401


def address_key() -> str:
    """The caller's address (the client's, behind a trusted proxy), as the limits count it."""
    return "address:" + get_remote_address()


def _username_key() -> str:
    """The username the request names (form or JSON), as the lock-out counts it."""
    if request.is_json:
        username = (request.get_json(silent=True) or {}).get("username")
    else:
        username = request.form.get("username")
    return "account:" + (username_key(str(username or "")) or "-")
