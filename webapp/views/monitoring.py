"""The QA lead's monitoring pages: the dashboard, the instance list, one instance, one version.

Every number on the dashboard links to the instance list filtered to what it
counts; the list and the dashboard read projections only. An instance's page
shows its diagram (marked by webapp/static/src/diagram-viewer.entry.js from the
JSON routes below), its timeline and its current data; viewing it is recorded.
Heads of service see the instances of the audits they may see; QA officers see
everything but change nothing; only the QA lead gets the administration buttons.
"""
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.clock import clock
from engine.qa.actions_tracker import dashboard_counts as tracker_counts, may_view_tracker
from engine.qa.observation_feedback import feedback_on_page
from engine.runtime import monitoring
from engine.runtime.instance_subjects import instance_subject
from engine.runtime.administration import may_administer
from engine.runtime.errors import InvalidFormData, WorkflowError
from engine.runtime.models import ProcessInstance, ProcessVersion
from webapp.extensions import db
from webapp.form_rendering import ErrorLink
from webapp.views.audits import humanise_kind
from webapp.navigation import add_item

blueprint = Blueprint("monitoring", __name__)
add_item("monitoring.dashboard", "Monitoring", monitoring.may_monitor)

LIST_PAGES = {"instances": "monitoring.instances", "tracker": "tracker.tracker"}
STATUS_COLOURS = {"running": "govuk-tag--blue", "error": "govuk-tag--red", "suspended": "govuk-tag--yellow",
                  "completed": "govuk-tag--green", "terminated": "govuk-tag--grey"}


@blueprint.route("/monitoring")
@login_required
def dashboard():
    """The numbers that matter, each a link to the list behind it."""
    _require(monitoring.may_monitor(current_user))
    today = clock.today()
    return render_template("dashboard.html", numbers=monitoring.dashboard(db.session, current_user, today),
                           tracker=tracker_counts(db.session, current_user, today),
                           versions=monitoring.versions_in_use(db.session)
                           if monitoring.may_view_versions(current_user) else [])


@blueprint.route("/instances")
@login_required
def instances():
    """Every instance the signed-in person may see: search, filters, sort, pages, saved filters."""
    _require(monitoring.may_monitor(current_user))
    filters, errors = monitoring.InstanceFilters.from_query(request.args, db.session)
    listing = monitoring.list_instances(db.session, current_user, filters, clock.today())
    page = render_template("instances.html", filters=filters, errors=errors, listing=listing,
                           summary=[ErrorLink(f"#{field}", message) for field, message in errors.items()],
                           choices=monitoring.filter_choices(db.session, current_user),
                           statuses=monitoring.INSTANCE_STATUSES, status_colours=STATUS_COLOURS,
                           subject=instance_subject(),
                           query=urlencode(filters.to_query()),
                           saved=monitoring.saved_filters(db.session, current_user, "instances"),
                           page_link=lambda number: url_for("monitoring.instances", **filters.to_query(page=number)))
    db.session.commit()  # the read is recorded; rendered first, so the rows need not be loaded again
    return page


@blueprint.route("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    """One instance: its diagram, the steps open now, the timeline and its current data."""
    found = _instance_or_404(instance_id)
    _require(monitoring.can_view_instance(db.session, current_user, instance_id))
    details = monitoring.instance_page(db.session, found, current_user._get_current_object(),
                                       include_reads=request.args.get("reads") == "yes")
    page = render_template("instance.html", **details, today=clock.today(),
                           activity_feedback=feedback_on_page(db.session, found, current_user._get_current_object()),
                           administer=may_administer(current_user), describe=humanise_kind,
                           show_version=monitoring.may_view_versions(current_user),
                           statuses=monitoring.INSTANCE_STATUSES, status_colours=STATUS_COLOURS)
    db.session.commit()  # the view is recorded
    return page


@blueprint.route("/instances/<int:instance_id>/diagram")
@login_required
def instance_diagram(instance_id: int):
    """The diagram and each step's state, for the viewer script."""
    found = _instance_or_404(instance_id)
    _require(monitoring.can_view_instance(db.session, current_user, instance_id))
    return jsonify(monitoring.instance_diagram(db.session, found))


@blueprint.route("/instances/versions/<int:version_id>")
@login_required
def version(version_id: int):
    """A process version: its diagram with how many open instances wait or failed at each step."""
    _require(monitoring.may_view_versions(current_user))
    found = _version_or_404(version_id)
    return render_template("instance_version.html", version=found, statuses=monitoring.INSTANCE_STATUSES,
                           summary=monitoring.version_summary(db.session, found),
                           name=found.manifest.get("name", found.process_key),
                           may_list=monitoring.may_monitor(current_user))


@blueprint.route("/instances/versions/<int:version_id>/diagram")
@login_required
def version_diagram(version_id: int):
    _require(monitoring.may_view_versions(current_user))
    return jsonify(monitoring.version_diagram(db.session, _version_or_404(version_id)))


@blueprint.route("/saved-filters", methods=["POST"])
@login_required
def save_filter():
    """Keep the list's current filter under a name; going back to it is a link."""
    page = request.form.get("page", "")
    _require(page in LIST_PAGES and _may_use_list(page))
    query = request.form.get("query", "")
    try:
        saved = monitoring.save_filter(db.session, current_user, page, request.form.get("name", ""), query)
        db.session.commit()
    except InvalidFormData as invalid:
        db.session.rollback()
        flash(next(iter(invalid.errors.values())), "error")
        return redirect(f"{url_for(LIST_PAGES[page])}?{query}")
    flash(f"Filter saved: {saved.name}", "success")
    return redirect(f"{url_for(LIST_PAGES[page])}?{saved.query}")


@blueprint.route("/saved-filters/<int:filter_id>/delete", methods=["POST"])
@login_required
def delete_filter(filter_id: int):
    try:
        removed = monitoring.delete_filter(db.session, current_user, filter_id)
        db.session.commit()
    except WorkflowError:
        db.session.rollback()
        abort(404)
    flash(f"Filter removed: {removed.name}", "success")
    return redirect(url_for(LIST_PAGES[removed.page]))


def _may_use_list(page: str) -> bool:
    if page == "instances":
        return monitoring.may_monitor(current_user)
    return may_view_tracker(current_user)


def _instance_or_404(instance_id: int) -> ProcessInstance:
    found = db.session.get(ProcessInstance, instance_id)
    if found is None:
        abort(404)
    return found


def _version_or_404(version_id: int) -> ProcessVersion:
    found = db.session.get(ProcessVersion, version_id)
    if found is None:
        abort(404)
    return found


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)
