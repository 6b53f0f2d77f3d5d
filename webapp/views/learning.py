"""The Learning pages: what the QA lead published to services and teams, and 7-minute
briefings written here. Team managers and practitioners see what was sent to their team
or service, heads of service what was sent to their service or its teams; the QA team see everything and who has read it. The engine decides who may
open what (engine/qa/learning.py); a publication not addressed to the reader is "not found".
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.qa import learning
from engine.qa.models import Service, Team
from webapp.extensions import db
from webapp.navigation import add_item

blueprint = Blueprint("learning", __name__)
add_item("learning.index", "Learning", learning.can_open_learning)


@blueprint.route("/learning")
@login_required
def index():
    """What the reader may open, newest first, with whether they (or how many) have read it."""
    if not learning.can_open_learning(current_user):
        abort(403)
    return render_template("learning.html", publications=learning.publications_for(db.session, current_user),
                           can_publish=learning.can_publish(current_user), oversees=learning.oversees(current_user))


@blueprint.route("/learning/<int:publication_id>")
@login_required
def publication(publication_id: int):
    """One publication; opening it is recorded (a reader's first opening also as a reading)."""
    if not learning.can_open_learning(current_user):
        abort(403)
    found = learning.open_publication(db.session, publication_id, current_user)
    if found is None:
        abort(404)
    db.session.commit()
    return render_template("learning_publication.html", found=found)


@blueprint.route("/learning/briefings/new", methods=["GET", "POST"])
@login_required
def new_briefing():
    """The QA lead writes a 7-minute briefing and publishes it to chosen services or teams."""
    if not learning.can_publish(current_user):
        abort(403)
    errors, form = {}, request.form
    if request.method == "POST":
        values, errors = learning.read_briefing(form.to_dict())
        audience, problem = learning.read_audience(db.session, form.getlist("services"), form.getlist("teams"))
        if problem:
            errors["audience"] = problem
        if not errors:
            publication, created = learning.publish(db.session, "briefing", values["title"],
                                                    learning.briefing_body(values), audience, current_user)
            db.session.commit()
            flash("The briefing has been published." if created else "This briefing was already published to them.",
                  "success")
            return redirect(url_for("learning.publication", publication_id=publication.id))
    return render_template("learning_briefing_new.html", errors=errors, form=form, sections=learning.BRIEFING_SECTIONS,
                           **audience_choices()), 422 if errors else 200


def audience_choices() -> dict:
    """The services and teams offered as an audience, for the audience checkboxes."""
    return {"services": db.session.scalars(select(Service).order_by(Service.name)).all(),
            "teams": db.session.scalars(select(Team).order_by(Team.name)).all()}
