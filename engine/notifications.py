"""Notifications: each person's list in the app, and an email for each when SMTP is set up.

`notify` is the one way to tell someone something: it writes the in-app
notification and, when email is configured (engine/email_delivery.py) and the person
has an address, an outbox email that the scheduler sends after the transaction
commits. Every notification is recorded in the audit trail by recipient, kind and
subject; the body is not copied there. Callers write case references and links,
never a child's details: the text goes out by email.
"""
from datetime import date

from sqlalchemy import event as sa_event, func, select, update
from sqlalchemy.orm import Session, lazyload

from engine.accounts import ROLES, User, UserRole
from engine.clock import clock
from engine.email_delivery import email_bodies, smtp_configured
from engine.notification_models import Notification, OutboxAttachment, OutboxEmail
from engine.runtime import events, instances
from engine.runtime.errors import NotAllowed, WorkflowError
from engine.runtime.models import HumanTask, ProcessInstance
from engine.runtime.registry import built_model_for, version_for

KIND_LABELS = {
    "new_task": "New task",
    "reminder": "Reminder",
    "overdue": "Overdue",
    "escalation": "Escalation",
    "inadequate_audit": "Inadequate audit",
    "survey_invitation": "Practitioner survey",
    "survey_reminder": "Practitioner survey reminder",
}
LIST_LIMIT = 200


class NotificationNotFound(WorkflowError):
    """There is no notification with that id."""


def notify(session: Session, recipient_id: int, kind: str, subject: str, text: str, *,
           link: str | None = None, html: str | None = None,
           attachments: list[tuple[str, str, bytes]] = (), instance_id: int | None = None) -> Notification:
    """Tell `recipient_id` something: an in-app notification, plus an email once committed.

    `attachments` are (file name, content type, bytes), sent with the email only. With
    `instance_id`, the event joins that process's trail (an audit's history shows who
    was told what, and when)."""
    return _notify_people(session, [_recipient(session, recipient_id)], kind, subject, text, link=link, html=html,
                          attachments=attachments, instance_id=instance_id)[0]


def notify_each(session: Session, kind: str, letters: list[tuple[int, str, str]], *,
                link: str | None = None) -> list[Notification]:
    """`notify` for several people at once, each with their own (recipient id, subject, text):
    written in one INSERT (a cycle tells every team manager what it drew from their team)."""
    if not letters:
        return []
    return _write(session, [(_recipient(session, recipient_id), subject, text) for recipient_id, subject, text in letters],
                  kind, link=link)


# Built once: building the option cost as much as the rest of a look-up that finds the person in the session.
_WITHOUT_ROLES = (lazyload(User.role_rows),)


def _recipient(session: Session, recipient_id: int) -> User:
    recipient = session.get(User, recipient_id, options=_WITHOUT_ROLES)
    if recipient is None:
        raise ValueError(f"No user {recipient_id} to notify")
    return recipient


def notify_role(session: Session, role: str, kind: str, subject: str, text: str, *,
                link: str | None = None, instance_id: int | None = None) -> list[Notification]:
    """Notify every active holder of `role` (for work offered to a role rather than a person)."""
    return _notify_people(session, _role_holders(session, role), kind, subject, text, link=link,
                          instance_id=instance_id)


_ROLE_HOLDERS = "role_holders"


def _role_holders(session: Session, role: str) -> list[User]:
    """The active holders of `role`, read once per transaction: a scheduler's batch of
    timers notifies the same role for every instance it fires.

    The list is forgotten when the transaction ends and whenever a flush writes a person
    or a role, so a role granted earlier in the same transaction is seen."""
    if _people_changed(session):  # not flushed yet: the query below will write them
        session.info.pop(_ROLE_HOLDERS, None)
    known = session.info.get(_ROLE_HOLDERS, {})
    if role not in known:
        holders = session.scalars(select(User).join(UserRole).where(
            UserRole.role == role, User.active.is_(True)).order_by(User.id)
            .options(lazyload(User.role_rows))).all()
        session.info.setdefault(_ROLE_HOLDERS, {})[role] = holders
        return holders
    return known[role]


def _people_changed(session: Session) -> bool:
    return any(isinstance(changed, (User, UserRole)) for changed in (*session.new, *session.dirty, *session.deleted))


@sa_event.listens_for(Session, "after_flush")
def _forget_role_holders_when_people_change(session: Session, flush_context) -> None:
    if _people_changed(session):  # still the flushed objects during after_flush
        session.info.pop(_ROLE_HOLDERS, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_role_holders_on_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(_ROLE_HOLDERS, None)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_role_holders_at_the_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # the session's own transaction, not a savepoint inside it
        session.info.pop(_ROLE_HOLDERS, None)


def _notify_people(session: Session, recipients: list[User], kind: str, subject: str, text: str, *,
                   link: str | None = None, html: str | None = None,
                   attachments: list[tuple[str, str, bytes]] = (),
                   instance_id: int | None = None) -> list[Notification]:
    """One notification each for `recipients`, written in one INSERT (a role's holders are
    told together), then each one's email and event. Their roles are not read: a timer or
    task completion notifying a role would otherwise cost two queries per person."""
    return _write(session, [(recipient, subject, text) for recipient in recipients], kind, link=link, html=html,
                  attachments=attachments, instance_id=instance_id)


def _write(session: Session, letters: list[tuple[User, str, str]], kind: str, *, link: str | None = None,
           html: str | None = None, attachments: list[tuple[str, str, bytes]] = (),
           instance_id: int | None = None) -> list[Notification]:
    """The notifications of `letters` (recipient, subject, text) in one INSERT, then each one's email and event."""
    now = clock.now()
    notifications = [Notification(recipient_id=recipient.id, kind=kind, subject=subject[:200], text=text,
                                  html=html, link=link, created_at=now) for recipient, subject, text in letters]
    session.add_all(notifications)
    session.flush()  # their ids name them in the outbox and the trail
    emailing = smtp_configured()
    for (recipient, subject, text), notification in zip(letters, notifications):
        emailed = emailing and bool(recipient.email) and recipient.active
        if emailed:
            text_body, html_body = email_bodies(subject, text, link, html)
            session.add(OutboxEmail(
                notification_id=notification.id, recipient_address=recipient.email, subject=subject[:200],
                text_body=text_body, html_body=html_body, created_at=now, next_attempt_at=now,
                attachments=[OutboxAttachment(filename=name, content_type=content_type, content=content)
                             for name, content_type, content in attachments]))
        events.record(session, "notification.sent", instance_id=instance_id,
                      subject=("notification", notification.id),
                      payload={"recipient_id": recipient.id, "kind": kind, "subject": subject, "email": emailed})
    return notifications


def unread_count(session: Session, user_id: int) -> int:
    """How many notifications `user_id` has not opened (shown in the page header)."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.recipient_id == user_id, Notification.read_at.is_(None))) or 0


def notifications_for(session: Session, user_id: int, limit: int = LIST_LIMIT) -> list[Notification]:
    """A person's notifications, newest first."""
    return list(session.scalars(select(Notification).where(Notification.recipient_id == user_id)
                                .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def open_notification(session: Session, notification_id: int, user: User) -> Notification:
    """One of `user`'s notifications, marked read the first time it is opened.

    Only its recipient may open it; opening is recorded, since it names a case."""
    notification = session.get(Notification, notification_id)
    if notification is None:
        raise NotificationNotFound("There is no such notification.")
    if notification.recipient_id != user.id:
        raise NotAllowed("This notification is not yours.")
    if notification.read_at is None:
        notification.read_at = clock.now()
        events.record(session, "notification.read", actor_id=user.id, subject=("notification", notification.id),
                      payload={"kind": notification.kind})
    return notification


def mark_all_read(session: Session, user: User) -> int:
    """Mark every unread notification of `user` read; returns how many there were."""
    result = session.execute(update(Notification)
                             .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
                             .values(read_at=clock.now()).execution_options(synchronize_session=False))
    if result.rowcount:
        events.record(session, "notification.all_read", actor_id=user.id, subject=("user", user.id),
                      payload={"count": result.rowcount})
    return result.rowcount


def kind_label(kind: str) -> str:
    """The kind as people read it; kinds other modules invent read from their key."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def format_date(day: date | None) -> str:
    """A date as people read it in letters: 21 December 2026."""
    return day.strftime("%-d %B %Y") if day else ""


def task_label(session: Session, task: HumanTask) -> str:
    """The step's name from the diagram, without the detail some titles add.

    A title may carry free text (an action's wording); notifications leave it out,
    because they go by email, where only case references belong."""
    instance = session.get(ProcessInstance, task.instance_id)
    model = built_model_for(version_for(session, instance.process_version_id))
    for process in (model.spec, *model.subprocess_specs.values()):
        spec = process.task_specs.get(task.spec_name)
        if spec is not None:
            return spec.bpmn_name or task.spec_name
    return task.spec_name


def task_reference(task: HumanTask) -> str:
    """'case CS123456, AUD-2026-00001': which piece of work a task belongs to, by reference only."""
    parts = [f"case {task.subject}" if task.subject else "", task.business_key]
    return ", ".join(part for part in parts if part)


def notify_task_ready(session: Session, task: HumanTask) -> None:
    """Tell whoever a new task is for: its assignee, or everyone in the role it is offered to."""
    label, reference = task_label(session, task), task_reference(task)
    subject = f"New task: {label}" + (f" ({reference})" if reference else "")
    lines = [f"{label}{' for ' + reference if reference else ''}."]
    if task.due_on:
        lines.append(f"It is due on {format_date(task.due_on)}.")
    link = f"/tasks/{task.id}"
    if task.assignee_id is not None:
        notify(session, task.assignee_id, "new_task", subject,
               "You have a new task in your inbox:\n\n" + "\n".join(lines), link=link, instance_id=task.instance_id)
    else:
        notify_role(session, task.role, "new_task", subject,
                    f"A new task is waiting for someone in your role ({ROLES.get(task.role, task.role)}) "
                    "to claim it:\n\n" + "\n".join(lines), link=link, instance_id=task.instance_id)


instances.TASK_READY_HOOKS.append(notify_task_ready)
