"""The participation team's record of children's and young people's views gathered outside
audits, and the report it takes to the Corporate Parenting Board.

The board report puts three voices side by side for a period: what groups and forums said
(by theme, with "you said, we did"), what children and young people answered on their own
feedback links during audits, and how often auditors obtained the child's feedback.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import LOCAL_ZONE, clock
from engine.spreadsheet_rows import parse_date
from engine.qa.feedback_requests import AUDIENCES, response_summary
from engine.qa.models import Audit, Feedback
from engine.qa.participation_models import ParticipationRecord
from engine.runtime import events
from engine.whole_numbers import whole_number

FORUMS = {
    "children_in_care_council": "Children in care council",
    "care_leavers_forum": "Care leavers' forum",
    "voice_group": "Voice group for younger children",
    "disabled_children_group": "Disabled children and young people's group",
    "survey": "Survey or consultation",
    "one_to_one": "One-to-one conversations (advocacy, return interviews)",
    "other": "Other",
}
COHORTS = {"children_in_care": "Children in care", "care_leavers": "Care leavers", "cin_cp": "Children in need or on a plan",
           "disabled": "Disabled children", "mixed": "Mixed"}
THEMES = {
    "being_heard": "Being heard and taking part in decisions",
    "home_and_placement": "Home and where I live",
    "family_and_friends": "Family time and friends",
    "worker_changes": "Changes of worker",
    "education": "School, college and work",
    "health_and_wellbeing": "Health and wellbeing",
    "independence": "Getting ready to live independently",
    "money_and_housing": "Money and housing",
    "activities": "Things to do and opportunities",
    "other": "Other",
}
CHILD_AUDIENCES = ("under_8", "age_8_to_12", "age_13_plus", "care_leaver")
RECORDERS = ("participation_officer", "qa_lead", "qa_officer")
READERS = RECORDERS + ("principal_social_worker", "assistant_director", "director")


class ParticipationError(ValueError):
    """A record that cannot be kept as given; `field` names the answer to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BoardPeriod:
    start: date
    end: date


def can_read(user: User) -> bool:
    return user.has_role(*READERS)


def can_record(user: User) -> bool:
    return user.has_role(*RECORDERS)


def record_views(session: Session, user: User, answers: dict) -> ParticipationRecord:
    """Keep what a group or forum said, checked field by field."""
    if not can_record(user):
        raise PermissionError("Only the participation and QA teams record participation.")
    text = {key: str(value or "").strip() for key, value in answers.items()}
    gathered_on = parse_date(answers.get("gathered_on"))
    if gathered_on is None:
        raise ParticipationError("gathered_on", "Enter the date, like 2026-11-03 or 03/11/2026.")
    if gathered_on > clock.today():
        raise ParticipationError("gathered_on", "The date cannot be in the future.")
    for field_name, choices, label in (("forum", FORUMS, "where the views were gathered"),
                                       ("cohort", COHORTS, "who took part"), ("theme", THEMES, "the theme")):
        if text.get(field_name) not in choices:
            raise ParticipationError(field_name, f"Select {label}.")
    participants = whole_number(text.get("participants"), minimum=1, maximum=10000)
    if participants is None:
        raise ParticipationError("participants", "Enter how many children and young people took part, as a number.")
    if not text.get("what_they_said"):
        raise ParticipationError("what_they_said", "Enter what they told you, in their words where you can (no names).")
    record = ParticipationRecord(gathered_on=gathered_on, forum=text["forum"], cohort=text["cohort"],
                                 participants=participants, theme=text["theme"],
                                 what_they_said=text["what_they_said"][:4000],
                                 what_we_did=text.get("what_we_did", "")[:4000], recorded_by_id=user.id,
                                 recorded_at=clock.now())
    session.add(record)
    session.flush()
    events.record(session, "participation.recorded", actor_id=user.id, subject=("participation", record.id),
                  payload={"forum": record.forum, "theme": record.theme, "participants": record.participants})
    return record


def records(session: Session, period: BoardPeriod) -> list[ParticipationRecord]:
    return list(session.scalars(select(ParticipationRecord).where(_within(period))
                                .order_by(ParticipationRecord.gathered_on.desc())))


def board_report(session: Session, period: BoardPeriod, reader: User) -> dict:
    """The Corporate Parenting Board report's content for `period`; the read is recorded."""
    events.record(session, "participation.board_report_viewed", actor_id=reader.id,
                  payload={"start": period.start.isoformat(), "end": period.end.isoformat()})
    kept = records(session, period)
    themes: dict[str, dict] = {}
    for record in sorted(kept, key=lambda r: (r.gathered_on, r.id)):
        row = themes.setdefault(record.theme, {"label": THEMES[record.theme], "sessions": 0, "participants": 0,
                                               "voices": []})
        row["sessions"] += 1
        row["participants"] += record.participants
        row["voices"].append({"on": record.gathered_on, "forum": FORUMS[record.forum], "said": record.what_they_said,
                              "did": record.what_we_did})
    audits_in_period = select(Audit.id).where(
        Audit.allocated_at >= datetime.combine(period.start, time(), LOCAL_ZONE),
        Audit.allocated_at < datetime.combine(period.end + timedelta(days=1), time(), LOCAL_ZONE))
    links = response_summary(session, audits_in_period)
    return {
        "period": period,
        "sessions": len(kept), "participants": sum(r.participants for r in kept),
        "forums": _count_by(kept, "forum", FORUMS), "themes": sorted(themes.values(), key=lambda t: -t["participants"]),
        "child_links": {"audiences": [row for row in links["audiences"] if row["audience"] in _child_labels()],
                        "questions": [row for row in links["questions"] if row["audience"] in _child_labels()]},
        "child_feedback_in_audits": _audit_child_feedback(session, audits_in_period),
    }


def _audit_child_feedback(session: Session, audit_ids) -> dict:
    counts = dict(session.execute(select(Feedback.status, func.count()).where(
        Feedback.source == "child", Feedback.audit_id.in_(audit_ids)).group_by(Feedback.status)).all())
    sought = sum(counts.get(status, 0) for status in ("obtained", "declined", "unable"))
    return {"obtained": counts.get("obtained", 0), "sought": sought,
            "rate": round(100 * counts.get("obtained", 0) / sought) if sought else None}


def _child_labels() -> set[str]:
    return {AUDIENCES[key] for key in CHILD_AUDIENCES}


def _count_by(kept: list[ParticipationRecord], attribute: str, labels: dict) -> list[dict]:
    totals: dict[str, dict] = {}
    for record in kept:
        row = totals.setdefault(getattr(record, attribute), {"label": labels[getattr(record, attribute)],
                                                             "sessions": 0, "participants": 0})
        row["sessions"] += 1
        row["participants"] += record.participants
    return sorted(totals.values(), key=lambda row: -row["participants"])


def _within(period: BoardPeriod):
    return and_(ParticipationRecord.gathered_on >= period.start, ParticipationRecord.gathered_on <= period.end)
