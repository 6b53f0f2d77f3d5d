"""A case's profile: the facts about the child's circumstances an audit tool opens with.

Legal status, age band, placement moves and missing episodes in the last 12 months,
disability, first language, referrals and section 47 enquiries in the last 12 months.
They come from the case management system's register export (optional columns, see
engine/qa/case_register.py), are kept on the case, shown with the audit and passed into
the case file audit's process data beside the cohort, so forms can ask the cohort's own
questions. Never a name or date of birth: a register with such a column is refused.
"""
from dataclasses import dataclass

from engine.qa.models import Case

LEGAL_STATUSES = {
    "none": "No order or plan",
    "section_17": "Child in need (section 17)",
    "child_protection_plan": "Child protection plan",
    "section_20": "Accommodated by agreement (section 20)",
    "interim_care_order": "Interim care order",
    "care_order": "Care order (section 31)",
    "placement_order": "Placement order",
    "remand": "Remanded to local authority accommodation",
    "eligible": "Care leaver: eligible",
    "relevant": "Care leaver: relevant",
    "former_relevant": "Care leaver: former relevant",
}
YES_NO = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}
LARGEST_COUNT = 366   # a count in 12 months above this is a mistake in the export


@dataclass(frozen=True)
class ProfileField:
    """One profile column: its name in the file and on the case, its label and kind."""
    key: str
    label: str
    kind: str   # choice, count, yes_no, text


PROFILE_FIELDS = (
    ProfileField("legal_status", "Legal status", "choice"),
    ProfileField("placement_moves_12_months", "Placement moves in the last 12 months", "count"),
    ProfileField("missing_episodes_12_months", "Missing episodes in the last 12 months", "count"),
    ProfileField("disability", "Disability", "yes_no"),
    ProfileField("first_language", "First language", "text"),
    ProfileField("referrals_12_months", "Referrals in the last 12 months", "count"),
    ProfileField("s47_enquiries_12_months", "Section 47 enquiries in the last 12 months", "count"),
)
PROFILE_COLUMNS = tuple(field.key for field in PROFILE_FIELDS)
# What other exports call these columns (matched without case, spaces or underscores).
PROFILE_ALIASES = {
    "placement moves": "placement_moves_12_months", "missing episodes": "missing_episodes_12_months",
    "disabled": "disability", "language": "first_language", "referrals": "referrals_12_months",
    "s47 enquiries": "s47_enquiries_12_months", "section 47 enquiries": "s47_enquiries_12_months",
    "section 47 enquiries 12 months": "s47_enquiries_12_months",
}
STATUS_BY_TEXT = {label.lower(): key for key, label in LEGAL_STATUSES.items()} | {key: key for key in LEGAL_STATUSES}
# Header words that mean a child's name or date of birth, never accepted (data minimisation).
_IDENTIFYING_WORDS = ("name", "birth", "dob", "forename", "surname")
_ALLOWED_WITH_NAME = {"teamname", "username", "workerusername"}


def identifying_column(header: str) -> bool:
    """True when a column header looks like a name or a date of birth (`Child name`, `DOB`, `Surname`)."""
    plain = "".join(character for character in header.lower() if character.isalnum())
    return plain not in _ALLOWED_WITH_NAME and any(word in plain for word in _IDENTIFYING_WORDS)


def parse_profile(row: dict, present: set[str]) -> tuple[dict, str | None]:
    """The profile values of one register row, for the columns the file has (`present`).

    A blank cell means not recorded (None). Returns the values and the first problem."""
    values = {}
    for field in PROFILE_FIELDS:
        if field.key not in present:
            continue
        raw = row.get(field.key)
        text = "" if raw is None else str(raw).strip()
        if text == "":
            values[field.key] = None
            continue
        value, problem = _parse_value(field, raw, text)
        if problem:
            return values, problem
        values[field.key] = value
    return values, None


def profile_items(case: Case) -> list[dict]:
    """The case's age band and profile, each with its key, label, stored value and the value
    as people read it ('Not recorded' where blank), for the audit page, the API and the PDF."""
    items = [{"key": "age_band", "label": "Age band", "value": case.age_band or None,
              "value_label": case.age_band or "Not recorded"}]
    for field in PROFILE_FIELDS:
        value = getattr(case, field.key)
        items.append({"key": field.key, "label": field.label, "value": value,
                      "value_label": display_value(field, value)})
    return items


def profile_rows(case: Case) -> list[tuple[str, str]]:
    """The profile as (label, human text) pairs."""
    return [(item["label"], item["value_label"]) for item in profile_items(case)]


def profile_data(case: Case) -> dict:
    """The profile as process data: plain values a form condition or a script can test."""
    return {"age_band": case.age_band or None, **{field.key: getattr(case, field.key) for field in PROFILE_FIELDS}}


def display_value(field: ProfileField, value) -> str:
    if value is None:
        return "Not recorded"
    if field.kind == "choice":
        return LEGAL_STATUSES.get(value, value)
    if field.kind == "yes_no":
        return "Yes" if value else "No"
    return str(value)


def _parse_value(field: ProfileField, raw, text: str):
    if field.kind == "choice":
        status = STATUS_BY_TEXT.get(text.lower())
        if status is None:
            return None, f"'{text}' is not a known legal status ({', '.join(LEGAL_STATUSES.values())})"
        return status, None
    if field.kind == "count":
        number = raw if isinstance(raw, int) and not isinstance(raw, bool) else \
            int(raw) if isinstance(raw, float) and raw.is_integer() else \
            int(text) if text.isdigit() else None
        if number is None or not 0 <= number <= LARGEST_COUNT:
            return None, f"{field.label.lower()}: '{text}' is not a whole number from 0 to {LARGEST_COUNT}"
        return number, None
    if field.kind == "yes_no":
        answer = raw if isinstance(raw, bool) else YES_NO.get(text.lower())
        if answer is None:
            return None, f"{field.label.lower()}: '{text}' is not yes or no"
        return answer, None
    if len(text) > 40 or not all(character.isalpha() or character in " -'()" for character in text):
        return None, f"{field.label.lower()}: '{text[:40]}' is not a language name (letters only, 40 at most)"
    return text, None
