"""Configuration from the environment, with safe defaults for production and a demo mode."""
import os
import secrets
from datetime import timedelta

from engine.database import INSTANCE_DIR, database_url_from_environment, sqlalchemy_url
from engine.passwords import PasswordPolicy
from engine.sessions import SessionPolicy
from engine.sign_in import LockoutPolicy


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


def from_environment() -> dict:
    return {
        "SECRET_KEY": _secret_key(),
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url_from_environment()),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "COUNCIL_NAME": os.environ.get("QA_COUNCIL_NAME", "Northbridge Council"),
        # Cookies are Secure unless explicitly running the plain-HTTP demo on this machine.
        "SESSION_COOKIE_SECURE": os.environ.get("QA_INSECURE_COOKIES") != "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("QA_INSECURE_COOKIES") != "1",
        "WTF_CSRF_TIME_LIMIT": None,
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
        "LOCKOUT_ATTEMPTS": int(os.environ.get("QA_LOCKOUT_ATTEMPTS", "10")),
        "LOCKOUT_MINUTES": int(os.environ.get("QA_LOCKOUT_MINUTES", "15")),
        "PASSWORD_MIN_LENGTH": int(os.environ.get("QA_PASSWORD_MIN_LENGTH", "12")),
        # How many reverse proxies stand in front of the app (0: none, clients connect directly).
        "TRUSTED_PROXIES": int(os.environ.get("QA_TRUSTED_PROXIES", "0")),
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
