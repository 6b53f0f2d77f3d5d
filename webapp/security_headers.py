"""Security headers on every response: what a browser may load, frame, send and keep.

The Content-Security-Policy allows only this site's own files: every script is a built
bundle under /static/build (no inline script, no eval), every stylesheet a file there.
Styles set through the CSSOM (bpmn-js and Chart.js size and colour their SVG and canvas
elements that way) are not governed by CSP, so `style-src 'self'` holds without
'unsafe-inline'. Two exceptions, each the least a library needs: images may be `data:`
URLs (bpmn-js and its properties panel draw icons and the logo with them), and the
process editor's page alone, marked `allows_inline_style_attributes`, accepts style
*attributes* (not style elements) because bpmn-js-properties-panel builds its containers
from markup holding them.

Every dynamic answer (pages, JSON, exports) may show case or audit data, so none is
stored by the browser or a proxy (`Cache-Control: no-store`); only the static files are
cacheable. HSTS is sent only over HTTPS; behind a reverse proxy, QA_TRUST_PROXY tells
how many proxies' X-Forwarded-* headers to believe (webapp.config), so that the
scheme the person used is the one seen here.
"""
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

POLICY_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)
STYLE_ATTRIBUTES = "style-src-attr 'unsafe-inline'"
STYLE_ATTRIBUTES_MARK = "allows_inline_style_attributes"
STATIC_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": Flask-WTF checks the Referer of every form posted over HTTPS.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def allows_inline_style_attributes(view: Callable) -> Callable:
    """Mark a page whose scripts set style attributes in markup (the policy allows them there only)."""
    setattr(view, STYLE_ATTRIBUTES_MARK, True)
    return view


def register(app: Flask) -> None:
    """Add the headers to every response of `app`, trusting X-Forwarded-* only if configured."""
    proxies = app.config.get("TRUST_PROXY_COUNT", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    app.extensions["content_security_policy"] = content_security_policy(app.config.get("OIDC_ISSUER", ""))
    app.after_request(add_security_headers)


def content_security_policy(oidc_issuer: str = "") -> str:
    """The policy: forms post to this site only, and, with single sign-on, to the council's
    OpenID provider (browsers apply form-action to the redirect after a post, and signing
    out redirects there to end the provider's session too)."""
    form_targets = "'self'" + (f" {_origin(oidc_issuer)}" if oidc_issuer else "")
    return "; ".join((*POLICY_DIRECTIVES, f"form-action {form_targets}"))


def add_security_headers(response: Response) -> Response:
    """The fixed headers, HSTS over HTTPS, and no caching of anything but static files."""
    response.headers.update(STATIC_HEADERS)
    view = current_app.view_functions.get(request.endpoint or "")
    policy = current_app.extensions["content_security_policy"]
    if getattr(view, STYLE_ATTRIBUTES_MARK, False):
        policy += f"; {STYLE_ATTRIBUTES}"
    response.headers["Content-Security-Policy"] = policy
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    if not is_static(request):
        response.headers["Cache-Control"] = "no-store"
    return response


def is_static(asked: Request) -> bool:
    """Only the app's own built files may be cached; they hold no data about anyone."""
    return asked.endpoint == "static"


def _origin(address: str) -> str:
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}"
