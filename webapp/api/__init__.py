"""The JSON API (/api/v1), built with flask-smorest and documented at /api/v1/openapi.json.

Clients authenticate with bearer tokens, never cookies, so the API is exempt from
CSRF protection; every error it returns is JSON (webapp.api.errors). The Api object
is made per application so two apps (tests make one each) never share a spec.
"""
from flask import Flask
from flask_smorest import Api

from webapp.api import audits, instances, organisation, processes, tasks, tokens
from webapp.api.auth import SECURITY_SCHEME, require_bearer_token
from webapp.api.errors import register_json_errors, register_routing_errors
from webapp.api.schemas import ErrorSchema
from webapp.extensions import csrf

URL_PREFIX = "/api/v1"
PUBLIC_BLUEPRINTS = (tokens.blueprint,)
TOKEN_BLUEPRINTS = (tasks.blueprint, audits.blueprint, instances.blueprint, organisation.blueprint,
                      processes.blueprint)

for _blueprint in PUBLIC_BLUEPRINTS + TOKEN_BLUEPRINTS:
    register_json_errors(_blueprint)
for _blueprint in TOKEN_BLUEPRINTS:
    _blueprint.before_request(require_bearer_token)


class JsonApi(Api):
    """flask-smorest's Api, with our error shape, and without its app-wide error handler.

    flask-smorest would answer every HTTP error in the whole app as JSON; the web
    pages keep their HTML error pages, and the API blueprints carry their own."""
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """Deliberately empty: see the class docstring."""


def register(app: Flask) -> None:
    """Mount the API on `app`: blueprints, bearer-token security in the spec, JSON errors, no CSRF."""
    api = JsonApi(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme("bearerAuth", SECURITY_SCHEME)
    for blueprint in PUBLIC_BLUEPRINTS + TOKEN_BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=URL_PREFIX + blueprint.url_prefix)
        csrf.exempt(blueprint)
    register_routing_errors(app, URL_PREFIX)
