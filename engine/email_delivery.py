"""Email for notifications: SMTP settings, the message bodies, and the outbox job.

`engine.notifications.notify` writes an outbox row in the caller's transaction; the
scheduler job below sends it once that transaction has committed. Each run claims
one email at a time under a row lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
write lock on SQLite), so several schedulers never send the same email twice at
once. A failed send is retried with a growing pause, and given up after
MAX_ATTEMPTS. (If the mail server accepts a message and the commit after it fails,
the email goes again next run: delivery is at least once.)

Settings come from the environment:
  QA_SMTP_HOST      the mail server; without it email is off and only in-app notifications are made
  QA_SMTP_PORT      default 587 for starttls, 465 for ssl, 25 for none
  QA_SMTP_TLS       starttls (default), ssl, or none
  QA_SMTP_SENDER    the From address (required once QA_SMTP_HOST is set)
  QA_SMTP_USERNAME, QA_SMTP_PASSWORD   optional login
  QA_BASE_URL       where people reach the app, to make links absolute (default http://127.0.0.1:5000)
"""
import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import clock
from engine.notification_models import OutboxEmail
from engine.runtime import events
from engine.runtime.timers import ScheduledJob

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_COUNCIL_NAME = "Northbridge Council"
MAX_ATTEMPTS = 5
FIRST_RETRY_AFTER = timedelta(minutes=5)
SMTP_TIMEOUT_SECONDS = 30


class SmtpConfigurationError(ValueError):
    """The SMTP settings in the environment cannot work; the message says which one."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    sender: str
    username: str | None = None
    password: str | None = None


def smtp_configured() -> bool:
    """Whether email is switched on (QA_SMTP_HOST is set)."""
    return bool(os.environ.get("QA_SMTP_HOST"))


def smtp_settings() -> SmtpSettings:
    """The SMTP settings from the environment, checked, so a mistake is named in the scheduler's log."""
    env = os.environ
    host = env.get("QA_SMTP_HOST")
    if not host:
        raise SmtpConfigurationError("QA_SMTP_HOST is not set, so email is switched off.")
    security = env.get("QA_SMTP_TLS", "starttls").strip().lower()
    if security not in DEFAULT_PORTS:
        raise SmtpConfigurationError(f"QA_SMTP_TLS must be starttls, ssl or none, not '{security}'.")
    port_text = env.get("QA_SMTP_PORT") or str(DEFAULT_PORTS[security])
    if not port_text.isdigit():
        raise SmtpConfigurationError(f"QA_SMTP_PORT must be a port number, not '{port_text}'.")
    sender = env.get("QA_SMTP_SENDER")
    if not sender:
        raise SmtpConfigurationError("QA_SMTP_SENDER (the From address) is not set.")
    return SmtpSettings(host, int(port_text), security, sender,
                        env.get("QA_SMTP_USERNAME") or None, env.get("QA_SMTP_PASSWORD") or None)


def absolute_link(link: str | None) -> str | None:
    """An app path made into an address people can open from their mail client."""
    if not link or not link.startswith("/"):
        return link
    return os.environ.get("QA_BASE_URL", DEFAULT_BASE_URL).rstrip("/") + link


def email_bodies(subject: str, text: str, link: str | None, html: str | None) -> tuple[str, str]:
    """The plain-text and HTML bodies of a notification email.

    Both carry only what the caller wrote plus the link: callers write case
    references, never a child's details, and the footer tells the reader to sign in."""
    council = os.environ.get("QA_COUNCIL_NAME", DEFAULT_COUNCIL_NAME)
    url = absolute_link(link)
    footer = (f"Sent by the case file audit service of {council}. This email holds no personal details "
              "about children: sign in to see the case.")
    plain = text.rstrip() + (f"\n\nOpen it here: {url}" if url else "") + f"\n\n--\n{footer}\n"
    content = html if html is not None else "".join(
        f"<p>{escape(paragraph).replace(chr(10), '<br>')}</p>\n" for paragraph in text.strip().split("\n\n"))
    button = (f'<p><a href="{escape(url)}" style="color:#1d70b8">Open it in the case file audit service</a></p>\n'
              if url else "")
    rich = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(subject)}</title></head>\n"
            "<body style=\"font-family: Arial, sans-serif; font-size: 16px; color: #0b0c0c\">\n"
            f"<p style=\"color: #505a5f\">{escape(council)}: case file audit</p>\n"
            f"<h1 style=\"font-size: 24px\">{escape(subject)}</h1>\n{content}{button}"
            f"<p style=\"font-size: 14px; color: #505a5f\">{escape(footer)}</p>\n</body></html>\n")
    return plain, rich


def deliver_outbox(session_factory: sessionmaker, limit: int | None = None) -> int:
    """Send the outbox emails that are due, one transaction each; returns how many were sent."""
    if not smtp_configured():
        return 0
    settings = smtp_settings()
    sent = tried = 0
    with _Mailer(settings) as mailer:
        while limit is None or tried < limit:
            with session_factory() as session:
                email = _claim_next(session)
                if email is None:
                    break
                tried += 1
                try:
                    mailer.send(_message(email, settings.sender))
                except (smtplib.SMTPException, OSError) as error:
                    _record_failure(session, email, error)
                else:
                    _record_sent(session, email)
                    sent += 1
                session.commit()
    return sent


def _claim_next(session: Session) -> OutboxEmail | None:
    return session.scalar(
        select(OutboxEmail).where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= clock.now())
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(1).with_for_update(skip_locked=True))


def _message(email: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, email.recipient_address, email.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
    return message


def _record_sent(session: Session, email: OutboxEmail) -> None:
    email.status, email.sent_at, email.attempts = "sent", clock.now(), email.attempts + 1
    if email.notification_id is None:
        # An email to someone outside the council (a feedback link): its body holds a
        # single-use link and its address is a member of the public's, neither kept once sent.
        email.recipient_address, email.text_body, email.html_body = "", "", ""
    events.record(session, "notification.emailed", subject=_subject(email),
                  payload={"email_id": email.id, "attempt": email.attempts})


def _record_failure(session: Session, email: OutboxEmail, error: Exception) -> None:
    email.attempts += 1
    email.last_error = f"{type(error).__name__}: {error}"[:2000]
    if email.attempts >= MAX_ATTEMPTS:
        email.status = "failed"
    else:
        email.next_attempt_at = clock.now() + FIRST_RETRY_AFTER * 2 ** (email.attempts - 1)
    events.record(session, "notification.email_failed", subject=_subject(email),
                  payload={"email_id": email.id, "attempt": email.attempts, "gave_up": email.status == "failed",
                           "error": type(error).__name__})


def _subject(email: OutboxEmail) -> tuple[str, object]:
    """What an email event is about: its notification, or the email itself for one sent outside."""
    return ("notification", email.notification_id) if email.notification_id else ("email", email.id)


class _Mailer:
    """One SMTP connection per run, opened on the first email and reopened after an error."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._close()

    def send(self, message: EmailMessage) -> None:
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.send_message(message)
        except (smtplib.SMTPException, OSError):
            self._close()
            raise

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.security == "ssl":
            connection = smtplib.SMTP_SSL(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS,
                                          context=ssl.create_default_context())
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS)
            if settings.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
        if settings.username:
            connection.login(settings.username, settings.password or "")
        return connection

    def _close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


SCHEDULED_JOBS = [ScheduledJob("deliver_email", 30, deliver_outbox)]
