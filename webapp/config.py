"""Configuration from the environment, with safe defaults for production and a demo mode."""
import os
import secrets
from datetime import timedelta

from engine.database import INSTANCE_DIR, database_url_from_environment, sqlalchemy_url
from engine.health import DEFAULT_HEARTBEAT_MAX_AGE, HEARTBEAT_MAX_AGE_VARIABLE
from engine.passwords import PasswordPolicy
from engine.sessions import SessionPolicy
from engine.sign_in import LockoutPolicy
from engine.whole_numbers import whole_number

MEGABYTE = 1024 * 1024


def _secret_key() -> str:
    """QA_SECRET_KEY if set; otherwise a random key kept in instance/ so sessions survive restarts."""
    if os.environ.get("QA_SECRET_KEY"):
        return os.environ["QA_SECRET_KEY"]
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _whole_number(variable: str, default: int) -> int:
    """A whole number from the environment; a wrong value stops the app at start, loudly."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    number = whole_number(text)
    if number is None:
        raise ValueError(f"{variable} must be a whole number, not {text!r}")
    return number


def from_environment() -> dict:
    return {
        "SECRET_KEY": _secret_key(),
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url_from_environment()),
        # Bound values stay out of SQL error messages, which reach the logs (see engine.database.make_engine).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # /healthz fails the scheduler when its last heartbeat is older than this.
        "HEARTBEAT_MAX_AGE_SECONDS": int(os.environ.get(HEARTBEAT_MAX_AGE_VARIABLE)
                                         or DEFAULT_HEARTBEAT_MAX_AGE.total_seconds()),
        "COUNCIL_NAME": os.environ.get("QA_COUNCIL_NAME", "Northbridge Council"),
        # Cookies are Secure unless explicitly running the plain-HTTP demo on this machine.
        "SESSION_COOKIE_SECURE": os.environ.get("QA_INSECURE_COOKIES") != "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("QA_INSECURE_COOKIES") != "1",
        "WTF_CSRF_TIME_LIMIT": None,
        # Behind a reverse proxy: how many proxies' X-Forwarded-For/-Proto/-Host to believe (0: none).
        "TRUST_PROXY_COUNT": _whole_number("QA_TRUST_PROXY", 0),
        # Every request body is refused past this; uploads of files have their own, larger limit.
        "MAX_CONTENT_LENGTH": _whole_number("QA_MAX_REQUEST_MB", 2) * MEGABYTE,
        "MAX_UPLOAD_LENGTH": _whole_number("QA_MAX_UPLOAD_MB", 20) * MEGABYTE,
        # Single sign-on (OpenID Connect) and local accounts: see the README.
        "OIDC_ISSUER": os.environ.get("QA_OIDC_ISSUER", "").strip(),
        # The public address (behind a proxy the request's own host is not it): the OIDC
        # redirect and post-sign-out addresses are built from it when set.
        "BASE_URL": os.environ.get("QA_BASE_URL", "").strip().rstrip("/"),
        "OIDC_CLIENT_ID": os.environ.get("QA_OIDC_CLIENT_ID", "").strip(),
        "OIDC_CLIENT_SECRET": os.environ.get("QA_OIDC_CLIENT_SECRET", "").strip(),
        "OIDC_ROLE_CLAIM": os.environ.get("QA_OIDC_ROLE_CLAIM", ""),
        "OIDC_ROLE_MAP": os.environ.get("QA_OIDC_ROLE_MAP", ""),
        "OIDC_PROVISIONING": os.environ.get("QA_OIDC_PROVISIONING") == "1",
        "LOCAL_PASSWORDS": os.environ.get("QA_LOCAL_PASSWORDS", "1") != "0",
        "REQUIRE_MFA": os.environ.get("QA_REQUIRE_MFA") == "1",
        "API_TITLE": "Case file audit API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # Sessions end after this long without a request, and this long after signing in.
        "SESSION_IDLE_MINUTES": int(os.environ.get("QA_SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(os.environ.get("QA_SESSION_MAX_HOURS", "10")),
        # Password guessing: failed attempts per address and per username (Flask-Limiter,
        # in memory per worker unless a shared store such as redis:// is named), then a
        # lock-out kept in the database after this many failures.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STORAGE_URI": os.environ.get("QA_RATELIMIT_STORAGE_URI", "memory://"),
        # If a shared store is down, count in this worker's memory rather than refuse sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "SIGN_IN_LIMIT_PER_ADDRESS": os.environ.get("QA_SIGN_IN_LIMIT_PER_ADDRESS", "30 per minute"),
        "SIGN_IN_LIMIT_PER_ACCOUNT": os.environ.get("QA_SIGN_IN_LIMIT_PER_ACCOUNT", "5 per minute"),
        # The public feedback pages: wrong, expired, used or withdrawn codes per address.
        "FEEDBACK_LIMIT_PER_ADDRESS": os.environ.get("QA_FEEDBACK_LIMIT_PER_ADDRESS", "20 per minute"),
        "LOCKOUT_ATTEMPTS": int(os.environ.get("QA_LOCKOUT_ATTEMPTS", "10")),
        "LOCKOUT_MINUTES": int(os.environ.get("QA_LOCKOUT_MINUTES", "15")),
        "PASSWORD_MIN_LENGTH": int(os.environ.get("QA_PASSWORD_MIN_LENGTH", "12")),
    }


def session_policy(config) -> SessionPolicy:
    """The session lifetimes in the engine's terms, from the app's settings."""
    return SessionPolicy(idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                         lifetime=timedelta(hours=config["SESSION_MAX_HOURS"]))


def lockout_policy(config) -> LockoutPolicy:
    """The sign-in lock-out in the engine's terms, from the app's settings."""
    return LockoutPolicy(attempts=config["LOCKOUT_ATTEMPTS"], lock_for=timedelta(minutes=config["LOCKOUT_MINUTES"]))


def password_policy(config) -> PasswordPolicy:
    """The rules for a new password in the engine's terms, from the app's settings."""
    return PasswordPolicy(min_length=config["PASSWORD_MIN_LENGTH"])
