"""A real OpenID Connect provider (the `oidc-provider-mock` package, built on Authlib's
server) on 127.0.0.1 for the single sign-on tests.

The provider signs ID tokens with its own RSA key and publishes it at /jwks; people are
defined by `sub` and claims. `Provider` adds two things around it for the tests: it
records the form of each token request (to see the PKCE verifier the app sent), and it
can alter the token response in transit, as an attacker between the two would.
"""
import base64
import io
import json
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import oidc_provider_mock
import requests
import werkzeug.serving
from werkzeug.wrappers import Request


class Provider:
    def __init__(self, **options):
        self._app = oidc_provider_mock.app(**options)
        self.token_requests: list[dict] = []
        self.alter_token_response: Callable[[dict], dict] | None = None
        self._server = werkzeug.serving.make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def set_person(self, sub: str, **claims) -> None:
        """Define (or redefine) the person `sub` and the claims their tokens carry."""
        requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Submit the provider's sign-in form as `sub`; returns where it sends the browser back."""
        assert authorize_url.startswith(self.issuer), authorize_url
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def _wsgi(self, environ, start_response):
        if environ["PATH_INFO"] != "/oauth2/token":
            return self._app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        self.token_requests.append(dict(Request(dict(environ, **{"wsgi.input": io.BytesIO(body)})).form))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
        content = b"".join(self._app(environ, capture))
        if self.alter_token_response is not None and captured["status"].startswith("200"):
            content = json.dumps(self.alter_token_response(json.loads(content))).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(content)))])
        return [content]


def with_changed_claims(token_response: dict, **changes) -> dict:
    """The token response with the ID token's claims edited and its signature left as it was."""
    header, payload, signature = token_response["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=").decode()
    return {**token_response, "id_token": f"{header}.{edited}.{signature}"}


def path_of(url: str) -> str:
    """The path and query of an absolute URL, for the Flask test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
