"""Template filters: dates and grades written the way people read them (GOV.UK style)."""
from datetime import date, datetime

from engine.accounts import ROLES
from engine.clock import LOCAL_ZONE
from engine.database import as_utc
from engine.qa.grading_scale import grade_label, scales_in_use
from engine.qa.models import AREAS, AUDIT_STATUSES, COHORTS
from webapp.extensions import db

ACTION_STATUSES = {"not_started": "Not started", "in_progress": "In progress", "completed": "Completed",
                   "overdue": "Overdue", "cancelled": "Cancelled"}


def long_date(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        return as_utc(value).astimezone(LOCAL_ZONE).strftime("%-d %B %Y at %H:%M")
    return value.strftime("%-d %B %Y")


def grade(key) -> str:
    """A grade's label from whichever scale it belongs to; a scale not read yet is read once."""
    if key and grade_label(key) == key:
        scales_in_use(db.session)
    return grade_label(key)


def register(app) -> None:
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["grade"] = grade
    app.jinja_env.filters["area"] = lambda key: AREAS.get(key, "Overall practice" if key == "overall" else key)
    app.jinja_env.filters["audit_status"] = lambda key: AUDIT_STATUSES.get(key, key)
    app.jinja_env.filters["action_status"] = lambda key: ACTION_STATUSES.get(key, key)
    app.jinja_env.filters["cohort"] = lambda key: COHORTS.get(key, key)
    app.jinja_env.filters["role_label"] = lambda key: ROLES.get(key, key)
    app.jinja_env.filters["humanise"] = lambda key: (key or "").replace("_", " ").capitalize()
