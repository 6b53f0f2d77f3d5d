"""Thematic audits: the list, one thematic audit's report page and its PDF.

Who may read one is decided in engine/qa/thematic.py (the QA team and senior leaders,
the commissioner, the head of service of the service it looked at); every read is
recorded, as the page lists the case references sampled.
"""
from flask import Blueprint, Response, abort, current_app, render_template
from flask_login import current_user, login_required

from engine.qa.access import SEE_EVERY_AUDIT
from engine.qa.thematic import may_view_thematic, thematic_report, visible_thematic_audits
from engine.qa.thematic_models import THEMATIC_STATUSES, ThematicAudit
from engine.qa.activity_pdf import thematic_pdf
from engine.runtime import events
from webapp.extensions import db
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
    details = thematic_report(db.session, found)
    events.record(db.session, "thematic.viewed", actor_id=current_user.id, instance_id=found.instance_id,
                  subject=("thematic_audit", found.id))
    page = render_template("thematic.html", **details, statuses=THEMATIC_STATUSES)
    db.session.commit()
    return page


@blueprint.route("/thematic/<int:thematic_id>/report.pdf")
@login_required
def report_pdf(thematic_id: int):
    """The thematic report as PDF (marked Draft until the commissioner signs it off)."""
    found = _readable(thematic_id)
    body = thematic_pdf(thematic_report(db.session, found), current_app.config["COUNCIL_NAME"])
    return recorded_pdf(body, found.reference, "thematic.report_downloaded", found.instance_id,
                        ("thematic_audit", found.id))


def recorded_pdf(body: bytes, reference: str, kind: str, instance_id: int, subject: tuple) -> Response:
    """A PDF download, recorded in the trail as `kind` before it is sent."""
    events.record(db.session, kind, actor_id=current_user.id, instance_id=instance_id, subject=subject)
    db.session.commit()
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{reference}.pdf"'})


def _readable(thematic_id: int) -> ThematicAudit:
    found = db.session.get(ThematicAudit, thematic_id)
    if found is None:
        abort(404)
    if not may_view_thematic(db.session, current_user, found):
        abort(403)
    return found
