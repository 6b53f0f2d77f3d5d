"""Setting an absence and its delegate: by the person, their line manager or a system administrator.

The rules are engine.organisation.absence's; this page lists the absences that have not
ended, with a button to end each early, and a form for a new one.
"""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.accounts import User
from engine.organisation import absence as absences
from engine.organisation.models import Absence
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.form_rendering import ErrorLink, Field, Option, read_date
from webapp.views.outcome import perform

blueprint = Blueprint("absence", __name__)


@blueprint.route("/people/<int:person_id>/absence", methods=["GET", "POST"])
@login_required
def absence(person_id: int):
    person = db.session.get(User, person_id)
    if person is None:
        abort(404)
    me = current_user._get_current_object()
    if not absences.may_set_absence(me, person):
        abort(403)
    errors = {}
    if request.method == "POST":
        dates = {}
        for name in ("starts_on", "ends_on"):
            text = read_date(request.form, name)
            try:
                dates[name] = date.fromisoformat(text) if text else None
            except ValueError:
                errors[name] = "Enter a real date, for example 27 3 2027"
        chosen = request.form.get("delegate_id", "")
        if not errors:
            errors = perform(lambda: absences.set_absence(
                db.session, me, person.id, whole_number(chosen, minimum=1), dates["starts_on"],
                dates["ends_on"], request.form.get("note", "")), "Absence set: the delegate sees the tasks while it runs")
            if not errors:
                return redirect(url_for("absence.absence", person_id=person.id))
    fields = [Field(kind="select", name="delegate_id", id="delegate_id", label="Who covers",
                    hint="Colleagues who hold one of the same roles.", value=request.form.get("delegate_id", ""),
                    options=[Option(str(p.id), f"{p.display_name} ({p.job_title})")
                             for p in absences.possible_delegates(db.session, person)],
                    error=errors.get("delegate_id"))]
    for name, label in (("starts_on", "First day away"), ("ends_on", "Last day away")):
        fields.append(Field(kind="date", name=name, id=name, label=label, hint="For example 27 3 2027",
                            value={part: request.form.get(f"{name}-{part}", "") for part in ("day", "month", "year")},
                            error=errors.get(name)))
    fields.append(Field(kind="text", name="note", id="note", label="Note", optional=True,
                        value=request.form.get("note", ""), error=errors.get("note")))
    summary = [ErrorLink(f"#{field.id}", field.error) for field in fields if field.error]
    current = absences.absences_of(db.session, person)
    names = {item.delegate_id: db.session.get(User, item.delegate_id).display_name for item in current}
    return render_template("absence.html", person=person, fields=fields, summary=summary,
                           problems=[errors[""]] if errors.get("") else [], names=names,
                           current=current), (422 if errors else 200)


@blueprint.route("/absences/<int:absence_id>/end", methods=["POST"])
@login_required
def end(absence_id: int):
    found = db.session.get(Absence, absence_id)
    if found is None:
        abort(404)
    if not absences.may_set_absence(current_user, db.session.get(User, found.user_id)):
        abort(403)
    refused = perform(lambda: absences.end_absence(db.session, current_user._get_current_object(), found.id),
                      "Absence ended")
    for message in refused.values():
        flash(message, "info")
    return redirect(url_for("absence.absence", person_id=found.user_id))
