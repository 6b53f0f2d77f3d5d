"""The practitioner survey: staff answer it anonymously; the principal social worker opens
rounds; leaders read results for groups of five or more and the staffing-pressure trend."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.qa import staff_survey
from engine.qa.staff_survey_models import SurveyRound
from webapp.extensions import db
from webapp.form_rendering import describe_form, parse_submission
from webapp.navigation import add_item

blueprint = Blueprint("staff_survey", __name__)
add_item("staff_survey.rounds", "Surveys", lambda user: user.has_role(*staff_survey.READS_RESULTS))


@blueprint.route("/survey", methods=["GET", "POST"])
@login_required
def answer():
    """The open round for the signed-in person: their form, or why there is none."""
    survey = staff_survey.open_round_for(db.session, current_user)
    if survey is None or staff_survey.has_answered(db.session, survey, current_user):
        return render_template("survey_closed.html", survey=survey)
    schema, ui = survey.questions["schema"], survey.questions["ui"]
    if request.method == "GET":
        return render_template("survey.html", survey=survey, form=describe_form(schema, ui, {}, {}))
    answers = parse_submission(schema, request.form)
    try:
        staff_survey.answer(db.session, survey, current_user, answers)
    except staff_survey.SurveyError as refused:
        db.session.rollback()
        flash(str(refused), "info")
        return redirect(url_for("staff_survey.answer"))
    except ValueError as invalid:
        db.session.rollback()
        return render_template("survey.html", survey=survey, form=describe_form(schema, ui, answers, invalid.args[0])), 400
    db.session.commit()
    flash("Thank you. Your answers have been added anonymously.", "success")
    return redirect(url_for("tasks.inbox"))


@blueprint.route("/surveys")
@login_required
def rounds():
    _require(staff_survey.READS_RESULTS)
    return render_template("survey_rounds.html", rounds=[(r, staff_survey.response_count(db.session, r))
                                                         for r in staff_survey.rounds(db.session)],
                           pressure=staff_survey.staffing_pressure(db.session), minimum=staff_survey.MIN_GROUP,
                           can_open=current_user.has_role(*staff_survey.RUNS_SURVEY))


@blueprint.route("/surveys/open", methods=["POST"])
@login_required
def open_now():
    _require(staff_survey.RUNS_SURVEY)
    try:
        survey = staff_survey.open_round(db.session, current_user)
    except staff_survey.SurveyError as refused:
        db.session.rollback()
        flash(str(refused), "info")
        return redirect(url_for("staff_survey.rounds"))
    db.session.commit()
    flash(f"The survey is open until {survey.closes_on:%-d %B %Y}; {survey.invited} people have been invited.", "success")
    return redirect(url_for("staff_survey.rounds"))


@blueprint.route("/surveys/<int:round_id>")
@login_required
def results(round_id: int):
    _require(staff_survey.READS_RESULTS)
    survey = db.session.get(SurveyRound, round_id)
    if survey is None:
        abort(404)
    found = staff_survey.read_results(db.session, survey, current_user)
    db.session.commit()
    return render_template("survey_results.html", survey=survey, results=found, minimum=staff_survey.MIN_GROUP)


def _require(roles: tuple[str, ...]) -> None:
    if not current_user.has_role(*roles):
        abort(403)
