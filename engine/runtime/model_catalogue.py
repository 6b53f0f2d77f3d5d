"""What the models pages list: each process with its versions and draft, who changed,
approved, published and retired each version and when, and how many instances run on it.

Reads only the registry's tables (versions, drafts, records) and counts instances by
version and status in SQL: no workflow is loaded to draw these pages.
"""
import json
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.runtime.model_draft_models import ModelDraft, ModelScenario, VersionRecord
from engine.runtime.models import ProcessInstance, ProcessVersion
from engine.runtime.registry import MANIFEST_NAME
from engine.whole_numbers import whole_number


@dataclass
class VersionRow:
    version: ProcessVersion
    record: VersionRecord | None
    instances: dict[str, int] = field(default_factory=dict)  # status -> count

    @property
    def running(self) -> int:
        return self.instances.get("running", 0)


@dataclass
class ProcessSummary:
    key: str
    name: str
    versions: list[VersionRow]
    draft: ModelDraft | None

    @property
    def newest_published(self) -> VersionRow | None:
        return next((row for row in self.versions if row.version.status == "published"), None)

    @property
    def running(self) -> int:
        return sum(row.running for row in self.versions)


def processes(session: Session) -> list[ProcessSummary]:
    """Every process with a version or a draft, newest version first within each."""
    keys = set(session.scalars(select(ProcessVersion.process_key))) | set(session.scalars(select(ModelDraft.process_key)))
    return sorted((process(session, key) for key in keys), key=lambda p: p.name.lower())


def process(session: Session, key: str) -> ProcessSummary:
    versions = session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == key)
                               .order_by(ProcessVersion.version.desc())).all()
    counts: dict[int, dict[str, int]] = {}
    for version_id, status, count in session.execute(
            select(ProcessInstance.process_version_id, ProcessInstance.status, func.count())
            .where(ProcessInstance.process_key == key)
            .group_by(ProcessInstance.process_version_id, ProcessInstance.status)):
        counts.setdefault(version_id, {})[status] = count
    records = {r.version_id: r for r in session.scalars(
        select(VersionRecord).where(VersionRecord.version_id.in_([v.id for v in versions])))}
    draft = session.scalar(select(ModelDraft).where(ModelDraft.process_key == key))
    rows = [VersionRow(v, records.get(v.id), counts.get(v.id, {})) for v in versions]
    files = draft.files if draft is not None else versions[0].files if versions else {}
    return ProcessSummary(key, _name(files, key), rows, draft)


def files_at(session: Session, key: str, ref: str) -> dict[str, str] | None:
    """The files of version `ref` (a number) or of the draft (`ref` is "draft")."""
    if ref == "draft":
        draft = session.scalar(select(ModelDraft).where(ModelDraft.process_key == key))
        return draft.files if draft else None
    number = whole_number(ref, minimum=1)
    if number is None:
        return None
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == key,
                                                          ProcessVersion.version == number))
    return version.files if version else None


def scenarios(session: Session, key: str) -> list[ModelScenario]:
    return list(session.scalars(select(ModelScenario).where(ModelScenario.process_key == key)
                                .order_by(ModelScenario.name)))


def people(session: Session, ids) -> dict[int, str]:
    """Display names for the user ids a page mentions."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all())


def _name(files: dict[str, str], key: str) -> str:
    try:
        return json.loads(files.get(MANIFEST_NAME, "{}")).get("name") or key
    except json.JSONDecodeError:
        return key
