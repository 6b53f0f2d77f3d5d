"""Changing a process model safely: a draft per process, saved under a revision check,
approved by a second person where the council requires it, and published as a version.

A draft is a copy of a published version's files (or of an uploaded model). Saving it
never affects live work: running instances stay on their version, new ones start on
the newest *published* version. Every save names the revision it was made from; if
someone else saved in between, the save is refused with who and when, and nothing is
overwritten. Publishing validates the files (model_validation), runs every saved
sandbox scenario, checks the approval and stores an immutable version with its content
hash (engine.runtime.registry.publish records `model.published`).
"""
import json
import os
import re
from datetime import datetime

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import LOCAL_ZONE, clock
from engine.database import as_utc
from engine.runtime import events
from engine.runtime.errors import NotAllowed, WorkflowError
from engine.runtime.model_draft_models import ModelDraft, VersionRecord
from engine.runtime.model_validation import ValidationReport, validate_model
from engine.runtime.models import ProcessVersion
from engine.runtime.sandbox import failing_scenarios
from engine.runtime.registry import (MANIFEST_NAME, ModelError, content_hash, latest_version, may_publish,
                                     publish, retire)

APPROVAL_VARIABLE = "QA_MODEL_APPROVAL"  # "second_person": a process owner who did not edit must approve
VIEWER_ROLES = ("process_owner", "qa_lead")
EDITABLE_MANIFEST_KEYS = ("name", "description", "lanes", "start_data", "subject_key")
FORM_NAME = re.compile(r"[a-z0-9][a-z0-9_]*-(ui)?schema\.json")


class DraftError(WorkflowError):
    """A draft operation refused; nothing was changed. `problems` lists details, if any."""

    def __init__(self, message: str, problems: list[str] = ()):
        super().__init__(message)
        self.problems = list(problems)


class DraftConflict(DraftError):
    """Someone else saved the draft after the revision this change was made from."""


def may_view_models(user: User) -> bool:
    """Process owners change models; the QA lead reads them to move running instances."""
    return user.has_role(*VIEWER_ROLES)


def approval_required() -> bool:
    """Whether the council requires a second process owner to approve before publishing."""
    return os.environ.get(APPROVAL_VARIABLE, "") == "second_person"


def draft_for(session: Session, process_key: str) -> ModelDraft | None:
    return session.scalar(select(ModelDraft).where(ModelDraft.process_key == process_key))


def open_draft(session: Session, process_key: str, user: User, *, version_number: int | None = None) -> ModelDraft:
    """Start the process's draft from a version (the newest published one by default)."""
    _check_editor(user)
    existing = draft_for(session, process_key)
    if existing is not None:
        raise DraftError(f"There is already a draft of this process, last saved by {_name(session, existing.updated_by_id)} "
                         f"on {_when(existing.updated_at)}: work on that one, or discard it first.")
    query = select(ProcessVersion).where(ProcessVersion.process_key == process_key)
    base = (session.scalar(query.where(ProcessVersion.version == version_number)) if version_number
            else latest_version(session, process_key))
    if base is None:
        raise DraftError("There is no such version to start a draft from.")
    now = clock.now()
    draft = ModelDraft(process_key=process_key, base_version_id=base.id, files=dict(base.files), revision=1,
                       note="", editor_ids=[], created_by_id=user.id, created_at=now, updated_by_id=user.id,
                       updated_at=now)
    session.add(draft)
    session.flush()
    events.record(session, "model.draft_opened", actor_id=user.id, subject=("model_draft", draft.id),
                  payload={"process": process_key, "from_version": base.version})
    return draft


def create_draft(session: Session, files: dict[str, str], user: User, *, note: str = "") -> ModelDraft:
    """A draft of a process that has no draft yet (an upload); the files become revision 1."""
    _check_editor(user)
    key = json.loads(files[MANIFEST_NAME])["key"]
    if draft_for(session, key) is not None:
        raise DraftError(f"There is already a draft of '{key}': upload into that draft, or discard it first.")
    base = latest_version(session, key)
    now = clock.now()
    draft = ModelDraft(process_key=key, base_version_id=base.id if base else None, files=dict(files), revision=1,
                       note=note, editor_ids=[user.id], created_by_id=user.id, created_at=now,
                       updated_by_id=user.id, updated_at=now)
    session.add(draft)
    session.flush()
    events.record(session, "model.draft_opened", actor_id=user.id, subject=("model_draft", draft.id),
                  payload={"process": key, "uploaded_files": sorted(files)})
    return draft


def save_draft(session: Session, process_key: str, user: User, seen_revision: int,
               changes: dict[str, str | None], *, note: str | None = None) -> tuple[ModelDraft, ValidationReport]:
    """Apply `changes` (file path -> new text, None removes the file) made from `seen_revision`.

    Refused, with nothing saved, when someone saved since that revision, or when a file
    could not be opened again (XML that is not well formed, a form that is not JSON).
    Returns the saved draft and its validation report: problems do not stop a save.
    """
    _check_editor(user)
    draft = _locked(session, process_key, seen_revision)
    for path, text in changes.items():
        _check_file(path, text)
    files = {**draft.files, **{p: t for p, t in changes.items() if t is not None}}
    for path in [p for p, t in changes.items() if t is None]:
        files.pop(path, None)
    draft.files = files
    if note is not None:
        draft.note = note.strip()
    draft.revision += 1
    draft.updated_by_id, draft.updated_at = user.id, clock.now()
    draft.editor_ids = sorted(set(draft.editor_ids or []) | {user.id})
    events.record(session, "model.draft_saved", actor_id=user.id, subject=("model_draft", draft.id),
                  payload={"process": process_key, "revision": draft.revision, "files": sorted(changes),
                           "content_hash": content_hash(files)})
    return draft, validate_model(files)


def edit_manifest(files: dict[str, str], changes: dict) -> str:
    """The process.json text with `changes` to the keys an editor may change.

    The key, the BPMN process id and the list of files stay as they are: they change by
    uploading files, not by editing the diagram."""
    manifest = json.loads(files[MANIFEST_NAME])
    for key, value in changes.items():
        if key not in EDITABLE_MANIFEST_KEYS:
            raise DraftError(f"'{key}' in {MANIFEST_NAME} cannot be changed here.")
        if key == "lanes":
            value = _checked_lanes(value)
        if key == "start_data" and value is None:
            manifest.pop(key, None)
            continue
        if key == "start_data" and not (isinstance(value, dict) or (
                isinstance(value, list) and all(isinstance(name, str) for name in value))):
            raise DraftError("Start data is a list of names, or an object of names and example values.")
        manifest[key] = value
    return json.dumps(manifest, indent=2) + "\n"


def approve_draft(session: Session, process_key: str, user: User, seen_revision: int) -> ModelDraft:
    """A second process owner, who did not edit the draft, approves this revision of it."""
    _check_editor(user)
    draft = _locked(session, process_key, seen_revision)
    if user.id in (draft.editor_ids or []):
        raise DraftError("You changed this draft, so you cannot be its second-person approver.")
    draft.approved_by_id, draft.approved_at, draft.approved_revision = user.id, clock.now(), draft.revision
    events.record(session, "model.draft_approved", actor_id=user.id, subject=("model_draft", draft.id),
                  payload={"process": process_key, "revision": draft.revision,
                           "content_hash": content_hash(draft.files)})
    return draft


def publish_draft(session: Session, process_key: str, user: User, seen_revision: int, note: str) -> ProcessVersion:
    """Publish the draft as a new version, if it is valid, approved where required, and
    every saved sandbox scenario of the process still has the outcome it was saved with.

    The draft is removed once published: the next change starts a new draft.
    """
    if not may_publish(user):
        raise NotAllowed("Only process owners can publish process models.")
    draft = _locked(session, process_key, seen_revision)
    if not note.strip():
        raise DraftError("Enter a change note: say what changed and why.")
    report = validate_model(draft.files)
    if report.errors:
        raise DraftError(f"The draft has {len(report.errors)} problem(s) to fix before it can be published.",
                         [p.message for p in report.errors])
    if approval_required() and draft.approved_revision != draft.revision:
        raise DraftError("A second process owner, who did not edit this draft, must approve it before it is "
                         "published" + (" (it changed after it was approved)." if draft.approved_revision else "."))
    failures = failing_scenarios(session, process_key, draft.files)
    if failures:
        raise DraftError("Saved scenarios no longer pass: try them in the sandbox, then fix the draft or "
                         "save the scenario again.", failures)
    digest = content_hash(draft.files)
    same = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == process_key,
                                                       ProcessVersion.content_hash == digest))
    if same is not None:
        raise DraftError(f"The draft is identical to version {same.version}: there is nothing new to publish.")
    try:
        version = publish(session, draft.files, actor_id=user.id, note=note.strip())
    except ModelError as error:
        raise DraftError("The draft could not be published.", error.problems) from error
    session.add(VersionRecord(version_id=version.id, changed_by_id=draft.updated_by_id,
                              changed_at=draft.updated_at, approved_by_id=draft.approved_by_id,
                              approved_at=draft.approved_at))
    session.delete(draft)
    return version


def discard_draft(session: Session, process_key: str, user: User, seen_revision: int) -> None:
    """Throw the draft away; published versions are untouched."""
    _check_editor(user)
    draft = _locked(session, process_key, seen_revision)
    events.record(session, "model.draft_discarded", actor_id=user.id, subject=("model_draft", draft.id),
                  payload={"process": process_key, "revision": draft.revision})
    session.delete(draft)


def retire_version(session: Session, process_key: str, number: int, user: User, reason: str) -> ProcessVersion:
    """Stop new instances starting on a version; those already on it carry on."""
    if not may_publish(user):
        raise NotAllowed("Only process owners can retire process models.")
    if not reason.strip():
        raise DraftError("Enter the reason for retiring this version.")
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == process_key,
                                                          ProcessVersion.version == number).with_for_update())
    if version is None:
        raise DraftError("There is no such version.")
    newest = latest_version(session, process_key)
    if newest is not None and newest.id == version.id and _published_count(session, process_key) == 1:
        raise DraftError(f"Version {number} is the only published version: nothing new could start. "
                         "Publish its replacement first.")
    try:
        retire(session, version, actor_id=user.id, reason=reason.strip())
    except ModelError as error:
        raise DraftError(str(error)) from error
    record = session.get(VersionRecord, version.id) or VersionRecord(version_id=version.id)
    record.retired_by_id, record.retired_at, record.retired_reason = user.id, clock.now(), reason.strip()
    session.add(record)
    return version


def _published_count(session: Session, process_key: str) -> int:
    return session.scalar(select(func.count(ProcessVersion.id)).where(
        ProcessVersion.process_key == process_key, ProcessVersion.status == "published"))


def _locked(session: Session, process_key: str, seen_revision: int) -> ModelDraft:
    """The draft, locked and read afresh, or a refusal saying who saved it since `seen_revision`."""
    draft = session.scalar(select(ModelDraft).where(ModelDraft.process_key == process_key)
                           .with_for_update().execution_options(populate_existing=True))
    if draft is None:
        raise DraftError("There is no draft of this process: it was published or discarded. Nothing was saved.")
    if draft.revision != seen_revision:
        raise DraftConflict(
            f"{_name(session, draft.updated_by_id)} saved this draft on {_when(draft.updated_at)}, after you "
            f"opened it (you had revision {seen_revision}, it is now at {draft.revision}). Nothing of yours was "
            "saved and nothing was overwritten: reload the draft to see their changes, then make yours again.")
    return draft


def _check_editor(user: User) -> None:
    if not may_publish(user):
        raise NotAllowed("Only process owners can change process models.")


def _check_file(path: str, text: str | None) -> None:
    """Refuse a file that could not be opened again; everything else is validation's job."""
    if path == MANIFEST_NAME and text is None:
        raise DraftError(f"{MANIFEST_NAME} cannot be removed.")
    if text is None:
        return
    if path.endswith((".bpmn", ".dmn")):
        if "<!DOCTYPE" in text.upper():
            raise DraftError(f"{path}: document type declarations are not allowed in BPMN or DMN files.")
        try:
            etree.fromstring(text.encode())
        except etree.XMLSyntaxError as error:
            raise DraftError(f"{path} is not well-formed XML ({error}). Nothing was saved.") from error
    elif path.startswith("forms/"):
        if not FORM_NAME.fullmatch(path[len("forms/"):]):
            raise DraftError(f"'{path[len('forms/'):]}' is not a form file name: use lower-case letters, digits and "
                             "underscores, ending -schema.json or -uischema.json.")
        _json(path, text)
    elif path == MANIFEST_NAME:
        _json(path, text)


def _json(path: str, text: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise DraftError(f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}. "
                         "Nothing was saved.") from error


def _checked_lanes(lanes) -> dict:
    if not isinstance(lanes, dict):
        raise DraftError("Lanes must map each lane's name to its role and person key.")
    checked = {}
    for name, mapping in lanes.items():
        if not isinstance(mapping, dict) or not isinstance(mapping.get("role", ""), str):
            raise DraftError(f"Lane '{name}' needs a role.")
        person = (mapping.get("person") or "").strip() or None
        checked[str(name)] = {"role": mapping.get("role", ""), "person": person}
        excluded = mapping.get("must_not_be") or []
        if not isinstance(excluded, list) or not all(isinstance(key, str) for key in excluded):
            raise DraftError(f"Lane '{name}': must_not_be lists the data keys of people who may not take its tasks.")
        if excluded:  # separation of duties (engine.runtime.instances.separation_of_duties_problem)
            checked[str(name)]["must_not_be"] = excluded
    return checked


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else "someone else"


def _when(moment: datetime) -> str:
    return as_utc(moment).astimezone(LOCAL_ZONE).strftime("%-d %B %Y at %H:%M:%S")
