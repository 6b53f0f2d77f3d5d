"""Tracked recommendations of thematic audits and dip samples: the list, one recommendation,
and the QA lead recording it done with its evidence. Who sees which is decided in
engine/qa/recommendations.py; every read and change is recorded."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.clock import clock
from engine.qa.recommendations import (ACTIVITIES, UPDATER_ROLES, RecommendationNotFound, complete_recommendation,
                                       may_read_recommendations, visible_recommendations)
from engine.runtime import events
from engine.runtime.errors import InvalidFormData, NotAllowed
from webapp.extensions import db
from webapp.navigation import add_item

blueprint = Blueprint("recommendations", __name__)
add_item("recommendations.index", "Recommendations", may_read_recommendations)


@blueprint.route("/recommendations")
@login_required
def index():
    """Every recommendation the signed-in person may see, optionally of one activity."""
    _require(may_read_recommendations(current_user))
    activity = request.args.get("activity") or None
    if activity not in (None, *ACTIVITIES):
        activity = None
    rows = visible_recommendations(db.session, current_user, activity)
    events.record(db.session, "recommendations.listed", actor_id=current_user.id, subject=("recommendations", "list"),
                  payload={"activity": activity, "count": len(rows)})
    page = render_template("recommendations.html", rows=rows, activity=activity, activities=ACTIVITIES,
                           today=clock.today())
    db.session.commit()
    return page


@blueprint.route("/recommendations/<int:recommendation_id>", methods=["GET", "POST"])
@login_required
def recommendation(recommendation_id: int):
    """One recommendation; the QA lead records it done with the evidence."""
    _require(may_read_recommendations(current_user))
    found = next((row for row in visible_recommendations(db.session, current_user) if row.id == recommendation_id), None)
    if found is None:
        abort(404)
    errors = {}
    if request.method == "POST":
        try:
            complete_recommendation(db.session, current_user, found.id, request.form.get("evidence", ""))
            db.session.commit()
            flash(f"Recommendation {found.reference} recorded as done", "success")
            return redirect(url_for("recommendations.index"))
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except (InvalidFormData, RecommendationNotFound) as refused:
            db.session.rollback()
            errors = getattr(refused, "errors", {}) or {"evidence": str(refused)}
    return render_template("recommendation.html", row=found, activities=ACTIVITIES, errors=errors,
                           may_update=current_user.has_role(*UPDATER_ROLES), today=clock.today()), \
        422 if errors else 200


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)
