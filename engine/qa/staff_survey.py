"""The practitioner experience survey: every few months, staff say how work is going.

A round opens by itself at the start of each period (QA_STAFF_SURVEY_MONTHS, default 3;
the scheduler job below is the timer start, and a unique period key means several
schedulers open it once), or early when the principal social worker opens it. Everyone
in a surveyed role is invited through the notification outbox and reminded halfway.

Anonymity is built into the tables (engine/qa/staff_survey_models.py): a response has a
random key, the person's service and role group, and no time and no user; the record
that a person took part says nothing of what they said. Results are shown only for
groups of at least MIN_GROUP responses, so a small team cannot be read person by person.
"""
import json
import os
import uuid
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine.accounts import User, UserRole
from engine.clock import clock
from engine.notifications import notify
from engine.qa.models import Service, Team
from engine.qa.staff_survey_models import SurveyParticipation, SurveyResponse, SurveyRound
from engine.runtime import events
from engine.runtime.forms import validate_answers
from engine.runtime.registry import FORMS_DIR
from engine.runtime.timers import ScheduledJob

MIN_GROUP = 5
ROLE_GROUPS = {"practitioner": "Social workers", "team_manager": "Team managers",
               "reviewing_officer": "Independent reviewing officers"}
RUNS_SURVEY = ("principal_social_worker",)
READS_RESULTS = ("principal_social_worker", "assistant_director", "director", "qa_lead")
SURVEY_LINK = "/survey"


class SurveyError(ValueError):
    """Something about the survey that cannot be done, in words for the person."""


def cadence_months() -> int:
    return int(os.environ.get("QA_STAFF_SURVEY_MONTHS", 3))


def open_days() -> int:
    return int(os.environ.get("QA_STAFF_SURVEY_DAYS", 14))


def period_start(today: date, months: int | None = None) -> date:
    """The first day of the survey period `today` falls in (quarters by default: Jan, Apr, Jul, Oct)."""
    months = months or cadence_months()
    index = today.year * 12 + today.month - 1
    start = index - index % months
    return date(start // 12, start % 12 + 1, 1)


def questions() -> dict:
    """The questions as configured now (forms/staff_survey-*.json); each round keeps its own copy."""
    return {"schema": json.loads((FORMS_DIR / "staff_survey-schema.json").read_text(encoding="utf-8")),
            "ui": json.loads((FORMS_DIR / "staff_survey-uischema.json").read_text(encoding="utf-8"))}


def open_round(session: Session, opened_by: User | None) -> SurveyRound:
    """Open this period's round and invite everyone in a surveyed role."""
    if opened_by is not None and not opened_by.has_role(*RUNS_SURVEY):
        raise PermissionError("Only the principal social worker opens a survey round.")
    today = clock.today()
    start = period_start(today)
    if session.scalar(select(SurveyRound.id).where(SurveyRound.period_start == start)) is not None:
        raise SurveyError("A survey round for this period has already been opened.")
    people = invited_people(session)
    survey = SurveyRound(period_start=start, opened_at=clock.now(), opened_by_id=opened_by.id if opened_by else None,
                         closes_on=today + timedelta(days=open_days()), questions=questions(), invited=len(people))
    with session.begin_nested():
        session.add(survey)
        session.flush()
    for person in people:
        notify(session, person.id, "survey_invitation", "How is work going? The practitioner survey is open",
               f"Tell us how work is going: wellbeing, caseload, supervision and learning. It takes five minutes "
               f"and your answers are anonymous. The survey closes on {survey.closes_on:%-d %B %Y}.",
               link=SURVEY_LINK)
    events.record(session, "staff_survey.opened", actor_id=survey.opened_by_id, subject=("staff_survey", survey.id),
                  payload={"period_start": start.isoformat(), "closes_on": survey.closes_on.isoformat(),
                           "invited": survey.invited})
    return survey


def invited_people(session: Session) -> list[User]:
    return list(session.scalars(select(User).join(UserRole).where(User.active.is_(True),
                                                                   UserRole.role.in_(ROLE_GROUPS))
                                .distinct().order_by(User.id)))


def open_round_for(session: Session, user: User) -> SurveyRound | None:
    """The round `user` may answer now, if any."""
    if not user.has_role(*ROLE_GROUPS):
        return None
    return session.scalar(select(SurveyRound).where(SurveyRound.closes_on >= clock.today())
                          .order_by(SurveyRound.id.desc()).limit(1))


def has_answered(session: Session, survey: SurveyRound, user: User) -> bool:
    return session.get(SurveyParticipation, (survey.id, user.id)) is not None


def answer(session: Session, survey: SurveyRound, user: User, answers: dict) -> None:
    """Keep one anonymous set of answers for `user`; a second is refused and counted once.

    Raises SurveyError, or ValueError with per-field errors as `args[0]`."""
    current = open_round_for(session, user)
    if current is None or current.id != survey.id:
        raise SurveyError("This survey round is closed, or not one you were invited to.")
    errors = validate_answers(survey.questions["schema"], answers)
    if errors:
        raise ValueError(errors)
    try:
        with session.begin_nested():
            session.add(SurveyParticipation(round_id=survey.id, user_id=user.id))
            session.flush()
    except IntegrityError:
        raise SurveyError("You have already answered this round: each person's answers count once.")
    team = session.get(Team, user.team_id) if user.team_id else None
    session.add(SurveyResponse(id=uuid.uuid4().hex, round_id=survey.id, service_id=team.service_id if team else None,
                               role_group=next(role for role in ROLE_GROUPS if user.has_role(role)), answers=answers))
    events.record(session, "staff_survey.answered", actor_id=user.id, subject=("staff_survey", survey.id))


def read_results(session: Session, survey: SurveyRound, reader: User) -> dict:
    """The round's results, with the read written to the trail like every other read."""
    events.record(session, "staff_survey.results_viewed", actor_id=reader.id, subject=("staff_survey", survey.id))
    return results(session, survey)


def results(session: Session, survey: SurveyRound) -> dict:
    """Counts per question overall, by service and by role group; any group under MIN_GROUP
    responses is withheld (shown as 'fewer than 5'), and free text only with the whole round."""
    rows = session.execute(select(SurveyResponse.service_id, SurveyResponse.role_group, SurveyResponse.answers)
                           .where(SurveyResponse.round_id == survey.id)).all()
    schema = survey.questions["schema"]
    services = dict(session.execute(select(Service.id, Service.name)).all())
    by_service: dict[str, list] = {}
    by_role: dict[str, list] = {}
    for service_id, role_group, answers in rows:
        by_service.setdefault(services.get(service_id, "No service"), []).append(answers)
        by_role.setdefault(ROLE_GROUPS.get(role_group, role_group), []).append(answers)
    everyone = [answers for _, _, answers in rows]
    free_text = sorted(a["what_would_help"] for a in everyone if a.get("what_would_help")) \
        if len(everyone) >= MIN_GROUP else []
    return {"responses": len(everyone), "invited": survey.invited,
            "rate": round(100 * len(everyone) / survey.invited) if survey.invited else None,
            "overall": _group("Everyone", everyone, schema),
            "by_service": [_group(name, group, schema) for name, group in sorted(by_service.items())],
            "by_role": [_group(name, group, schema) for name, group in sorted(by_role.items())],
            "free_text": free_text}


def staffing_pressure(session: Session) -> list[dict]:
    """Per round: wellbeing, caseload and supervision signals for leaders, withheld under MIN_GROUP."""
    trend = []
    for survey in session.scalars(select(SurveyRound).order_by(SurveyRound.period_start)):
        answers = session.scalars(select(SurveyResponse.answers).where(SurveyResponse.round_id == survey.id)).all()
        row = {"round": survey, "responses": len(answers), "withheld": len(answers) < MIN_GROUP}
        if not row["withheld"]:
            row.update({
                "wellbeing_average": round(sum(int(a["wellbeing"]) for a in answers) / len(answers), 1),
                "caseload_unmanageable": round(100 * sum(a["caseload"] == "no" for a in answers) / len(answers)),
                "supervision_irregular": round(100 * sum(a["supervision_regular"] != "yes" for a in answers)
                                               / len(answers))})
        trend.append(row)
    return trend


def rounds(session: Session) -> list[SurveyRound]:
    return list(session.scalars(select(SurveyRound).order_by(SurveyRound.period_start.desc())))


def response_count(session: Session, survey: SurveyRound) -> int:
    return session.scalar(select(func.count()).select_from(SurveyResponse).where(SurveyResponse.round_id == survey.id))


def _group(name: str, answers: list[dict], schema: dict) -> dict:
    if len(answers) < MIN_GROUP:
        return {"name": name, "withheld": True, "questions": []}
    questions_counted = []
    for key, node in schema["properties"].items():
        if "enum" not in node:
            continue
        counts = Counter(a.get(key) for a in answers)
        labels = dict(zip(node["enum"], node.get("enumNames", node["enum"])))
        questions_counted.append({"question": node.get("title", key), "answers": [
            (labels[value], counts.get(value, 0), round(100 * counts.get(value, 0) / len(answers)))
            for value in node["enum"]]})
    return {"name": name, "withheld": False, "responses": len(answers), "questions": questions_counted}


def run_scheduled(session_factory: sessionmaker) -> dict | None:
    """The timer start: open the period's round when it is due, and remind halfway through."""
    done = {}
    with session_factory() as session:
        if session.scalar(select(SurveyRound.id).where(SurveyRound.period_start == period_start(clock.today()))) is None:
            try:
                open_round(session, None)
                session.commit()
                done["opened"] = 1
            except (SurveyError, IntegrityError):  # another scheduler opened it first
                session.rollback()
        done["reminded"] = _remind_halfway(session)
        session.commit()
    return done if any(done.values()) else None


def _remind_halfway(session: Session) -> int:
    today = clock.today()
    reminded = 0
    for survey in session.scalars(select(SurveyRound).where(SurveyRound.closes_on >= today,
                                                            SurveyRound.reminded_at.is_(None))):
        halfway = survey.opened_at.date() + (survey.closes_on - survey.opened_at.date()) / 2
        if today < halfway:
            continue
        answered = set(session.scalars(select(SurveyParticipation.user_id)
                                       .where(SurveyParticipation.round_id == survey.id)))
        for person in invited_people(session):
            if person.id not in answered:
                notify(session, person.id, "survey_reminder", "Reminder: the practitioner survey closes soon",
                       f"There is still time to say how work is going. The survey closes on "
                       f"{survey.closes_on:%-d %B %Y} and your answers are anonymous.", link=SURVEY_LINK)
                reminded += 1
        survey.reminded_at = clock.now()
    return reminded


SCHEDULED_JOBS = [ScheduledJob("staff_survey", 3600, run_scheduled)]
