"""The council's OpenID Connect provider, reached through Authlib's Flask client.

Authlib does the protocol: discovery from the issuer, the authorisation code flow with
PKCE (S256), state and nonce kept in the session and checked on return, and the ID
token's signature (against the provider's published keys), issuer, audience and expiry
verified. Nothing here loosens those checks; the issuer is pinned to the configured one
rather than trusted from the discovery document. Deciding who the person is happens in
`engine.single_sign_on`.
"""
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, request, url_for

from engine.single_sign_on import SsoPolicy, policy_from_settings

CLIENT_NAME = "council"
_EXTENSION = "qa_single_sign_on"


class ProviderUnreachable(Exception):
    """The provider's discovery document could not be fetched."""


class TokenNotAccepted(Exception):
    """The provider's answer could not be trusted (no ID token, or it failed a check)."""


def init_app(app: Flask) -> None:
    """Register the provider when QA_OIDC_ISSUER is set; a half-made configuration stops
    the app at start-up with a message, rather than failing at someone's sign-in."""
    issuer = app.config["OIDC_ISSUER"]  # compared exactly with the token's `iss` (some end in "/")
    if not issuer:
        if not app.config["LOCAL_PASSWORDS"]:
            raise ValueError("QA_LOCAL_PASSWORDS=0 needs single sign-on: set QA_OIDC_ISSUER too")
        return
    if not (app.config["OIDC_CLIENT_ID"] and app.config["OIDC_CLIENT_SECRET"]):
        raise ValueError("QA_OIDC_ISSUER is set: QA_OIDC_CLIENT_ID and QA_OIDC_CLIENT_SECRET are needed too")
    address = urlsplit(issuer)
    if address.scheme != "https" and address.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError("QA_OIDC_ISSUER must be an https:// address")
    policy = policy_from_settings(app.config["OIDC_ROLE_CLAIM"], app.config["OIDC_ROLE_MAP"],
                                  app.config["OIDC_PROVISIONING"])
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions[_EXTENSION] = {"issuer": issuer, "policy": policy, "client": oauth.create_client(CLIENT_NAME)}


def enabled() -> bool:
    return _EXTENSION in current_app.extensions


def policy() -> SsoPolicy:
    return current_app.extensions[_EXTENSION]["policy"]


def public_url(endpoint: str) -> str:
    """This site's address for `endpoint` as the provider must see it: from QA_BASE_URL
    when set (behind a proxy the request's host and scheme are the proxy's), else the request's."""
    base = current_app.config["BASE_URL"] or request.host_url.rstrip("/")
    return base + url_for(endpoint)


def start():
    """The redirect to the provider's sign-in page (state, nonce and PKCE verifier saved)."""
    try:
        return _client().authorize_redirect(public_url("single_sign_on.callback"))
    except Exception as error:  # requests' and Authlib's errors alike: the provider did not answer properly
        raise ProviderUnreachable(f"{type(error).__name__}: {error}"[:200]) from error


def verified_claims() -> dict:
    """Exchange the returned code and give the ID token's claims once every check passed.

    Raises TokenNotAccepted naming what was wrong (a refused consent, a state that does
    not match, a bad signature, an expired or misdirected token)."""
    client = _client()
    # Authlib checks `aud` only when told which audience to expect; issuer and audience
    # are both pinned to this configuration.
    expected = {"iss": {"essential": True, "values": [current_app.extensions[_EXTENSION]["issuer"]]},
                "aud": {"essential": True, "values": [client.client_id]}}
    try:
        token = client.authorize_access_token(claims_options=expected)
    except Exception as error:  # Authlib and JOSE raise many kinds; each means "do not trust this"
        raise TokenNotAccepted(f"{type(error).__name__}: {error}"[:200]) from error
    claims = token.get("userinfo")
    if not claims:
        raise TokenNotAccepted("the provider sent no ID token")
    return dict(claims)


def end_session_url() -> str | None:
    """Where to send a person signing out so the provider ends its session too, if it can."""
    client = _client()
    try:
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        return client.create_logout_url(post_logout_redirect_uri=public_url("auth.sign_in"),
                                        client_id=client.client_id)["url"]
    except Exception:  # the provider being unreachable must not stop a local sign-out
        current_app.logger.warning("could not reach the identity provider to end its session", exc_info=True)
        return None


def _client():
    return current_app.extensions[_EXTENSION]["client"]
