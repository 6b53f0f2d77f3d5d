"""The grading scale and the ILACS judgement areas: data of the case file audit model.

A case file audit's version carries `grading_scale.json` (declared in its process.json
`data_files`): the grades in order, best first, with their labels, which count as "Good or
better", which one escalates at once to the head of service, and the colour reports draw
each in; the inspectorate's judgement areas; and the judgement area each cohort falls
under. The seed's scale is Ofsted's four grades. A council moves to a new scale by
publishing a version with a new file: audits keep the scale of the version they ran on
(`audits.grading_scale`, the scale's signature), and reports compare grades only between
audits on the same scale.

Versions published before scales were model data ran on the seed's four grades.
"""
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.runtime.models import ProcessVersion
from engine.runtime.registry import PROCESSES_DIR, built_model_for, data_file_check

PROCESS_KEY = "case_file_audit"
SCALE_FILE = "grading_scale.json"
SEED_SCALE_PATH = PROCESSES_DIR / PROCESS_KEY / SCALE_FILE
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
MINIMUM_CONTRAST = 4.5  # WCAG 2.1 AA for text, against white: colours are used as text and on white pages


@dataclass(frozen=True)
class Grade:
    key: str
    label: str
    good_or_better: bool
    escalates: bool
    colour: str


@dataclass(frozen=True)
class GradingScale:
    """One scale: its grades best first, the judgement areas and the cohort mapping."""
    name: str
    grades: tuple[Grade, ...]
    judgement_areas: dict  # key -> label, in the inspectorate's order
    per_audit_areas: tuple[str, ...]  # the judgement areas an audit can fall under (not leadership)
    cohort_areas: dict  # cohort -> judgement area key

    @property
    def signature(self) -> str:
        """What makes two scales comparable: the same grade keys, labels and meanings in the
        same order. Colours and the scale's name may change without splitting the figures."""
        meaning = [[g.key, g.label, g.good_or_better, g.escalates] for g in self.grades]
        return hashlib.sha256(json.dumps(meaning, separators=(",", ":")).encode()).hexdigest()[:16]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(g.key for g in self.grades)

    @property
    def labels(self) -> dict:
        return {g.key: g.label for g in self.grades}

    @property
    def colours(self) -> dict:
        return {g.key: g.colour for g in self.grades}

    @property
    def good_or_better(self) -> tuple[str, ...]:
        return tuple(g.key for g in self.grades if g.good_or_better)

    @property
    def below_good(self) -> tuple[str, ...]:
        return tuple(g.key for g in self.grades if not g.good_or_better)

    @property
    def escalating(self) -> tuple[str, ...]:
        return tuple(g.key for g in self.grades if g.escalates)

    @property
    def escalating_label(self) -> str:
        """How reports name the grade that escalates ("Inadequate")."""
        return " or ".join(self.labels[key] for key in self.escalating)

    def judgement_area_for(self, cohort: str) -> str | None:
        return self.cohort_areas.get(cohort)


@data_file_check(SCALE_FILE)
def scale_problems(data) -> list[str]:
    """Why a grading scale cannot be published, one plain sentence each; empty when it can."""
    if not isinstance(data, dict):
        return ["the grading scale must be a JSON object with a name, grades and judgement areas"]
    problems = []
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        problems.append("give the scale a name")
    grades = data.get("grades")
    if not isinstance(grades, list) or len(grades) < 2:
        return problems + ["list at least two grades, best first"]
    keys = []
    for number, grade in enumerate(grades, start=1):
        if not isinstance(grade, dict):
            problems.append(f"grade {number} must be an object with a key, label and colour")
            continue
        key = grade.get("key")
        if not isinstance(key, str) or not KEY.fullmatch(key):
            problems.append(f"grade {number}: the key must be lower-case letters, digits and underscores")
        elif key in keys:
            problems.append(f"grade {number}: the key '{key}' is used twice; each grade needs its own key")
        keys.append(key)
        if not isinstance(grade.get("label"), str) or not grade["label"].strip():
            problems.append(f"grade {number}: give it a label")
        for flag in ("good_or_better", "escalates"):
            if not isinstance(grade.get(flag), bool):
                problems.append(f"grade {number}: '{flag}' must be true or false")
        colour = grade.get("colour")
        if not isinstance(colour, str) or not HEX_COLOUR.fullmatch(colour):
            problems.append(f"grade {number}: the colour must be a hex colour such as #00703c")
        elif contrast_with_white(colour) < MINIMUM_CONTRAST:
            problems.append(f"grade {number}: the colour {colour} is too light to read on white "
                            f"(contrast {contrast_with_white(colour):.1f}:1, at least {MINIMUM_CONTRAST}:1 needed)")
    dicts = [g for g in grades if isinstance(g, dict)]
    if not any(g.get("good_or_better") is True for g in dicts):
        problems.append("mark at least one grade as good or better")
    if all(g.get("good_or_better") is True for g in dicts):
        problems.append("at least one grade must be below good")
    if not any(g.get("escalates") is True for g in dicts):
        problems.append("mark one grade as escalating at once to the head of service")
    elif sum(g.get("escalates") is True for g in dicts) > 1:
        problems.append("mark only one grade as escalating at once to the head of service")
    flags = [g.get("good_or_better") for g in dicts]
    if flags != sorted(flags, reverse=True):
        problems.append("list the grades best first: every good or better grade before those below good")
    return problems + _area_problems(data)


def _area_problems(data: dict) -> list[str]:
    areas = data.get("judgement_areas")
    if not isinstance(areas, list) or not areas:
        return ["list the inspectorate's judgement areas"]
    problems, keys = [], []
    for number, area in enumerate(areas, start=1):
        if not isinstance(area, dict) or not isinstance(area.get("key"), str) or not KEY.fullmatch(area["key"]) \
                or not isinstance(area.get("label"), str) or not area["label"].strip():
            problems.append(f"judgement area {number} needs a key (lower-case letters, digits, underscores) and a label")
            continue
        if area["key"] in keys:
            problems.append(f"judgement area {number}: the key '{area['key']}' is used twice")
        keys.append(area["key"])
    mapping = data.get("cohort_judgement_areas")
    if not isinstance(mapping, dict) or not mapping:
        return problems + ["map each cohort to the judgement area it falls under (cohort_judgement_areas)"]
    per_audit = {a["key"] for a in areas if isinstance(a, dict) and a.get("per_audit", True) is not False}
    for cohort, area in mapping.items():
        if area not in per_audit:
            problems.append(f"the cohort '{cohort}' is mapped to '{area}', which is not a judgement area an "
                            "audit can fall under")
    return problems


def contrast_with_white(colour: str) -> float:
    """The WCAG contrast ratio of `colour` (#rrggbb) against a white page."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def scale_from_data(data: dict) -> GradingScale:
    """A checked scale file as a GradingScale; its grade labels become known to `grade_label`."""
    areas = data["judgement_areas"]
    for grade in data["grades"]:
        _LABELS.setdefault(grade["key"], grade["label"])
    return GradingScale(
        name=data["name"],
        grades=tuple(Grade(g["key"], g["label"], g["good_or_better"], g["escalates"], g["colour"])
                     for g in data["grades"]),
        judgement_areas={a["key"]: a["label"] for a in areas},
        per_audit_areas=tuple(a["key"] for a in areas if a.get("per_audit", True) is not False),
        cohort_areas=dict(data["cohort_judgement_areas"]))


@functools.lru_cache(maxsize=1)
def seed_scale() -> GradingScale:
    """The seed's four Ofsted grades: the scale of versions published before scales were model data."""
    return scale_from_data(json.loads(Path(SEED_SCALE_PATH).read_text()))


def scale_of_version(version: ProcessVersion) -> GradingScale:
    """The scale a case file audit version grades on."""
    data = (built_model_for(version).data or {}).get(SCALE_FILE.rsplit(".", 1)[0])
    return scale_from_data(data) if data else seed_scale()


def current_scale(session: Session) -> GradingScale:
    """The scale of the newest published case file audit: new audits grade on it, and reports
    compare on it."""
    version = session.scalar(select(ProcessVersion).where(
        ProcessVersion.process_key == PROCESS_KEY, ProcessVersion.status == "published")
        .order_by(ProcessVersion.version.desc()).limit(1))
    return scale_of_version(version) if version is not None else seed_scale()


def scales_in_use(session: Session) -> dict[str, GradingScale]:
    """Every scale any case file audit version has carried, by signature, newest version first."""
    hashes = session.execute(select(ProcessVersion.id, ProcessVersion.content_hash).where(
        ProcessVersion.process_key == PROCESS_KEY).order_by(ProcessVersion.version.desc())).all()
    found = {}
    for version_id, digest in hashes:
        scale = _SCALE_BY_HASH.get(digest)
        if scale is None:
            scale = _SCALE_BY_HASH[digest] = scale_of_version(session.get(ProcessVersion, version_id))
        found.setdefault(scale.signature, scale)
    found.setdefault(seed_scale().signature, seed_scale())
    return found


_SCALE_BY_HASH: dict[str, GradingScale] = {}  # a version never changes: its scale is kept by content hash


def scale_for_audit(session: Session, audit) -> GradingScale:
    """The scale `audit` was graded on (its version's), the current one if not recorded."""
    return scales_in_use(session).get(audit.grading_scale) or current_scale(session)


def grade_label(key: str | None, default: str = "") -> str:
    """The label of a grade key from any scale this process has read (the seed's first), for
    pages and files that name a grade without their audit's scale at hand. Callers that may
    meet a scale not read yet call `scales_in_use` first."""
    if not _LABELS:
        seed_scale()
    return _LABELS.get(key, key) if key else default


_LABELS: dict[str, str] = {}
