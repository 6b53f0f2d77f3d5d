"""Notifications in the app and by email, sent to a real SMTP server on this machine.

The server is aiosmtpd, started by the test on a free loopback port; the tests read
back what arrived (headers, plain and HTML parts, attachments) rather than trusting
that smtplib was called.
"""
import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.accounts import User
from engine.database import make_session_factory
from engine.email_delivery import MAX_ATTEMPTS, SmtpConfigurationError, deliver_outbox, smtp_settings
from engine.notification_models import Notification, OutboxEmail
from engine.notifications import mark_all_read, notify, open_notification, unread_count
from engine.qa.allocation import AllocationRequest, allocate_audit
from engine.qa.models import Case, Team
from engine.runtime.errors import NotAllowed
from engine.runtime.models import Event, HumanTask
from tests.conftest import user_named


class _Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server on loopback, and the environment pointing the app at it."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("QA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("QA_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("QA_SMTP_TLS", "none")
    monkeypatch.setenv("QA_SMTP_SENDER", "case-file-audit@northbridge.example")
    monkeypatch.setenv("QA_BASE_URL", "https://audit.northbridge.example")
    yield inbox
    controller.stop()


def _events(session, kind):
    return session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)).all()


def test_notify_writes_the_in_app_notification_and_records_it_without_the_body(session, monkeypatch):
    monkeypatch.delenv("QA_SMTP_HOST", raising=False)
    worker = user_named(session, "sw.mash1.1")
    note = notify(session, worker.id, "reminder", "Reminder: AUD-2026-00001 is due on 3 December 2026",
                  "Your audit for case CS123456 is due soon.", link="/tasks/7")
    session.commit()
    stored = session.get(Notification, note.id)
    assert (stored.recipient_id, stored.kind, stored.link, stored.read_at) == (worker.id, "reminder", "/tasks/7", None)
    assert session.scalar(select(OutboxEmail)) is None  # no SMTP configured: in-app only
    (event,) = _events(session, "notification.sent")
    assert '"kind":"reminder"' in event.payload and f'"recipient_id":{worker.id}' in event.payload
    assert "due soon" not in event.payload  # the body is not copied into the trail


def test_email_arrives_with_plain_and_html_parts_a_link_and_no_personal_data(session, database_url, smtp_server):
    case = session.scalar(select(Case).order_by(Case.id))
    worker = session.get(User, case.worker_id)
    notify(session, worker.id, "overdue", f"Overdue: audit of case {case.reference}",
           f"The audit of case {case.reference} was due on 3 December 2026.\n\nPlease finish it today.",
           link="/tasks/42", attachments=[("tracker.csv", "text/csv", b"ref,status\nA1,overdue\n")])
    session.commit()

    assert deliver_outbox(make_session_factory(database_url)) == 1
    (recipients, message), = smtp_server.messages
    assert recipients == [worker.email]
    assert message["Subject"] == f"Overdue: audit of case {case.reference}"
    assert message["From"] == "case-file-audit@northbridge.example"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (plain, html):
        assert case.reference in body and "https://audit.northbridge.example/tasks/42" in body
        assert "Please finish it today." in body
        # Nothing about the child beyond the reference: not the cohort, age band or team.
        assert case.age_band not in body and case.cohort.replace("_", " ") not in body.lower()
        assert case.team.name not in body
    assert html.lstrip().startswith("<!DOCTYPE html>") and "<p>Please finish it today.</p>" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "tracker.csv" and attachment.get_content() == "ref,status\nA1,overdue\n"

    session.expire_all()
    outbox = session.scalar(select(OutboxEmail))
    assert outbox.status == "sent" and outbox.sent_at is not None and outbox.attempts == 1
    assert len(_events(session, "notification.emailed")) == 1
    session.rollback()  # end the read: SQLite's write lock is taken when a transaction begins
    assert deliver_outbox(make_session_factory(database_url)) == 0  # sent once only


def test_a_rolled_back_transaction_sends_nothing(session, database_url, smtp_server):
    notify(session, user_named(session, "qa.lead").id, "escalation", "Escalation", "Text")
    session.rollback()
    assert deliver_outbox(make_session_factory(database_url)) == 0
    assert smtp_server.messages == []
    assert session.scalar(select(Notification)) is None and not _events(session, "notification.sent")


def test_a_failed_send_is_retried_later_then_given_up(session, database_url, monkeypatch):
    from datetime import timedelta
    from engine.clock import clock
    monkeypatch.setenv("QA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("QA_SMTP_PORT", str(_free_port()))  # nothing listens there
    monkeypatch.setenv("QA_SMTP_TLS", "none")
    monkeypatch.setenv("QA_SMTP_SENDER", "case-file-audit@northbridge.example")
    notify(session, user_named(session, "qa.lead").id, "escalation", "Escalation", "Text")
    session.commit()
    factory = make_session_factory(database_url)
    assert deliver_outbox(factory) == 0
    outbox = session.scalar(select(OutboxEmail))
    session.refresh(outbox)
    assert (outbox.status, outbox.attempts) == ("pending", 1) and "ConnectionRefusedError" in outbox.last_error
    session.rollback()
    assert deliver_outbox(factory) == 0 and session.scalar(select(OutboxEmail.attempts)) == 1  # waits its turn
    session.rollback()
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(timedelta(days=1))
        deliver_outbox(factory)
    session.refresh(outbox)
    assert (outbox.status, outbox.attempts) == ("failed", MAX_ATTEMPTS)
    failures = _events(session, "notification.email_failed")
    assert len(failures) == MAX_ATTEMPTS and '"gave_up":true' in failures[-1].payload


@pytest.mark.parametrize("variable, value, message", [
    ("QA_SMTP_TLS", "tls1.3", "QA_SMTP_TLS must be starttls, ssl or none"),
    ("QA_SMTP_PORT", "smtp", "QA_SMTP_PORT must be a port number"),
    ("QA_SMTP_SENDER", "", "QA_SMTP_SENDER"),
])
def test_bad_smtp_settings_are_named(monkeypatch, variable, value, message):
    monkeypatch.setenv("QA_SMTP_HOST", "mail.example")
    monkeypatch.setenv("QA_SMTP_SENDER", "qa@example")
    monkeypatch.setenv(variable, value)
    with pytest.raises(SmtpConfigurationError, match=message):
        smtp_settings()


def test_default_port_follows_the_security_mode(monkeypatch):
    monkeypatch.setenv("QA_SMTP_HOST", "mail.example")
    monkeypatch.setenv("QA_SMTP_SENDER", "qa@example")
    monkeypatch.delenv("QA_SMTP_PORT", raising=False)
    for mode, port in (("starttls", 587), ("ssl", 465), ("none", 25)):
        monkeypatch.setenv("QA_SMTP_TLS", mode)
        assert smtp_settings().port == port


def test_a_new_task_notifies_its_assignee_with_a_link(session, monkeypatch):
    monkeypatch.delenv("QA_SMTP_HOST", raising=False)
    auditor, moderator = user_named(session, "tm.mash1"), user_named(session, "hos.cincp")
    case = session.scalar(select(Case).join(Team).where(Team.manager_id != auditor.id).order_by(Case.id))
    audit = allocate_audit(session, AllocationRequest(case.reference, auditor.id, moderator.id),
                           user_named(session, "qa.lead"))
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == audit.instance_id))
    (note,) = session.scalars(select(Notification).where(Notification.recipient_id == auditor.id)).all()
    assert note.kind == "new_task" and note.link == f"/tasks/{task.id}"
    assert note.subject == f"New task: Prepare the audit (case {case.reference}, {audit.reference})"
    assert str(audit.due_on.year) in note.text


def test_opening_marks_read_and_only_the_recipient_may(session, monkeypatch):
    monkeypatch.delenv("QA_SMTP_HOST", raising=False)
    qa_lead, other = user_named(session, "qa.lead"), user_named(session, "qa.officer1")
    first = notify(session, qa_lead.id, "escalation", "One", "Text")
    notify(session, qa_lead.id, "escalation", "Two", "Text")
    session.commit()
    assert unread_count(session, qa_lead.id) == 2
    with pytest.raises(NotAllowed):
        open_notification(session, first.id, other)
    open_notification(session, first.id, qa_lead)
    session.commit()
    assert unread_count(session, qa_lead.id) == 1 and len(_events(session, "notification.read")) == 1
    assert mark_all_read(session, qa_lead) == 1
    session.commit()
    assert unread_count(session, qa_lead.id) == 0
    assert mark_all_read(session, qa_lead) == 0


def test_a_role_is_notified_as_its_holders_stand_within_one_transaction(session):
    from engine.accounts import UserRole
    from engine.notifications import notify_role
    holders = {n.recipient_id for n in notify_role(session, "participation_officer", "new_task", "First", "First.")}
    newcomer = user_named(session, "qa.lead")
    assert newcomer.id not in holders
    session.add(UserRole(user_id=newcomer.id, role="participation_officer"))
    second = {n.recipient_id for n in notify_role(session, "participation_officer", "new_task", "Second", "Second.")}
    assert second == holders | {newcomer.id}
    session.rollback()
    third = {n.recipient_id for n in notify_role(session, "participation_officer", "new_task", "Third", "Third.")}
    assert third == holders
