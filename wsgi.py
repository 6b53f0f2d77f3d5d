"""WSGI entry point: `gunicorn wsgi:app` (production) or `flask --app wsgi run` (development).

Logging is configured here, by the process's entry point, not by the app factory (tests
make many apps and capture their own logs)."""
from engine.operations_log import configure_logging
from webapp import create_app

configure_logging()
app = create_app()
