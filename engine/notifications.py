"""Notifications: each person's list in the app, and an email for each when SMTP is set up.

`notify` is the one way to tell someone something: it writes the in-app
notification and, when email is configured (engine/email_delivery.py) and the person
has an address, an outbox email that the scheduler sends after the transaction
commits. Every notification is recorded in the audit trail by recipient, kind and
subject; the body is not copied there. Callers write case references and links,
never a child's details: the text goes out by email.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import event as sa_event, func, select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.util import identity_key

from engine.accounts import ROLES, User, UserRole
from engine.clock import clock
from engine.database import insert_rows
from engine.email_delivery import email_bodies, smtp_configured
from engine.notification_models import Notification, OutboxAttachment, OutboxEmail
from engine.runtime import events, saving
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


@dataclass(frozen=True)
class Message:
    """One notification to write: to whom, what, and the process whose trail records it."""
    recipient: User
    kind: str
    subject: str
    text: str
    link: str | None = None
    html: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    instance_id: int | None = None


def notify(session: Session, recipient_id: int, kind: str, subject: str, text: str, *,
           link: str | None = None, html: str | None = None,
           attachments: list[tuple[str, str, bytes]] = (), instance_id: int | None = None) -> Notification:
    """Tell `recipient_id` something: an in-app notification, plus an email once committed.

    `attachments` are (file name, content type, bytes), sent with the email only. With
    `instance_id`, the event joins that process's trail (an audit's history shows who
    was told what, and when)."""
    recipient = _people_by_id(session, {recipient_id}).get(recipient_id)
    if recipient is None:
        raise ValueError(f"No user {recipient_id} to notify")
    return _send(session, [Message(recipient, kind, subject, text, link=link, html=html,
                                  attachments=tuple(attachments), instance_id=instance_id)])[0]


def notify_each(session: Session, kind: str, letters: list[tuple[int, str, str]], *,
                link: str | None = None) -> list[Notification]:
    """`notify` for several people at once, each with their own (recipient id, subject, text):
    written in one INSERT (a cycle tells every team manager what it drew from their team)."""
    people = _people_by_id(session, {recipient_id for recipient_id, _, _ in letters})
    unknown = {recipient_id for recipient_id, _, _ in letters} - people.keys()
    if unknown:
        raise ValueError(f"No user {min(unknown)} to notify")
    return _send(session, [Message(people[recipient_id], kind, subject, text, link=link)
                           for recipient_id, subject, text in letters])


def notify_role(session: Session, role: str, kind: str, subject: str, text: str, *,
                link: str | None = None, instance_id: int | None = None) -> list[Notification]:
    """Notify every active holder of `role` (for work offered to a role rather than a person)."""
    return _send(session, [Message(holder, kind, subject, text, link=link, instance_id=instance_id)
                          for holder in _role_holders(session, role)])


def _people_by_id(session: Session, ids: set[int]) -> dict[int, User]:
    """The people with these ids: those the session holds already, the rest in one query,
    without their roles (a notification needs only the address)."""
    people = {}
    for person_id in ids:
        person = session.identity_map.get(identity_key(User, person_id))
        if person is not None:
            people[person_id] = person
    missing = ids - people.keys()
    if missing:
        people.update((person.id, person) for person in session.scalars(
            select(User).where(User.id.in_(missing)).options(lazyload(User.role_rows))))
    return people


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


def _send(session: Session, messages: list[Message]) -> list[Notification]:
    """Write `messages` as notifications in one INSERT (a role's holders are told together,
    and a scheduler's batch of timers tells everyone at once), then each one's email and
    event. The recipients' roles are not read: that would cost two queries per person."""
    now = clock.now()
    notifications = insert_rows(session, Notification, [
        dict(recipient_id=message.recipient.id, kind=message.kind, subject=message.subject[:200], text=message.text,
             html=message.html, link=message.link, created_at=now, read_at=None) for message in messages])
    emailing = smtp_configured()
    for message, notification in zip(messages, notifications):
        recipient = message.recipient
        emailed = emailing and bool(recipient.email) and recipient.active
        if emailed:
            text_body, html_body = email_bodies(message.subject, message.text, message.link, message.html)
            session.add(OutboxEmail(
                notification_id=notification.id, recipient_address=recipient.email, subject=message.subject[:200],
                text_body=text_body, html_body=html_body, created_at=now, next_attempt_at=now,
                attachments=[OutboxAttachment(filename=name, content_type=content_type, content=content)
                             for name, content_type, content in message.attachments]))
        events.record(session, "notification.sent", instance_id=message.instance_id,
                      subject=("notification", notification.id),
                      payload={"recipient_id": recipient.id, "kind": message.kind, "subject": message.subject,
                               "email": emailed})
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


def notify_tasks_ready(session: Session, tasks: list[HumanTask]) -> None:
    """Tell whoever each new task is for: its assignee, or everyone in the role it is offered to.

    Registered as the runtime's task-ready hook: a scheduler's batch of timers hands over all
    its new tasks at once, and they are told in one INSERT, their assignees read in one query."""
    assignees = _people_by_id(session, {task.assignee_id for task in tasks if task.assignee_id is not None})
    messages = []
    for task in tasks:
        label, reference = task_label(session, task), task_reference(task)
        subject = f"New task: {label}" + (f" ({reference})" if reference else "")
        lines = [f"{label}{' for ' + reference if reference else ''}."]
        if task.due_on:
            lines.append(f"It is due on {format_date(task.due_on)}.")
        link = f"/tasks/{task.id}"
        if task.assignee_id is not None:
            if task.assignee_id not in assignees:
                raise ValueError(f"No user {task.assignee_id} to notify")
            messages.append(Message(assignees[task.assignee_id], "new_task", subject,
                                    "You have a new task in your inbox:\n\n" + "\n".join(lines), link=link,
                                    instance_id=task.instance_id))
        else:
            text = (f"A new task is waiting for someone in your role ({ROLES.get(task.role, task.role)}) "
                    "to claim it:\n\n" + "\n".join(lines))
            messages += [Message(holder, "new_task", subject, text, link=link, instance_id=task.instance_id)
                         for holder in _role_holders(session, task.role)]
    _send(session, messages)


saving.TASK_READY_HOOKS.append(notify_tasks_ready)
