"""GET /healthz for load balancers and monitoring: no sign-in, no data, 200 or 503."""
from datetime import timedelta

from flask import Blueprint, current_app, jsonify

from engine import health
from webapp.extensions import db

blueprint = Blueprint("health", __name__)


@blueprint.route("/healthz")
def healthz():
    """200 when the database, its schema and the scheduler are all well; else 503 naming what is not."""
    # The check uses connections of its own: end anything this request began first, or on
    # SQLite they would wait behind its write lock and the database would look unreachable.
    db.session.rollback()
    report = health.check(db.engine, timedelta(seconds=current_app.config["HEARTBEAT_MAX_AGE_SECONDS"]))
    response = jsonify(report)
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response
