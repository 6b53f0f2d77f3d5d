"""Process models: the list of processes and their versions, comparing versions, drafts
(open, approve, publish, discard), retiring, uploads and downloads, and moving running
instances onto another version.

Process owners change models; the QA lead reads them and moves instances. Every action
is the engine's (engine.runtime.model_drafts, model_import, instance_migration): these
views check who is asking, call it, commit, and show what it said.
"""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.runtime import model_catalogue
from engine.runtime.errors import WorkflowError
from engine.runtime.instance_migration import may_migrate, migrate, preview
from engine.runtime.model_diff import AREAS, compare
from engine.runtime.model_drafts import (approval_required, approve_draft, create_draft, discard_draft, draft_for,
                                         may_view_models, open_draft, publish_draft, retire_version, save_draft)
from engine.runtime.model_import import ImportRefused, export_zip, read_upload
from engine.runtime.registry import may_publish
from engine.whole_numbers import whole_number
from webapp.extensions import db
from webapp.navigation import add_item
from webapp.request_limits import accepts_upload

blueprint = Blueprint("models", __name__)
add_item("models.index", "Process models", may_view_models)


@blueprint.before_request
@login_required
def _only_model_readers():
    if not may_view_models(current_user):
        abort(403)


@blueprint.route("/models")
def index():
    """Every process, its newest published version, its draft and its running instances."""
    summaries = model_catalogue.processes(db.session)
    return render_template("models.html", processes=summaries, can_edit=may_publish(current_user))


@blueprint.route("/models/<key>")
def process(key: str):
    """A process's versions, who changed, approved, published and retired each, and its draft."""
    summary = model_catalogue.process(db.session, key)
    if not summary.versions and summary.draft is None:
        abort(404)
    ids = [summary.draft.updated_by_id if summary.draft else None,
           summary.draft.approved_by_id if summary.draft else None]
    for row in summary.versions:
        ids.append(row.version.published_by_id)
        if row.record:
            ids += [row.record.changed_by_id, row.record.approved_by_id, row.record.retired_by_id]
    return render_template("model_process.html", process=summary, people=model_catalogue.people(db.session, ids),
                           scenarios=model_catalogue.scenarios(db.session, key), can_edit=may_publish(current_user),
                           can_migrate=may_migrate(current_user), approval_required=approval_required(),
                           me=current_user.id)


@blueprint.route("/models/<key>/compare")
def compare_versions(key: str):
    """What changed between two versions (or a version and the draft)."""
    old_ref, new_ref = request.args.get("from", ""), request.args.get("to", "")
    old, new = (model_catalogue.files_at(db.session, key, ref) for ref in (old_ref, new_ref))
    if old is None or new is None:
        flash("Choose two versions of this process to compare.", "info")
        return redirect(url_for("models.process", key=key))
    return render_template("model_compare.html", process=model_catalogue.process(db.session, key),
                           old_ref=old_ref, new_ref=new_ref, changes=compare(old, new), areas=AREAS)


@blueprint.route("/models/<key>/download")
def download(key: str):
    """The files of a version or of the draft, as a zip an upload accepts back."""
    ref = request.args.get("ref", "")
    files = model_catalogue.files_at(db.session, key, ref)
    if files is None:
        abort(404)
    name = f"{key}-{'draft' if ref == 'draft' else f'v{ref}'}.zip"
    return Response(export_zip(files), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blueprint.route("/models/<key>/draft", methods=["POST"])
def start_draft(key: str):
    _editors_only()
    version = request.form.get("version", "")
    return _act(key, lambda: open_draft(db.session, key, current_user, version_number=whole_number(version, minimum=1)),
                "Draft opened: change it in the editor; nothing live changes until it is published.",
                url_for("model_editor.modeler", key=key))


@blueprint.route("/models/<key>/draft/approve", methods=["POST"])
def approve(key: str):
    _editors_only()
    return _act(key, lambda: approve_draft(db.session, key, current_user, posted_revision()),
                "Draft approved: it can be published as it is now.")


@blueprint.route("/models/<key>/draft/publish", methods=["POST"])
def publish(key: str):
    _editors_only()
    note = request.form.get("note", "")

    def run():
        version = publish_draft(db.session, key, current_user, posted_revision(), note)
        return f"Version {version.version} published (content hash {version.content_hash[:12]}). New instances start on it."
    return _act(key, run)


@blueprint.route("/models/<key>/draft/discard", methods=["POST"])
def discard(key: str):
    _editors_only()
    return _act(key, lambda: discard_draft(db.session, key, current_user, posted_revision()), "Draft discarded.")


@blueprint.route("/models/<key>/versions/<int:number>/retire", methods=["POST"])
def retire(key: str, number: int):
    _editors_only()
    return _act(key, lambda: retire_version(db.session, key, number, current_user, request.form.get("reason", "")),
                f"Version {number} retired: instances on it carry on; new ones start on the newest published version.")


@blueprint.route("/models/upload", methods=["GET", "POST"])
@accepts_upload()
def upload():
    """Upload a .bpmn or .zip: a new process's first draft, or a replacement for a process's draft."""
    _editors_only()
    into = request.values.get("process", "")
    if request.method == "GET":
        return render_template("model_upload.html", into=into, problems=[], message=None)
    upload_file = request.files.get("model")
    draft = draft_for(db.session, into) if into else None
    if into and draft is None:
        return _upload_refused(into, "Open a draft of this process first: uploads replace a draft's files.")
    if upload_file is None or not upload_file.filename:
        return _upload_refused(into, "Choose a .bpmn or .zip file to upload.")
    try:
        model = read_upload(upload_file.filename, upload_file.read(), existing=draft.files if draft else None)
        if draft is not None and model.key != into:
            raise ImportRefused(f"The upload is the process '{model.key}', not '{into}'.")
        if draft is not None:
            removed = {path: None for path in draft.files if path not in model.files}
            save_draft(db.session, into, current_user, posted_revision(), {**model.files, **removed},
                       note=f"Uploaded {upload_file.filename}")
        else:
            create_draft(db.session, model.files, current_user, note=f"Uploaded {upload_file.filename}")
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        return _upload_refused(into, str(refused), refused.problems)
    except WorkflowError as refused:
        db.session.rollback()
        return _upload_refused(into, str(refused), getattr(refused, "problems", []))
    for note in model.notes:
        flash(note, "info")
    flash(f"{upload_file.filename} uploaded into the draft of '{model.key}'. Check it in the editor.", "success")
    return redirect(url_for("model_editor.modeler", key=model.key))


@blueprint.route("/models/<key>/migrate", methods=["GET", "POST"])
def move_instances(key: str):
    """The QA lead previews which running instances of a version can move to another, then moves them."""
    if not may_migrate(current_user):
        abort(403)
    source = whole_number(request.values.get("from"), minimum=1)
    target = whole_number(request.values.get("to"), minimum=1)
    if source is None or target is None:
        flash("Choose the version instances are on and the version to move them to.", "info")
        return redirect(url_for("models.process", key=key))
    try:
        if request.method == "POST":
            chosen = [number for text in request.form.getlist("instance")
                      if (number := whole_number(text, minimum=1)) is not None]
            if not chosen:
                raise WorkflowError("Choose at least one instance to move.")
            results = migrate(db.session, key, source, target, chosen, current_user)
            db.session.commit()
            moved = [r for r in results if r.movable]
            flash(f"{len(moved)} instance(s) moved to version {target}.", "success")
            for result in results:
                if not result.movable:
                    flash(f"{result.business_key or result.instance_id} not moved: {'; '.join(result.reasons)}", "info")
            return redirect(url_for("models.process", key=key))
        found = preview(db.session, key, source, target, current_user)
        db.session.commit()
    except WorkflowError as refused:
        db.session.rollback()
        flash(str(refused), "info")
        return redirect(url_for("models.process", key=key))
    return render_template("model_migrate.html", preview=found, changes=compare(found.from_version.files,
                                                                                  found.to_version.files), areas=AREAS)


def _act(key: str, action, success: str | None = None, then: str | None = None):
    """Run an engine action, commit, and go back to the process page with what it said."""
    try:
        result = action()
        db.session.commit()
    except WorkflowError as refused:
        db.session.rollback()
        flash(str(refused), "info")
        for problem in getattr(refused, "problems", []):
            flash(problem, "info")
        return redirect(url_for("models.process", key=key))
    flash(success or result, "success")
    return redirect(then or url_for("models.process", key=key))


def _upload_refused(into: str, message: str, problems=()):
    return render_template("model_upload.html", into=into, message=message, problems=list(problems)), 422


def posted_revision() -> int:
    """The draft revision the form was made from (optimistic concurrency); a form without one is a 400."""
    revision = whole_number(request.form.get("revision"), minimum=1)
    if revision is None:
        abort(400)
    return revision


def _editors_only() -> None:
    if not may_publish(current_user):
        abort(403)
