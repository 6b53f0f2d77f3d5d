"""Configuration from the environment, with safe defaults for production and a demo mode."""
import os
import secrets

from engine.database import INSTANCE_DIR, database_url_from_environment, sqlalchemy_url
from engine.health import DEFAULT_HEARTBEAT_MAX_AGE, HEARTBEAT_MAX_AGE_VARIABLE
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
    }
