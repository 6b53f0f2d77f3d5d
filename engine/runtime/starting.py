"""Starting a published process by hand: who may, with which form, about what.

A process.json may declare

    "start": {"roles": ["principal_social_worker", "assistant_director"],
              "scope": "any" | "own",
              "form": "thematic_commission-schema.json",
              "about": "case" | "team" | "service" | null}

People holding one of `roles` may start the newest published version, answering the
start form (validated on the server against its JSON Schema) and, when the process
is about something, choosing it among the things the domain offers them (all of
them, or with `scope: "own"` only those in their own scope). The workflow starts with
the answers, `started_by` and what the domain says about the chosen thing; an
`InstanceStart` row keeps the answers beside the trail, and the `instance.started`
event holds their SHA-256. Without a `start` declaration nobody starts a process by
hand (allocation and cycles start theirs in code).

Another page may open a start form with some answers filled in (a complaints theme
commissioning a thematic audit): `prefilled_answers` keeps only the form's own text
fields, and the answers are checked on submit like any others.
"""
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from engine.accounts import User
from engine.clock import clock
from engine.runtime.errors import InvalidFormData, NotAllowed, ProcessFailure
from engine.runtime.forms import validate_answers
from engine.runtime.instance_subjects import ABOUT_KINDS
from engine.runtime.instances import may_act, start_instance, ui_schema_name
from engine.runtime.models import HumanTask, InstanceStart, ProcessInstance, ProcessVersion
from engine.runtime.registry import built_model_for, latest_version
from engine.runtime.start_declarations import may_start, start_declaration
from engine.runtime.submissions import answers_digest

ABOUT_FIELD = "about"
MAX_PREFILLED_LENGTH = 2000


@dataclass(frozen=True)
class Startable:
    """A process a person may start, as the Start page and the API list it."""
    key: str
    name: str
    description: str
    version: int
    about: str | None
    about_label: str | None


def startable(session: Session, user: User) -> list[Startable]:
    """Every process whose newest published version `user` may start, by name."""
    newest = select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version")) \
        .where(ProcessVersion.status == "published").group_by(ProcessVersion.process_key).subquery()
    versions = session.scalars(select(ProcessVersion).options(defer(ProcessVersion.files)).join(
        newest, (newest.c.process_key == ProcessVersion.process_key) & (newest.c.version == ProcessVersion.version)))
    found = []
    for version in versions:
        if may_start(user, version.manifest):
            about = start_declaration(version.manifest).get("about")
            found.append(Startable(version.process_key, version.manifest.get("name", version.process_key),
                                   version.manifest.get("description", ""), version.version, about,
                                   ABOUT_KINDS[about].label if about in ABOUT_KINDS else None))
    return sorted(found, key=lambda item: item.name)


def start_form(session: Session, user: User, process_key: str) -> dict:
    """What the start page asks: the form's schema and UI schema, and the things the process
    may be about for `user`. NotAllowed when they may not start it."""
    version, declared = _startable_version(session, user, process_key)
    model = built_model_for(version)
    form = declared.get("form")
    about = ABOUT_KINDS.get(declared.get("about"))
    return {"key": process_key, "name": version.manifest.get("name", process_key),
            "description": version.manifest.get("description", ""),
            "schema": model.forms.get(form, {}) if form else {},
            "ui_schema": model.forms.get(ui_schema_name(form), {}) if form else {},
            "about": about.label if about else None,
            "about_options": about.options(session, user, declared.get("scope") == "own") if about else []}


def prefilled_answers(schema: dict, offered: Mapping[str, str]) -> dict:
    """The answers another page suggests for a start form (from a link's query string), kept
    only where the form has a top-level text field of that name and, for a choice, the value
    is one of its choices. A suggestion is not an answer: the starter sees it, may change it,
    and it is validated on submit like anything typed."""
    kept = {}
    for name, field in schema.get("properties", {}).items():
        value = offered.get(name)
        if not isinstance(value, str) or not value.strip() or field.get("type") != "string":
            continue
        if len(value) > MAX_PREFILLED_LENGTH or ("enum" in field and value not in field["enum"]):
            continue
        kept[name] = value
    return kept


def start_process(session: Session, user: User, process_key: str, answers: dict,
                  about_id: int | None = None) -> ProcessInstance:
    """Start `process_key` for `user`, after checking they may, the answers and what it is about.

    Refusals change nothing: NotAllowed (not a starter), InvalidFormData (per field, the
    choice of what it is about under 'about')."""
    version, declared = _startable_version(session, user, process_key)
    model = built_model_for(version)
    form = declared.get("form")
    errors = validate_answers(model.forms[form], answers) if form else {}
    about = ABOUT_KINDS.get(declared.get("about"))
    about_label, about_data = "", {}
    if about is not None:
        offered = dict(about.options(session, user, declared.get("scope") == "own"))
        if about_id not in offered:
            errors[ABOUT_FIELD] = f"Choose the {about.label.lower()} this is about"
        else:
            about_label, about_data = offered[about_id], about.start_data(session, about_id)
    if errors:
        raise InvalidFormData(errors)
    digest = answers_digest(answers)
    data = {**answers, **about_data, "started_by": user.id,
            "about_kind": about.name if about else None, "about_id": about_id if about else None}
    instance = start_instance(session, process_key, data, actor_id=user.id,
                              business_key=next_reference(session, version.manifest, process_key),
                              logged={"about_kind": data["about_kind"], "about_id": data["about_id"],
                                      "started_by": user.id, "answers_sha256": digest})
    session.add(InstanceStart(instance_id=instance.id, process_key=process_key, started_by_id=user.id,
                              about_kind=data["about_kind"], about_id=data["about_id"], about_label=about_label,
                              answers=answers, answers_sha256=digest, started_at=clock.now()))
    session.flush()
    return instance


def first_task_for(session: Session, instance: ProcessInstance, user: User) -> HumanTask | None:
    """The new instance's first open task if `user` may work on it (the Start page opens it)."""
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.state == "ready").order_by(HumanTask.id)):
        if may_act(task, user):
            return task
    return None


def _startable_version(session: Session, user: User, process_key: str) -> tuple[ProcessVersion, dict]:
    version = latest_version(session, process_key)
    if version is None:
        raise ProcessFailure(f"There is no published process '{process_key}'.")
    if not may_start(user, version.manifest):
        raise NotAllowed("You may not start this process.")
    return version, start_declaration(version.manifest)


def next_reference(session: Session, manifest: dict, process_key: str) -> str:
    """A readable reference for the new instance: the manifest's `reference_prefix` (else the
    process key in capitals), the year, and a number counting this process's instances."""
    prefix = manifest.get("reference_prefix") or process_key.upper()[:12]
    count = session.scalar(select(func.count(ProcessInstance.id)).where(ProcessInstance.process_key == process_key))
    return f"{prefix}-{clock.today().year}-{count + 1:05d}"


def link_child_instance(session: Session, child: ProcessInstance, parent_instance_id: int, *,
                        about_kind: str | None = None, about_id: int | None = None, about_label: str = "") -> None:
    """Record that `child` was started by the instance `parent_instance_id` (a thematic audit's
    case file audits), so both instance pages show the link and monitoring scope follows it."""
    session.add(InstanceStart(instance_id=child.id, process_key=child.process_key, started_by_id=None,
                              about_kind=about_kind, about_id=about_id, about_label=about_label, answers={},
                              answers_sha256=answers_digest({}), parent_instance_id=parent_instance_id,
                              started_at=clock.now()))
    session.flush()


def child_instance_ids(session: Session, parent_instance_id: int) -> list[int]:
    """The instances `parent_instance_id` started, oldest first."""
    return list(session.scalars(select(InstanceStart.instance_id)
                                .where(InstanceStart.parent_instance_id == parent_instance_id)
                                .order_by(InstanceStart.instance_id)))
