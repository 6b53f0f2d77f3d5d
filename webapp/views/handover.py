"""Reassigning a leaver's or mover's open work in one step (system administrator or QA lead).

Every open task, audit part, tracker action and case the person holds is listed with a
choice of who takes it; one reason covers them all and is recorded with each. The rules
(who may take what, separation of duties) are engine.organisation.open_work's.
"""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.accounts import User
from engine.organisation.open_work import hand_over as reassign_work, may_hand_over, open_work
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.form_rendering import ErrorLink
from webapp.views.outcome import perform

blueprint = Blueprint("handover", __name__)


@blueprint.route("/organisation/people/<int:person_id>/work", methods=["GET", "POST"])
@login_required
def hand_over(person_id: int):
    person = db.session.get(User, person_id)
    if person is None:
        abort(404)
    if not may_hand_over(current_user):
        abort(403)
    errors = {}
    if request.method == "POST":
        choices = {key: whole_number(value, minimum=1) for key, value in request.form.items()
                   if key.startswith(("task:", "audit:", "action:", "case:"))}
        choices = {key: value for key, value in choices.items() if value is not None}
        errors = perform(lambda: reassign_work(db.session, current_user._get_current_object(), person.id, choices,
                                               request.form.get("reason", "")),
                         f"{person.display_name}'s work reassigned")
        if not errors:
            return redirect(url_for("organisation.person", person_id=person.id))
    work = open_work(db.session, person)
    summary = [ErrorLink(f"#{_anchor(key)}", message) for key, message in errors.items() if key]
    return render_template("organisation_handover.html", person=person, work=work, errors=errors, summary=summary,
                           problems=[errors[""]] if errors.get("") else [], anchor=_anchor,
                           chosen=request.form), (422 if errors else 200)


def _anchor(key: str) -> str:
    return key.replace(":", "-")
