"""Thematic audits: the list, one thematic audit's report page and its PDF, and the QA lead's
review of the drawn sample (remove a case or swap it, with a reason, then confirm).

Who may read one is decided in engine/qa/thematic.py (the QA team and senior leaders,
the commissioner, the head of service of the service it looked at), who may review its
sample in engine/qa/thematic_sample.py (the QA lead, not the commissioner); every read is
recorded, as the pages list the case references sampled.
"""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.accounts import User
from engine.qa import thematic_sample
from engine.qa.access import SEE_EVERY_AUDIT
from engine.qa.models import COHORTS, Case, Team
from engine.qa.thematic import may_view_thematic, report_suppression, thematic_report, visible_thematic_audits
from engine.qa.thematic_models import SAMPLE_CASE_STATUSES, THEMATIC_STATUSES, ThematicAudit, ThematicSampleCase
from engine.qa.activity_pdf import thematic_pdf
from engine.runtime import events
from engine.runtime.errors import InvalidFormData, WorkflowError
from webapp.extensions import db
from webapp.form_rendering import ErrorLink, Field
from webapp.navigation import add_item

blueprint = Blueprint("thematic", __name__)
THEMATIC_READERS = SEE_EVERY_AUDIT + ("head_of_service",)
add_item("thematic.index", "Thematic audits", lambda user: user.has_role(*THEMATIC_READERS))


@blueprint.route("/thematic")
@login_required
def index():
    """The thematic audits the signed-in person may read, newest first."""
    return render_template("thematic_list.html", rows=visible_thematic_audits(db.session, current_user),
                           statuses=THEMATIC_STATUSES)


@blueprint.route("/thematic/<int:thematic_id>")
@login_required
def report(thematic_id: int):
    """One thematic audit: the commission, its audits and their grades, the write-up."""
    found = _readable(thematic_id)
    details = thematic_report(db.session, found, report_suppression(db.session, current_user, found))
    events.record(db.session, "thematic.viewed", actor_id=current_user.id, instance_id=found.instance_id,
                  subject=("thematic_audit", found.id))
    page = render_template("thematic.html", **details, statuses=THEMATIC_STATUSES,
                           may_review=found.status == "in_review" and thematic_sample.may_review(current_user, found))
    db.session.commit()
    return page


@blueprint.route("/thematic/<int:thematic_id>/report.pdf")
@login_required
def report_pdf(thematic_id: int):
    """The thematic report as PDF (marked Draft until the commissioner signs it off)."""
    found = _readable(thematic_id)
    body = thematic_pdf(thematic_report(db.session, found, report_suppression(db.session, current_user, found)),
                        current_app.config["COUNCIL_NAME"])
    return recorded_pdf(body, found.reference, "thematic.report_downloaded", found.instance_id,
                        ("thematic_audit", found.id))


@blueprint.route("/thematic/<int:thematic_id>/review")
@login_required
def review(thematic_id: int):
    """The drawn sample, case by case, for the QA lead to check before confirming."""
    found = _reviewable(thematic_id)
    if found.status != "in_review":
        flash(f"Thematic audit {found.reference} is not awaiting review.", "info")
        return redirect(url_for("thematic.report", thematic_id=found.id))
    return _review_page(found)


@blueprint.route("/thematic/<int:thematic_id>/confirm", methods=["POST"])
@login_required
def confirm(thematic_id: int):
    """Confirm the reviewed sample: the process starts one audit for each case kept."""
    found = _reviewable(thematic_id)
    try:
        thematic_sample.confirm(db.session, found, current_user)
        db.session.commit()
    except InvalidFormData as refused:
        db.session.rollback()
        return _review_page(found, refusals=list(refused.errors.values()), status=409)
    except WorkflowError as refused:
        db.session.rollback()
        return _review_page(found, refusals=[str(refused)], status=409)
    db.session.refresh(found)
    flash(f"Sample confirmed: {len(found.sample)} audits started, each auditor has their first task.", "success")
    return redirect(url_for("thematic.report", thematic_id=found.id))


@blueprint.route("/thematic/<int:thematic_id>/sample/<int:row_id>", methods=["GET", "POST"])
@login_required
def sample_case(thematic_id: int, row_id: int):
    """Swap one proposed case for another eligible case, or remove it; either with a reason."""
    found = _reviewable(thematic_id)
    row = db.session.get(ThematicSampleCase, row_id)
    if row is None or row.thematic_id != found.id:
        abort(404)
    errors: dict[str, str] = {}
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        action = values.get("action")
        if action not in ("swap", "remove"):
            abort(400)
        reference = db.session.get(Case, row.case_id).reference
        try:
            if action == "swap":
                brought = thematic_sample.swap_case(db.session, row.id, current_user, values.get("swap_reason", ""),
                                                    values.get("replacement", ""))
                done = f"Case {reference} swapped for case {db.session.get(Case, brought.case_id).reference}."
            else:
                thematic_sample.remove_case(db.session, row.id, current_user, values.get("remove_reason", ""))
                done = f"Case {reference} removed from the sample."
            db.session.commit()
        except thematic_sample.SampleReviewError as refused:
            db.session.rollback()
            field = f"{action}_reason" if refused.field == "reason" else refused.field or "case"
            errors[field] = str(refused)
        else:
            flash(done, "success")
            return redirect(url_for("thematic.review", thematic_id=found.id))
    return _sample_case_page(found, row, values, errors), (422 if errors else 200)


def recorded_pdf(body: bytes, reference: str, kind: str, instance_id: int, subject: tuple) -> Response:
    """A PDF download, recorded in the trail as `kind` before it is sent."""
    events.record(db.session, kind, actor_id=current_user.id, instance_id=instance_id, subject=subject)
    db.session.commit()
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{reference}.pdf"'})


def _review_page(found: ThematicAudit, refusals: list[str] = (), status: int = 200):
    rows = thematic_sample.rows(db.session, found)
    cases = {case.id: case for case in db.session.scalars(select(Case).where(Case.id.in_([r.case_id for r in rows])))}
    teams = {team.id: team for team in db.session.scalars(select(Team))}
    names = _names({person for row in rows for person in (row.auditor_id, row.moderator_id, row.changed_by_id)})
    events.record(db.session, "thematic.review_viewed", actor_id=current_user.id, instance_id=found.instance_id,
                  subject=("thematic_audit", found.id), payload={"rows": len(rows)})
    db.session.commit()
    return render_template("thematic_review.html", thematic=found, rows=rows, cases=cases, teams=teams, names=names,
                           cohorts=COHORTS, statuses=SAMPLE_CASE_STATUSES, refusals=list(refusals),
                           proposed=sum(1 for row in rows if row.status == "proposed"),
                           replaced={row.replaces_id: cases[row.case_id].reference for row in rows if row.replaces_id}), status


def _sample_case_page(found: ThematicAudit, row: ThematicSampleCase, values, errors: dict[str, str]):
    case = db.session.get(Case, row.case_id)
    team = db.session.get(Team, case.team_id)
    fields = {
        "swap": [Field(kind="text", name="replacement", id="replacement", label="Case to bring in", optional=True,
                       hint="Leave blank to take the next eligible case of the seeded draw, or enter the reference "
                            "of an open case in the same service (and cohort) without a recent audit.",
                       value=values.get("replacement", ""), error=errors.get("replacement")),
                 Field(kind="textarea", name="swap_reason", id="swap_reason", label="Why is it swapped?",
                       hint="For example: the family moved out of the area last week. Use case references, not names.",
                       value=values.get("swap_reason", ""), error=errors.get("swap_reason"))],
        "remove": [Field(kind="textarea", name="remove_reason", id="remove_reason", label="Why is it removed?",
                         hint="For example: the case is closing. Use case references, not names.",
                         value=values.get("remove_reason", ""), error=errors.get("remove_reason"))],
    }
    events.record(db.session, "thematic.sample_case_viewed", actor_id=current_user.id, instance_id=found.instance_id,
                  subject=("thematic_audit", found.id), payload={"case": case.reference})
    db.session.commit()
    linked = {"replacement", "swap_reason", "remove_reason"}
    return render_template("thematic_sample_case.html", thematic=found, row=row, case=case, team=team,
                           cohorts=COHORTS, names=_names({row.auditor_id, row.moderator_id}), fields=fields,
                           errors=[ErrorLink(f"#{key}", message) for key, message in errors.items() if key in linked],
                           problems=[message for key, message in errors.items() if key not in linked])


def _names(user_ids: set) -> dict[int, str]:
    wanted = {user_id for user_id in user_ids if user_id}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()) if wanted else {}


def _reviewable(thematic_id: int) -> ThematicAudit:
    found = db.session.get(ThematicAudit, thematic_id)
    if found is None:
        abort(404)
    if not thematic_sample.may_review(current_user, found):
        abort(403)
    return found


def _readable(thematic_id: int) -> ThematicAudit:
    found = db.session.get(ThematicAudit, thematic_id)
    if found is None:
        abort(404)
    if not may_view_thematic(db.session, current_user, found):
        abort(403)
    return found
