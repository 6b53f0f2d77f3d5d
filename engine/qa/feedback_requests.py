"""Feedback asked straight from a child, young person, parent, carer or professional.

The auditor sends a single-use link from an audit (and the observer from a practice
observation, engine/qa/observation_feedback.py): by email, or as a printed letter
carrying a code to type in. The link opens a public page with no sign-in and no case
details; it works for one response, expires (QA_FEEDBACK_LINK_DAYS, default 28) and can
be withdrawn. The token is 128 random bits shown once and stored only as a SHA-256
digest. Answers are validated against the audience's form (forms/voice_<audience>-*)
and attached to the audit or observation; nothing typed there can be read back through the link.
"""
import base64
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from markupsafe import escape
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.accounts import User
from engine.clock import clock
from engine.database import as_utc
from engine.email_delivery import DEFAULT_COUNCIL_NAME, absolute_link
from engine.notification_models import OutboxEmail
from engine.qa.feedback_request_models import FeedbackRequest, FeedbackResponse
from engine.qa.models import Audit
from engine.runtime import events
from engine.runtime.forms import validate_answers
from engine.runtime.registry import FORMS_DIR

AUDIENCES = {
    "under_8": "Child under 8 (with a trusted adult)",
    "age_8_to_12": "Child aged 8 to 12",
    "age_13_plus": "Young person aged 13 or over",
    "care_leaver": "Care leaver",
    "parent_carer": "Parent or carer",
    "professional": "Professional working with the family",
}
CHANNELS = {"email": "By email", "letter": "By printed letter with a code"}
REQUESTER_ROLES = ("qa_lead", "qa_officer")
DEFAULT_LINK_DAYS = 28
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE_CHARACTERS = re.compile(r"[^A-Z2-7]")


class FeedbackRequestError(ValueError):
    """A request that cannot be made as asked; `field` names the form field to mark."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class FeedbackLinkClosed(LookupError):
    """The link cannot be answered: `reason` is unknown, expired, used or withdrawn."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedRequest:
    """A request just made, with its code: the only moment the code exists in the clear."""
    request: FeedbackRequest
    code: str

    @property
    def link(self) -> str:
        return absolute_link(f"/feedback/{self.code}")

    @property
    def spaced_code(self) -> str:
        """The code in groups of four, as printed on a letter for typing in."""
        return " ".join(self.code[index:index + 4] for index in range(0, len(self.code), 4))


def link_lifetime() -> timedelta:
    return timedelta(days=int(os.environ.get("QA_FEEDBACK_LINK_DAYS", DEFAULT_LINK_DAYS)))


def can_request(user: User, audit: Audit) -> bool:
    """The audit's own auditor, or the QA team, may ask for feedback on it."""
    return audit.auditor_id == user.id or user.has_role(*REQUESTER_ROLES)


def create_request(session: Session, audit: Audit, user: User, audience: str, channel: str,
                   email: str | None = None) -> IssuedRequest:
    """Make a single-use link for `audience`; by email it is queued in the outbox at once."""
    if not can_request(user, audit):
        raise PermissionError("Only the audit's auditor or the QA team can ask for feedback on it.")
    if audit.status == "closed":
        raise FeedbackRequestError("audience", "This audit is closed: feedback can no longer be attached to it.")
    return issue_link(session, user, audience, channel, email, subject_kind="audit", audit_id=audit.id,
                      instance_id=audit.instance_id)


def issue_link(session: Session, user: User, audience: str, channel: str, email: str | None, *,
               subject_kind: str, audit_id: int | None, instance_id: int | None) -> IssuedRequest:
    """Make the link once the caller has checked who may ask and about what: the checks of
    the form itself, the code, the outbox email and the trail are the same for every subject."""
    if audience not in AUDIENCES:
        raise FeedbackRequestError("audience", "Select who the feedback is from.")
    if channel not in CHANNELS:
        raise FeedbackRequestError("channel", "Select how to send the request.")
    email = (email or "").strip()
    if channel == "email" and not _EMAIL.match(email):
        raise FeedbackRequestError("email", "Enter an email address in the correct format, like name@example.com.")
    code = base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=")
    now = clock.now()
    request = FeedbackRequest(subject_kind=subject_kind, audit_id=audit_id, instance_id=instance_id, audience=audience, channel=channel, token_digest=_digest(code),
                              requested_by_id=user.id, created_at=now, expires_at=now + link_lifetime())
    session.add(request)
    session.flush()
    issued = IssuedRequest(request, code)
    if channel == "email":
        _queue_email(session, email, issued, audience)
    events.record(session, "feedback_request.created", actor_id=user.id, instance_id=instance_id,
                  subject=event_subject(request),
                  payload={"request_id": request.id, "audience": audience, "channel": channel,
                           "expires_at": request.expires_at.isoformat()})
    return issued


def withdraw(session: Session, audit: Audit, request_id: int, user: User) -> FeedbackRequest:
    """Stop a link working (sent to the wrong person, or no longer wanted)."""
    request = session.get(FeedbackRequest, request_id)
    if request is None or request.audit_id != audit.id:
        raise LookupError("No such feedback request on this audit.")
    if not can_request(user, audit):
        raise PermissionError("Only the audit's auditor or the QA team can withdraw its feedback requests.")
    return withdraw_link(session, request, user)


def withdraw_link(session: Session, request: FeedbackRequest, user: User) -> FeedbackRequest:
    """Withdraw a request the caller has found on its subject and checked `user` may withdraw."""
    if request.answered_at is not None:
        raise FeedbackRequestError("request", "This request has already been answered, so it cannot be withdrawn.")
    if request.withdrawn_at is None:
        request.withdrawn_at, request.withdrawn_by_id = clock.now(), user.id
        events.record(session, "feedback_request.withdrawn", actor_id=user.id, instance_id=request.instance_id,
                      subject=event_subject(request), payload={"request_id": request.id})
    return request


def event_subject(request: FeedbackRequest) -> tuple[str, int]:
    """What a request's events are about: its audit, or the observation's process instance."""
    return ("audit", request.audit_id) if request.subject_kind == "audit" else ("process_instance", request.instance_id)


def open_request(session: Session, code: str) -> FeedbackRequest:
    """The request a code opens, or FeedbackLinkClosed saying why it cannot be answered."""
    request = session.scalar(select(FeedbackRequest).where(FeedbackRequest.token_digest == _digest(normalise(code))))
    if request is None:
        raise FeedbackLinkClosed("unknown")
    if request.answered_at is not None:
        raise FeedbackLinkClosed("used")
    if request.withdrawn_at is not None:
        raise FeedbackLinkClosed("withdrawn")
    if as_utc(request.expires_at) <= clock.now():
        raise FeedbackLinkClosed("expired")
    return request


def submit_response(session: Session, code: str, answers: dict) -> FeedbackResponse:
    """Keep a person's answers, once: a second submission of the same link is refused.

    Raises FeedbackLinkClosed, or ValueError with the per-field errors as `args[0]`."""
    request = open_request(session, code)
    schema = form_schema(request.audience)
    errors = validate_answers(schema, answers)
    if errors:
        raise ValueError(errors)
    now = clock.now()
    # The conditional update is the single-use guarantee when two submissions race.
    claimed = session.execute(update(FeedbackRequest)
                              .where(FeedbackRequest.id == request.id, FeedbackRequest.answered_at.is_(None))
                              .values(answered_at=now)).rowcount
    if claimed != 1:
        raise FeedbackLinkClosed("used")
    response = FeedbackResponse(request_id=request.id, audit_id=request.audit_id, audience=request.audience,
                                form_digest=form_digest(request.audience), answers=answers,
                                consent=bool(answers.get("consent")), submitted_at=now)
    session.add(response)
    session.flush()
    events.record(session, "feedback_response.received", instance_id=request.instance_id,
                  subject=event_subject(request),
                  payload={"request_id": request.id, "response_id": response.id, "audience": request.audience,
                           "answers_sha256": hashlib.sha256(events.canonical_json(answers).encode()).hexdigest()})
    return response


def requests_for_audit(session: Session, audit_id: int) -> list[dict]:
    """Every request made for an audit, with its state and answers, for the audit page and moderation."""
    return request_rows(session, FeedbackRequest.audit_id == audit_id)


def request_rows(session: Session, which) -> list[dict]:
    """The requests `which` (a condition on FeedbackRequest) selects, oldest first, each with its
    state and the answers in the words the person saw."""
    responses = {row.request_id: row for row in session.scalars(
        select(FeedbackResponse).join(FeedbackRequest, FeedbackRequest.id == FeedbackResponse.request_id).where(which))}
    now = clock.now()
    rows = []
    for request in session.scalars(select(FeedbackRequest).where(which).order_by(FeedbackRequest.id)):
        response = responses.get(request.id)
        rows.append({"id": request.id, "audience": AUDIENCES.get(request.audience, request.audience),
                     "channel": request.channel, "sent_on": request.created_at, "expires_at": request.expires_at,
                     "state": _state(request, now), "answers": answer_lines(request.audience, response.answers)
                     if response else [], "answered_at": request.answered_at})
    return rows


def answer_lines(audience: str, answers: dict) -> list[tuple[str, str]]:
    """(question, answer) pairs in the form's order with the words the person saw, never raw values."""
    schema, ui = form_schema(audience), form_ui(audience)
    lines = []
    for key in ui.get("ui:order", list(schema["properties"])):
        if key == "consent" or key not in answers:
            continue
        node = schema["properties"][key]
        value = answers[key]
        if "enum" in node:
            value = dict(zip(node["enum"], node.get("enumNames", node["enum"]))).get(value, value)
        lines.append((node.get("title", key), str(value)))
    return lines


def response_summary(session: Session, audit_ids) -> dict:
    """Requests sent and answered per audience, and how each choice question was answered,
    over the audits selected by `audit_ids` (a subquery of audit ids)."""
    return summarise_responses(session, FeedbackRequest.audit_id.in_(audit_ids))


def summarise_responses(session: Session, which, with_words: bool = False) -> dict:
    """Requests sent and answered per audience, and how each choice question was answered, over
    the requests `which` (a condition on FeedbackRequest) selects; `with_words` adds what people
    wrote in their own words, by question, for readers who may open every request's subject."""
    sent = dict(session.execute(select(FeedbackRequest.audience, func.count()).where(which)
                                .group_by(FeedbackRequest.audience)).all())
    answered: dict[str, int] = {}
    choices: dict[tuple[str, str], dict[str, int]] = {}
    words: dict[tuple[str, str], list[str]] = {}
    schemas = {audience: form_schema(audience) for audience in AUDIENCES}  # parsed once, not per response
    for audience, answers in session.execute(select(FeedbackResponse.audience, FeedbackResponse.answers)
                                             .join(FeedbackRequest, FeedbackRequest.id == FeedbackResponse.request_id)
                                             .where(which).order_by(FeedbackResponse.id)):
        answered[audience] = answered.get(audience, 0) + 1
        schema = schemas[audience]
        for key, value in answers.items():
            node = schema["properties"].get(key, {})
            if "enum" in node:
                label = dict(zip(node["enum"], node.get("enumNames", node["enum"]))).get(value, value)
                counts = choices.setdefault((audience, node.get("title", key)), {})
                counts[label] = counts.get(label, 0) + 1
            elif with_words and isinstance(value, str) and value.strip():
                words.setdefault((audience, node.get("title", key)), []).append(value)
    audiences = [{"audience": label, "sent": sent.get(key, 0), "answered": answered.get(key, 0),
                  "rate": round(100 * answered.get(key, 0) / sent[key]) if sent.get(key) else None}
                 for key, label in AUDIENCES.items()]
    questions = [{"audience": AUDIENCES[audience], "question": question, "answers": sorted(counts.items())}
                 for (audience, question), counts in choices.items()]
    said = [{"audience": AUDIENCES[audience], "question": question, "words": texts}
            for (audience, question), texts in words.items()]
    return {"audiences": audiences, "questions": questions, "words": said,
            "answered": sum(answered.values()), "sent": sum(sent.values())}


def anonymise_responses(session: Session, which, marker: str) -> None:
    """Replace what people wrote in their own words (free-text answers) to the requests `which`
    (a condition on FeedbackRequest) selects with `marker`, for retention; the choices they
    picked stay, so reports keep counting them."""
    for response in session.scalars(select(FeedbackResponse).join(
            FeedbackRequest, FeedbackRequest.id == FeedbackResponse.request_id).where(which)):
        properties = form_schema(response.audience)["properties"]
        response.answers = {key: marker if isinstance(value, str) and value and "enum" not in properties.get(key, {})
                            else value for key, value in response.answers.items()}


@lru_cache(maxsize=None)
def _form_text(audience: str, kind: str) -> str:
    if audience not in AUDIENCES:
        raise KeyError(audience)
    return (FORMS_DIR / f"voice_{audience}-{kind}.json").read_text(encoding="utf-8")


def form_schema(audience: str) -> dict:
    """The JSON Schema of the audience's feedback form (a fresh copy each call)."""
    return json.loads(_form_text(audience, "schema"))


def form_ui(audience: str) -> dict:
    return json.loads(_form_text(audience, "uischema"))


def form_digest(audience: str) -> str:
    """Which wording was answered: responses keep it so a reworded form is told apart."""
    return hashlib.sha256(_form_text(audience, "schema").encode()).hexdigest()


def normalise(code: str) -> str:
    """A code as typed from a letter: any case, spaces and dashes allowed."""
    return _CODE_CHARACTERS.sub("", (code or "").upper())


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _state(request: FeedbackRequest, now: datetime) -> str:
    if request.answered_at is not None:
        return "answered"
    if request.withdrawn_at is not None:
        return "withdrawn"
    return "expired" if as_utc(request.expires_at) <= now else "waiting"


def _queue_email(session: Session, address: str, issued: IssuedRequest, audience: str) -> None:
    council = os.environ.get("QA_COUNCIL_NAME", DEFAULT_COUNCIL_NAME)
    subject = f"{council} would like to hear from you"
    days = link_lifetime().days
    text = (f"{council} children's services would like to know what you think of the help you have had.\n\n"
            f"Answering takes about five minutes. The link works once and for {days} days:\n{issued.link}\n\n"
            f"If you cannot open the link, go to {absolute_link('/feedback')} and type this code:\n"
            f"{issued.spaced_code}\n\nYou do not have to answer. If this email reached you by mistake, "
            "please delete it.")
    html = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(subject)}</title></head><body>\n"
            + "".join(f"<p>{escape(paragraph).replace(chr(10), '<br>')}</p>\n" for paragraph in text.split("\n\n"))
            + "</body></html>\n")
    now = clock.now()
    session.add(OutboxEmail(notification_id=None, recipient_address=address, subject=subject, text_body=text,
                            html_body=html, created_at=now, next_attempt_at=now))
