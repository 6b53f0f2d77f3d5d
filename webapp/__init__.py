"""The Flask web app: sign-in, inboxes, task forms, audits, allocation and the JSON API.

Views stay thin: each checks who is asking, calls an `engine` function, commits,
and renders. Anything a user can get wrong comes back as a message, never a trace.
"""
from flask import Flask, render_template
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

import engine.qa  # noqa: F401  (registers the QA service operations)
from engine.accounts import ROLES, User
from engine.read_transactions import end_if_only_read
from webapp import (config, formatting, navigation, request_limits, request_log, security_headers, session_guard,
                    single_sign_on, url_converters)
from webapp.extensions import csrf, db, limiter, login_manager


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(config.INSTANCE_DIR))
    app.config.update(config.from_environment())
    app.config.update(overrides or {})
    url_converters.register(app)
    db.init_app(app)
    _end_read_only_requests_with_commit(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    single_sign_on.init_app(app)
    limiter.init_app(app)
    session_guard.init_app(app)
    formatting.register(app)
    request_log.register(app)
    _register_blueprints(app)
    _register_error_pages(app)
    request_limits.register(app)
    security_headers.register(app)

    @app.context_processor
    def layout_context():
        return {"council_name": app.config["COUNCIL_NAME"], "role_names": ROLES, "current_user": current_user,
                "navigation_items": navigation.items_for}

    return app


def _end_read_only_requests_with_commit(app: Flask) -> None:
    """Registered after Flask-SQLAlchemy, so it runs before the session is removed (and rolled
    back): a request that only read commits instead, keeping PostgreSQL's prepared statements
    (engine/read_transactions.py)."""
    @app.teardown_appcontext
    def end_read_only_transaction(error):
        if error is None and db.session.registry.has():
            try:
                end_if_only_read(db.session())
            except SQLAlchemyError:  # the database went away: the session's removal rolls back as before
                app.logger.warning("a read-only transaction could not be committed", exc_info=True)


def _register_blueprints(app: Flask) -> None:
    # Imported in the order their items appear in the header navigation.
    from webapp.views import auth, account, tasks, audits, allocation  # noqa: I001
    app.register_blueprint(auth.blueprint)
    from webapp.views import single_sign_on as single_sign_on_views, two_factor  # noqa: I001
    app.register_blueprint(single_sign_on_views.blueprint)
    app.register_blueprint(two_factor.blueprint)
    app.register_blueprint(account.blueprint)
    app.register_blueprint(tasks.blueprint)
    app.register_blueprint(audits.blueprint)
    app.register_blueprint(allocation.blueprint)
    from webapp.views import start, thematic, annual_reports
    app.register_blueprint(start.blueprint)
    app.register_blueprint(thematic.blueprint)
    app.register_blueprint(annual_reports.blueprint)
    from webapp.views import cycles, case_register  # noqa: I001
    app.register_blueprint(cycles.blueprint)
    app.register_blueprint(case_register.blueprint)
    from webapp.views import notifications
    app.register_blueprint(notifications.blueprint)
    from webapp.views import reports, learning, training_needs
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(learning.blueprint)
    app.register_blueprint(training_needs.blueprint)
    from webapp.views import monitoring, administration, tracker  # noqa: I001
    app.register_blueprint(monitoring.blueprint)
    app.register_blueprint(administration.blueprint)
    app.register_blueprint(tracker.blueprint)
    from webapp.views import models, model_editor  # noqa: I001
    app.register_blueprint(models.blueprint)
    app.register_blueprint(model_editor.blueprint)
    from webapp.views import trail, retention
    app.register_blueprint(trail.blueprint)
    app.register_blueprint(retention.blueprint)
    from webapp.views import feedback_requests, public_feedback, audit_participants
    app.register_blueprint(feedback_requests.blueprint)
    app.register_blueprint(audit_participants.blueprint)
    app.register_blueprint(public_feedback.blueprint)
    from webapp.views import staff_survey, complaints_log
    app.register_blueprint(staff_survey.blueprint)
    app.register_blueprint(complaints_log.blueprint)
    from webapp.views import participation
    app.register_blueprint(participation.blueprint)
    from webapp.views import health
    app.register_blueprint(health.blueprint)
    from webapp.views import organisation, handover, staff_import
    app.register_blueprint(organisation.blueprint)
    app.register_blueprint(handover.blueprint)
    app.register_blueprint(staff_import.blueprint)
    from webapp.views import absence
    app.register_blueprint(absence.blueprint)
    from webapp import api
    api.register(app)


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: ("Something was wrong with the request", "Go back and try again."),
        403: ("You do not have access to this page", "If you think you should, ask the QA lead."),
        429: ("Too many attempts", "Wait a few minutes, then try again."),
        404: ("Page not found", "Check the address, or go back to your inbox."),
        405: ("Page not found", "Check the address, or go back to your inbox."),
        500: ("Sorry, there is a problem with the service", "Nothing you entered was lost as a draft; try again later."),
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        if code == 500:
            db.session.rollback()
        title, advice = messages.get(code, messages[500])
        return render_template("error.html", title=title, advice=advice), code

    for code in messages:
        app.register_error_handler(code, render_error)
